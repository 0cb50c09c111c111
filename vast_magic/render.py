"""Display objects: text for a terminal, HTML for Jupyter."""

from __future__ import annotations

import html
import json
import time

from .api.client import redact
from .api.errors import finite, format_duration, printable


class RawAnswer(dict):
    """The server's answer as a plain dict (``--raw``).

    It *is* the dict (``r["secret"]``, ``json.dumps(r)`` work), but when a
    cell displays it the secret fields are masked, so they do not land in a
    saved notebook by accident.
    """

    def __repr__(self) -> str:
        return repr(redact(dict(self)))

    def _repr_pretty_(self, p, cycle):
        p.text(json.dumps(redact(dict(self)), indent=1))


def _when(value) -> str:
    if value in (None, "", 0):
        return "—"
    if finite(value) is not None:
        try:
            return time.strftime("%Y-%m-%d %H:%M", time.localtime(value))
        except (OverflowError, OSError, ValueError):
            pass
    return _text(value)


def _lock(value, now: float) -> str:
    until = finite(value)
    if until is not None and until > now:
        return f"locked, {format_duration(until - now)} left"
    return "—"


def _text(value) -> str:
    """A value from the server as table text: printable, short."""
    return printable(value, 40)


COLUMNS = ("id", "type", "label", "primary", "phone", "failures", "lock", "last used")


class StatusView:
    """``%vast tfa status``: a table as text in a terminal, HTML in Jupyter."""

    def __init__(self, data: dict, now: float | None = None, sending: str = "",
                 locks: list[tuple[str, float]] = ()):
        self.data = data
        self.now = time.time() if now is None else now
        self.sending = sending  # which key the magic sends, and from where (never the key)
        self.locks = locks  # (what, until): locks seen in this session that have no row

    def rows(self) -> list[tuple[str, ...]]:
        rows = []
        for m in self.data.get("methods") or []:
            rows.append((
                _text(m.get("id", "")),
                _text(m.get("method", "")),
                _text(m.get("label") or "—"),
                "yes" if m.get("is_primary") else "",
                _text(m.get("phone_number") or "—"),
                _text(m.get("fail_count") or 0),
                _lock(m.get("locked_until"), self.now),
                _when(m.get("last_used")),
            ))
        return rows

    def summary(self) -> list[str]:
        d = self.data
        lines = [f"2FA is {'on' if d.get('tfa_enabled') else 'off'}; "
                 f"{len(d.get('methods') or [])} method(s); "
                 f"{_text(d.get('backup_codes_remaining', 0))} backup code(s) left."]
        lines += [f"{what[0].upper()}{what[1:]} is locked ({format_duration(until - self.now)} "
                  "left, as a refusal in this session said)." for what, until in self.locks]
        if d.get("new_method_authorized"):
            lines.append("A new method may be added now (the 30-minute window is open).")
        if self.sending:
            lines.append(f"%vast sends {self.sending}.")
        return lines

    def __repr__(self) -> str:
        rows = self.rows()
        lines = self.summary()
        if rows:
            widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
            fmt = "  ".join(f"{{:<{w}}}" for w in widths)
            lines += ["", fmt.format(*COLUMNS).rstrip(),
                      fmt.format(*("-" * w for w in widths))]
            lines += [fmt.format(*r).rstrip() for r in rows]
        else:
            lines.append("No methods yet: `%vast tfa auth-new` is the first step to add one.")
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle):
        p.text(repr(self))

    def _repr_html_(self) -> str:
        esc = html.escape
        parts = [f"<p>{esc(line)}</p>" for line in self.summary()]
        rows = self.rows()
        if rows:
            head = "".join(f"<th>{esc(c)}</th>" for c in COLUMNS)
            body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>"
                           for r in rows)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        else:
            parts.append("<p>No methods yet: <code>%vast tfa auth-new</code> is the first step "
                         "to add one.</p>")
        return "\n".join(parts)


def grouped(secret: str) -> str:
    """``ABCD EFGH IJKL ...``: a base32 key in fours, for typing into an app."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


class TotpKey:
    """A new authenticator key: a QR code and the key to type by hand.

    In a terminal the QR code is text blocks drawn black on white whatever the
    terminal's theme, so it scans from a dark or a light one; in Jupyter it is
    an inline SVG.  The QR code is made by segno (imported when one is drawn).
    """

    def __init__(self, secret: str, uri: str):
        self.secret, self.uri = secret, uri

    def _qr(self):
        import segno  # only when a QR code is drawn

        return segno.make(self.uri, error="m", micro=False)

    def terminal_text(self) -> str:
        rows = [list(row) for row in self._qr().matrix_iter(border=4)]
        if len(rows) % 2:
            rows.append([0] * len(rows[0]))
        blocks = {(0, 0): " ", (1, 0): "▀", (0, 1): "▄", (1, 1): "█"}
        lines = ["\x1b[30;107m" + "".join(blocks[bool(top), bool(bottom)]
                                          for top, bottom in zip(upper, lower)) + "\x1b[0m"
                 for upper, lower in zip(rows[::2], rows[1::2])]
        return "\n".join(lines + [self._words()])

    def _words(self) -> str:
        return (f"Scan it with your authenticator app, or type in the key: {grouped(self.secret)}")

    def _repr_html_(self) -> str:
        svg = self._qr().svg_inline(scale=4, dark="#000", light="#fff")
        return (f"<div>{svg}<p>Scan it with your authenticator app, or type in the key: "
                f"<code>{html.escape(grouped(self.secret))}</code></p></div>")

    def __repr__(self) -> str:
        return "<authenticator key and QR code: shown once>"


class BackupCodes:
    """Backup codes to show once: one per line, and a reminder of what they are."""

    def __init__(self, codes: list[str]):
        self.codes = [str(c) for c in codes]

    def text(self) -> str:
        return "\n".join([f"Your {len(self.codes)} backup codes (each works once; store them "
                          "somewhere safe, they are shown only now):",
                          *("  " + c for c in self.codes)])

    def _repr_html_(self) -> str:
        items = "".join(f"<li><code>{html.escape(c)}</code></li>" for c in self.codes)
        return (f"<p>Your {len(self.codes)} backup codes (each works once; store them somewhere "
                f"safe, they are shown only now):</p><ul>{items}</ul>")

    def __repr__(self) -> str:
        return self.text()


class Keepsake:
    """Backup codes kept in the namespace when nobody could be shown them: the
    display masks them; ``.codes`` hands them over, deliberately."""

    def __init__(self, codes: list[str]):
        self.codes = list(codes)

    def __repr__(self) -> str:
        return (f"<{len(self.codes)} backup codes, hidden: .codes gives them; store them "
                "safely, then del this>")

    def _repr_html_(self) -> str:
        return html.escape(repr(self))
