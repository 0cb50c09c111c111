"""RFC 6238 codes, through pyotp.

pyotp comes with the ``emulator`` extra; it is imported on first use, so the
package imports (and serves email and SMS codes) without it.
"""

from __future__ import annotations

#: One 30-second step of tolerance each way.
VALID_WINDOW = 1


def available() -> bool:
    """Whether pyotp can be imported."""
    try:
        import pyotp  # noqa: F401
    except ImportError:
        return False
    return True


def random_secret() -> str:
    """A fresh base32 secret."""
    import pyotp

    return pyotp.random_base32()


def code_at(secret: str, t: float) -> str:
    """The code an authenticator app shows at time ``t``."""
    import pyotp

    return pyotp.TOTP(secret).at(t)


def verify(secret: str, code: str, t: float) -> bool:
    import pyotp

    return pyotp.TOTP(secret).verify(code, for_time=t, valid_window=VALID_WINDOW)


def provisioning_uri(secret: str, email: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="Vast.ai")
