"""Values several modules need.  Imports nothing, so anything may import it."""

DEFAULT_URL = "https://console.vast.ai"
PROMPT_CHOICES = ("auto", "terminal", "kernel", "never")
METHOD_TYPES = ("email", "sms", "totp")

CODE_LIFE_MINUTES = 10   # a sent code and its challenge are valid this long
LOCK_MINUTES = 15        # a method locked by too many wrong codes stays locked this long
WINDOW_MINUTES = 30      # a successful auth-new lets a method be added this long
FAIL_LIMITS = {"sms": 3, "totp": 5}  # wrong codes that lock a method (documented ones)

#: Where each kind of pending challenge is kept in the user namespace, and how
#: messages name it.  ``_vast_pending_tfa`` is documented (auth-new's).
PENDING = {
    "authorize": ("_vast_pending_tfa", "authorization"),
    "totp_setup": ("_vast_pending_totp_setup", "authenticator app setup"),
    "sms_setup": ("_vast_pending_sms_setup", "SMS setup"),
    "verify": ("_vast_pending_verification", "verification"),
}
#: Backup codes and keys the user must see once, kept here when nobody could see them.
KEEPSAKE_NAME = "_vast_backup_codes"
LABEL_MAX = 30  # characters the server accepts in a method's label
PENDING_NAME = PENDING["authorize"][0]
