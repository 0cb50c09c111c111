"""A local, stateful emulator of the Vast.ai 2FA REST API.

It serves every 2FA endpoint of the API reference over real HTTP on
127.0.0.1, with the documented request bodies, answers, HTTP statuses and
error codes, so tests, notebooks and the demo need no network.

Starting it
===========

From a shell::

    python -m vast_magic.emulator              # a free port
    python -m vast_magic.emulator --port 8765 --print-outbox

It prints its URL (``http://127.0.0.1:PORT``) and the demo API keys, serves
until Ctrl-C (or SIGTERM), then stops cleanly with exit status 0. Without
pyotp (installed without the ``emulator`` extra) it says to ``pip install
'vast-magic[emulator]'`` and exits with status 2; from Python, everything but
TOTP codes works without it.
``--print-outbox`` prints each code to stderr as it is "sent"; ``--verbose``
logs each request. Point a client at it with ``VAST_URL=http://127.0.0.1:PORT``.

From Python::

    from vast_magic.emulator import Emulator, DEMO_KEYS

    with Emulator(port=0) as emu:            # port=0: a free port
        emu.url                              # "http://127.0.0.1:PORT"
        ...                                  # stopped (connections closed) on exit

``emu.start()`` / ``emu.stop()`` work without ``with``; ``stop()`` is
idempotent and ``start()`` may be called again. ``Emulator(on_send=f)`` calls
``f(message)`` for each code sent (in the server thread, without the lock).

In pytest, add ``pytest_plugins = ["vast_magic.emulator.pytest_plugin"]`` to a
conftest.py and take the ``vast_emulator`` fixture: a fresh, started emulator
per test.

Demo accounts (``DEMO_KEYS``; restored by ``emu.reset()``)
==========================================================

=============  ========================================  =====================================
name           API key                                   account
=============  ========================================  =====================================
``fresh``      ``demo-fresh-000000000000000000001``      verified email, no 2FA method
``multi``      ``demo-multi-000000000000000000002``      verified email; TOTP 101 (secret
                                                         ``DEMO_TOTP_SECRET``), SMS 102
                                                         ``+15551230102`` (primary), SMS 103
                                                         ``+15551230103``; backup codes
                                                         ``DEMO-CODE-0001`` ... ``DEMO-CODE-0010``
``unverified`` ``demo-unverified-0000000000000003``      email not verified, no 2FA method
=============  ========================================  =====================================

Declare more from a test::

    acct = emu.add_account(api_key=None, email="user@example.com", email_verified=True,
                           backup_codes=None)   # None key: random; None codes: ten fresh
    sms = acct.add_sms(phone="+15551234567", label="phone", is_primary=False)
    app = acct.add_totp(label="authenticator")  # app.secret is a real base32 secret
    emu.totp_now(app)                           # what the authenticator app shows now
    acct.authorize()                            # open the 30-minute add-method window
    emu.create_session(acct.api_key)            # a 2FA session key, as login returns

Reading the codes it "sends" (the outbox)
=========================================

Email and SMS codes are not sent anywhere: they land in the outbox, which
anyone can read as the person would read their inbox or phone.

From Python: ``emu.outbox`` (list-like of ``Message(channel, to, code, text,
sent_at, api_key)``), ``emu.last_code(api_key=None, channel=None)`` (the code
of the newest matching message, or None), ``emu.messages(api_key, channel)``.

Over HTTP (the side-door, under ``/_emulator/``, which cannot clash with the
API)::

    curl http://127.0.0.1:PORT/_emulator/outbox
    curl 'http://127.0.0.1:PORT/_emulator/outbox?api_key=demo-multi-000000000000000000002&channel=sms'
    curl http://127.0.0.1:PORT/_emulator/outbox/last      # {"code": "123456", "message": {...}}

Each message's text reads ``Your Vast.ai verification code is 123456. It
expires in 10 minutes.``. The side-door also has ``/_emulator/log``,
``/_emulator/clock`` (``POST /_emulator/clock/advance {"seconds": 601}``),
``/_emulator/fail-next``, ``/_emulator/reset``, ``/_emulator/accounts`` and
``/_emulator/totp?api_key=...``; ``GET /_emulator/`` lists them all (see
:mod:`vast_magic.emulator.sidedoor`).

The API it serves
=================

Paths are served under ``/api/v0/`` and also without it (``/tfa/status/``);
the trailing slash is optional. Auth is ``Authorization: Bearer <key>`` (an
API key, or a session key from login). Every error is ``{"error": code,
"msg": text, ...}`` with the reference's status (:data:`ERRORS`).

- ``POST /tfa/authorize-new-method/``: exactly one of ``tfa_method``
  (``email``/``sms``/``totp``), ``tfa_method_id`` (an integer, or a string
  of digits as the official CLI sends, here and everywhere else) or
  ``backup_code``. An account without methods always gets an email code.
  Answers ``{"success": true, "secret": ...}`` (a fresh random secret, valid
  10 minutes), or for a backup code ``{"success": true, "msg":
  "Authorization successful."}``.
- ``PUT /tfa/authorize-new-method/`` ``{"code", "secret"}``: opens the
  30-minute add-method window.
- ``GET /tfa/status/``, ``POST /tfa/email/``, ``POST /tfa/sms/``
  (``phone_number`` for a new phone, or ``tfa_method_id``),
  ``POST /tfa/sms/resend/`` (``secret``; a new code, the same secret),
  ``POST /tfa/totp-setup/``, ``POST /tfa/confirm-new/`` (backup codes when it
  is the first method), ``POST /tfa/`` (login: user object plus
  ``session_key``; sent with a session key, that key refreshed),
  ``DELETE /tfa/`` (``target_id``), ``PUT /tfa/regen-backup-codes/``,
  ``PUT /tfa/update/``.
- What the official CLI asks besides (logged, never faulted):
  ``GET /users/current`` (the user object) and ``GET /gpu_names/unique/``
  (no key; ``{"gpu_names": []}``).

Rules (emulator clock): sent codes and challenges live 10 minutes
(``2fa_expired``, and the challenge is gone); a wrong code answers 400
``2fa_verification_failed`` with ``fail_count`` and ``locked_until: null``;
the failure that reaches the limit (3 for SMS, 5 for TOTP, **5 for email** —
the emulator's choice) answers 429 ``tfa_locked`` with ``locked_until =
now + 900``, and so does every attempt while locked (not counted). A lock
is per method (email has its own counter) and ends after 15 minutes. A right
code resets the counter. TOTP codes are checked per RFC 6238 (pyotp, one
30-second step of tolerance each way). Backup codes are ``XXXX-XXXX-XXXX``,
one use each (compared without regard to case). Session keys live 1 hour;
an expired one answers 404 ``auth_error`` "Session expired. Please log in
again."; a missing or unknown key answers 401 ``auth_error`` "Invalid user
key".
``confirm-new`` does not close the window. ``POST /tfa/sms/`` to the same
phone within 60 s of the previous one answers ``tfa_challenge_exists``.

Operational errors: ``emu.fail_next(n, error="service_unavailable")`` (any
code of the table) answers the next ``n`` requests with that JSON and its
status. SMS to these numbers fail (:data:`SPECIAL_PHONES`): ``+15005550001``
``twilio_error``, ``...0002`` ``sms_blocked_number``, ``...0003``
``sms_rate_limited``, ``...0004`` ``twilio_rate_limited``, ``...0005``
``preauth_phone_cap``, ``...0006`` ``sms_fraud_detected``, ``...0007``
``challenge_creation_failed``. An account declared with ``team=True``
answers ``team_user_forbidden`` everywhere.

Emulator-only answers: unknown path 404 ``not_found``; wrong HTTP method 405
``method_not_allowed`` (with ``Allow``); body over 64 KiB 413 ``bad_request``;
chunked body 411 ``bad_request``; invalid JSON, a non-object body or a wrong
type 400 ``bad_request``; an empty body counts as ``{}``.

Test controls
=============

- ``emu.clock``: ``now()``, ``advance(seconds)``, ``set(epoch)``,
  ``freeze()``, ``unfreeze()``, ``reset()`` — the time the server uses for
  everything (starts at real time), so expiry and lockouts take milliseconds.
- ``emu.fail_next(n=1, status=503, body=None, retry_after=None, delay=0.0,
  drop=False, error=None, msg=None)``: the next ``n`` API requests get the
  fault: ``delay`` alone delays and answers normally; ``status`` with an HTML
  body (or ``body``); ``retry_after`` adds ``Retry-After``; ``drop=True``
  closes the connection without answering; ``error=`` the documented JSON.
  Side-door requests are never faulted.
- ``emu.log``: list-like of ``LoggedRequest(method, path, headers, body,
  json, query, time, client)`` for each API request (headers as sent, in a
  dict whose lookups ignore case; ``client`` is the peer's ``host:port``, the
  same for requests on one keep-alive connection).
- ``emu.reset()``: demo accounts only, empty outbox, log, faults and sessions,
  clock at real time.

They refuse (ValueError; 400 ``bad_request`` over the side-door) a clock move
or time that is not a finite number, and a fault that could not be sent as a
well-formed answer: a negative or non-finite ``delay`` or ``retry_after``, a
``status`` outside 100-599, a body on 1xx, 204 or 304, control characters
(CR, LF, ...) in ``retry_after`` or ``content_type``.

Transport: the standard library's threaded HTTP/1.1 server (keep-alive; no
hand-written parsing), thread-safe (one lock around the state); each answer
leaves in a single socket write with ``TCP_NODELAY``.

Modules
=======

- :mod:`~vast_magic.emulator.model`: the state and the rules (accounts,
  methods, challenges, sessions, codes, locks, the add-method window, the
  outbox, sending), with no HTTP; ``emu.model`` is its
  :class:`~vast_magic.emulator.model.TfaModel` (hold ``emu.model.lock`` to
  change several things at once).
- :mod:`~vast_magic.emulator.state`: the objects it keeps (clock, accounts,
  methods, challenges, messages, records).
- :mod:`~vast_magic.emulator.errors`: :data:`ERRORS` and :class:`ApiError`.
- :mod:`~vast_magic.emulator.api`: the endpoints over HTTP (paths, bodies,
  field types, statuses, error JSON), calling the model.
- :mod:`~vast_magic.emulator.sidedoor`: the ``/_emulator/`` routes.
- :mod:`~vast_magic.emulator.faults`: ``fail_next``'s faults, checked.
- :mod:`~vast_magic.emulator.totp`: RFC 6238 codes (pyotp, imported on use).
- :mod:`~vast_magic.emulator.server`: the HTTP transport.
- :mod:`~vast_magic.emulator.core`: :class:`Emulator`, which ties them together.
"""

from .core import Emulator
from .errors import ERRORS, ApiError
from .model import (
    DEMO_BACKUP_CODES,
    DEMO_KEYS,
    DEMO_PHONES,
    DEMO_TOTP_SECRET,
    SPECIAL_PHONES,
)
from .state import Account, Clock, LoggedRequest, Message, Method

__all__ = [
    "DEMO_BACKUP_CODES",
    "DEMO_KEYS",
    "DEMO_PHONES",
    "DEMO_TOTP_SECRET",
    "ERRORS",
    "SPECIAL_PHONES",
    "Account",
    "ApiError",
    "Clock",
    "Emulator",
    "LoggedRequest",
    "Message",
    "Method",
]
