"""The registry: every ``%vast`` command, in the order help lists them.

The argparse tree, ``%vast?``, tab completion and docs/reference.md are all
built from :data:`REGISTRY`; adding a command is a new module with a
``COMMAND`` and one line here.
"""

from . import (activate, auth_new, delete, login, logout, regen_codes, resend_sms,
               send_email, send_sms, set_api_key, status, totp_setup, update)
from .base import Command

#: The words that group commands: (short help, description).
GROUPS = {
    "tfa": ("two-factor authentication (2FA)", "Two-factor authentication (2FA) commands."),
    "set": ("store settings", "Store settings."),
}

REGISTRY: tuple[Command, ...] = (
    auth_new.COMMAND,
    totp_setup.COMMAND,
    send_sms.COMMAND,
    resend_sms.COMMAND,
    activate.COMMAND,
    send_email.COMMAND,
    login.COMMAND,
    logout.COMMAND,
    delete.COMMAND,
    regen_codes.COMMAND,
    update.COMMAND,
    status.COMMAND,
    set_api_key.COMMAND,
)
