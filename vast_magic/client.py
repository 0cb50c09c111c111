"""The one HTTP client: base URL, auth header, retries, timeouts, --explain.

Commands never touch ``requests``; they call :meth:`Client.call` and get the
answer's JSON or a :class:`~vast_magic.errors.VastError`.  ``requests`` is
imported on first use, not when the extension loads.
"""

from __future__ import annotations

import email.utils
import json
import time
from typing import Callable

from . import __version__
from .errors import VastError, from_answer

RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Answers that must never be repeated: the code was judged, or the server
# throttles on purpose.  Re-sending would count towards a lockout.
NO_RETRY_CODES = frozenset({"tfa_locked", "2fa_verification_failed", "sms_rate_limited",
                            "twilio_rate_limited", "preauth_phone_cap"})
SECRET_FIELDS = frozenset({"secret", "code", "backup_code", "backup_codes", "session_key",
                           "provisioning_uri", "api_key"})
REDACTED = "<redacted>"


def new_session():
    """A requests.Session for the life of one shell (connections are reused)."""
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = f"vast-magic/{__version__}"
    return session


def redact(value):
    """A copy of a JSON value with secret fields replaced."""
    if isinstance(value, dict):
        return {k: (REDACTED if k in SECRET_FIELDS and v not in (None, "") else redact(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def api_url(base: str, path: str) -> str:
    """``https://host`` + ``/tfa/status/`` → ``https://host/api/v0/tfa/status/``."""
    base = base.rstrip("/")
    if not base.endswith("/api/v0"):
        base += "/api/v0"
    return base + "/" + path.lstrip("/")


def _retry_after(headers) -> float | None:
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _refused(exc: BaseException) -> bool:
    """Did the connection fail before anything was sent (refused, no route)?"""
    seen = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ConnectionRefusedError):
            return True
        if type(e).__name__ in ("NewConnectionError", "NameResolutionError"):
            return True
        stack.extend([getattr(e, "reason", None), e.__cause__, e.__context__])
        stack.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
    return False


class Client:
    """Speaks to the Vast REST API for one magic call, over a shared session."""

    def __init__(self, session, url: str, api_key: str | None, *, attempts: int = 3,
                 timeout: float = 30.0, retry_after_cap: float = 30.0,
                 explain: Callable[[str], None] | None = None, key_source: str | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.session = session
        self.url = url
        self.api_key = api_key
        self.attempts = max(1, int(attempts))
        self.timeout = float(timeout)
        self.retry_after_cap = float(retry_after_cap)
        self.explain = explain
        self.key_source = key_source
        self.sleep = sleep

    def _say(self, text: str) -> None:
        if self.explain is not None:
            self.explain(text)

    def _say_request(self, method: str, url: str, body: dict | None, attempt: int) -> None:
        shown = "" if body is None else " " + json.dumps(redact(body))
        auth = " (Authorization: Bearer <redacted>)" if self.api_key else " (no API key)"
        again = f"  [attempt {attempt} of {self.attempts}]" if attempt > 1 else ""
        self._say(f"→ {method} {url}{shown}{auth}{again}")

    def call(self, method: str, path: str, body: dict | None = None, *, unsafe: bool = False,
             context: dict | None = None, attempts: int | None = None) -> dict:
        """Send one request (with retries) and return the JSON answer.

        ``unsafe`` marks a request the server may already have acted on
        (one that emails or texts a code, or spends a code): it is repeated
        only when the server cannot have acted — the connection was refused
        or a gateway answered 503/429 before reaching the service.
        """
        import requests

        url = api_url(self.url, path)
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        payload = None if body is None else json.dumps(body).encode()
        if payload is not None:
            headers["Content-Type"] = "application/json"
        wait = 0.15
        attempts = self.attempts if attempts is None else attempts
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            if self.explain is not None:
                self._say_request(method, url, body, attempt)
            started = time.perf_counter()
            try:
                resp = self.session.request(method, url, data=payload, headers=headers,
                                            timeout=(min(10.0, self.timeout), self.timeout))
            except requests.exceptions.ConnectTimeout:
                self._say("← no connection (timed out)")
                if not last:
                    self.sleep(wait)
                    wait *= 1.5
                    continue
                raise self._transport_error("timeout", f"Could not connect to {self.url} "
                                            f"within {min(10.0, self.timeout):g} s.") from None
            except requests.exceptions.Timeout:
                self._say(f"← no answer within {self.timeout:g} s")
                if not last and not unsafe:
                    self.sleep(wait)
                    wait *= 1.5
                    continue
                raise self._transport_error(
                    "timeout", f"No answer from {self.url} within {self.timeout:g} s.",
                    unsafe) from None
            except requests.exceptions.SSLError:
                self._say("← no secure connection")
                raise VastError(f"No secure (TLS) connection to {self.url} could be made: its "
                                "certificate was not accepted, or something in between "
                                "intercepts the connection.",
                                ["Check the address; behind a company proxy, point "
                                 "REQUESTS_CA_BUNDLE at its certificate."],
                                code="tls_error") from None
            except requests.exceptions.ProxyError:
                self._say("← proxy refused")
                raise VastError("The HTTP proxy (HTTPS_PROXY / HTTP_PROXY) did not pass the "
                                f"request on to {self.url}.",
                                ["Check the proxy settings, or set NO_PROXY for this host."],
                                code="proxy_error") from None
            except requests.exceptions.ConnectionError as exc:
                refused = _refused(exc)
                self._say("← connection refused" if refused else "← connection lost")
                if not last and (refused or not unsafe):
                    self.sleep(wait)
                    wait *= 1.5
                    continue
                if refused:
                    raise self._transport_error(
                        "connection_refused", f"Could not connect to {self.url}: the connection "
                        "was refused or the host is unknown.") from None
                raise self._transport_error(
                    "connection_lost", f"The connection to {self.url} broke before an answer "
                    "came.", unsafe) from None
            except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                    requests.exceptions.MissingSchema) as exc:
                raise VastError(f"The server address {self.url!r} is not a valid URL "
                                f"({type(exc).__name__}).",
                                ["Check --url, VAST_URL or %config VastMagics.url "
                                 "(for example https://console.vast.ai)."],
                                code="bad_url") from None
            except requests.exceptions.RequestException as exc:
                raise self._transport_error(
                    "request_failed", f"The request to {self.url} failed: "
                    f"{type(exc).__name__}.") from None
            elapsed = (time.perf_counter() - started) * 1000
            self._say(f"← {resp.status_code} {resp.reason} in {elapsed:.0f} ms")
            data = self._json(resp)
            if resp.status_code in RETRY_STATUSES and not last \
                    and self._may_retry(resp.status_code, data, unsafe):
                pause = _retry_after(resp.headers)
                pause = wait if pause is None else min(pause, self.retry_after_cap)
                self._say(f"  retrying in {pause:.2f} s")
                self.sleep(pause)
                wait *= 1.5
                continue
            if resp.status_code >= 400 or not isinstance(data, dict) \
                    or data.get("error") or data.get("success") is False:
                raise self._answer_error(resp, data, context)
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _json(resp):
        try:
            return resp.json()
        except ValueError:
            return None

    @staticmethod
    def _may_retry(status: int, data, unsafe: bool) -> bool:
        app_code = data.get("error") if isinstance(data, dict) else None
        if app_code in NO_RETRY_CODES:
            return False
        if not unsafe:
            return True
        # The service cannot have acted: a 503 (gateway or "service
        # unavailable"), or a 429 from a rate limiter in front of it.
        return status == 503 or (status == 429 and app_code is None)

    def _transport_error(self, code: str, message: str, unsafe: bool = False) -> VastError:
        hints = []
        if code == "connection_refused":
            hints.append("Check the address (--url, VAST_URL or %config VastMagics.url) "
                         "and your network.")
        elif code == "timeout" and unsafe:
            hints.append("The server may still have acted on it (sent you a code, or accepted "
                         "the one you sent): `%vast tfa status` shows whether the window is "
                         "open.")
        elif code == "timeout":
            hints.append("Try again later, or allow longer: %config VastMagics.timeout = 60")
        elif unsafe:
            hints.append("The server may have acted on it (sent you a code, or accepted the one "
                         "you sent): `%vast tfa status` shows whether the 30-minute window is "
                         "open; check your email/SMS before asking for another code.")
        else:
            hints.append("Try again in a moment.")
        return VastError(message, hints, code=code)

    def _answer_error(self, resp, data, context) -> VastError:
        status = resp.status_code
        if isinstance(data, dict) and (status >= 400 or data.get("error")
                                       or data.get("success") is False):
            return from_answer(status, data, key_source=self.key_source, **(context or {}))
        kind = resp.headers.get("Content-Type", "").split(";")[0] or "no content type"
        what = f"{status} {resp.reason}".strip()
        body = f"with {kind} instead of JSON" if data is None else "with JSON of an unknown shape"
        if status >= 500:
            why = "a problem on the server's side, not with your input"
            hint = "Try again in a minute; nothing was changed by this answer."
        elif status == 429:
            why = "too many requests"
            hint = "Wait a minute, then try again."
        elif status < 400:
            why = "an answer that is not the API's JSON"
            hint = "Check --url: it should be the Vast.ai console address."
        else:
            why = "not an API answer"
            hint = "Check --url: it should be the Vast.ai console address."
        return VastError(f"The server answered {what} {body} ({why}).",
                         [hint], code="bad_answer", status=status,
                         data={"error": "bad_answer", "status": status, "content_type": kind})
