"""What cells display: the pending challenge, --raw answers, the status table."""

from __future__ import annotations

from vast_magic.api.challenge import Challenge
from vast_magic.render import RawAnswer, StatusView


def test_pending_repr_masks_the_secret():
    pending = Challenge(secret="TOPSECRET123", method="email")
    assert "TOPSECRET123" not in repr(pending)
    assert "TOPSECRET123" not in pending._repr_html_()
    assert "secret hidden" in repr(pending) and pending.secret == "TOPSECRET123"
    assert "pending 2FA authorization" in repr(pending)


def test_raw_answer_is_a_dict_that_displays_masked():
    from IPython.lib.pretty import pretty

    raw = RawAnswer({"success": True, "secret": "TOPSECRET"})
    assert raw["secret"] == "TOPSECRET" and isinstance(raw, dict)
    assert "TOPSECRET" not in repr(raw) and "TOPSECRET" not in pretty(raw)


def test_status_view_without_methods():
    view = StatusView({"tfa_enabled": False, "methods": [], "backup_codes_remaining": 0})
    assert "2FA is off" in repr(view) and "%vast tfa auth-new" in repr(view)
    assert "<table>" not in view._repr_html_()
