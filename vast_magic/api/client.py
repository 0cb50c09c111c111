"""The one HTTP client: base URL, auth header, retries, timeouts, --explain.

Commands never touch ``requests``; they call an endpoint function of
:mod:`vast_magic.api.tfa`, which calls :meth:`Client.call` and gets the
answer's JSON or a :class:`~vast_magic.api.errors.VastError`.  ``requests`` is
imported on first use (it costs tens of milliseconds), not when the extension
loads.

:meth:`Client.call` is a short loop; what it decides is in small functions
that are tested on their own: :func:`outcome_of_exception` (what a failure
means), :func:`should_retry` (may this outcome be tried again?) and
:func:`retry_wait` (how long to wait first).
"""

from __future__ import annotations

import email.utils
import json
import socket
import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable

from . import transport
from .errors import BadAnswer, TransportError, VastError, from_answer, printable
from .transport import new_session

RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Failures after the request went out: the server may have acted on it unanswered.
AFTER_SENDING = frozenset({"lost", "cut", "read_timeout"})
# Answers that must never be repeated: the code was judged, or the server
# throttles on purpose.  Re-sending would count towards a lockout.
NO_RETRY_CODES = frozenset({"tfa_locked", "2fa_verification_failed", "sms_rate_limited",
                            "twilio_rate_limited", "preauth_phone_cap"})
SECRET_FIELDS = frozenset({"secret", "code", "backup_code", "backup_codes", "session_key",
                           "provisioning_uri", "api_key"})
REDACTED = "<redacted>"
FIRST_WAIT = 0.15   # seconds before the first retry without Retry-After
WAIT_GROWTH = 1.5   # each further wait is this much longer
MAX_WAIT = 5.0      # the longest wait without Retry-After
NOTICE_WAIT = 3.0   # waits longer than this are announced
CONNECT_TIMEOUT_MAX = 10.0


def redact(value, _depth: int = 0):
    """A copy of a JSON value with secret fields replaced (and anything nested
    implausibly deep replaced whole, as it cannot be checked cheaply)."""
    if isinstance(value, (dict, list)) and _depth > transport.MAX_DEPTH:
        return REDACTED
    if isinstance(value, dict):
        return {k: (REDACTED if k in SECRET_FIELDS and v not in (None, "")
                    else redact(v, _depth + 1)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, _depth + 1) for v in value]
    return value


def mask(value, secrets: list[str]):
    """A copy of a JSON value in which every string has the given secrets
    (what this request sent: key, code, secret) replaced, in case a server
    echoes them."""
    if isinstance(value, dict):
        return {k: mask(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
    return value


def api_url(base: str, path: str) -> str:
    """``https://host`` + ``/tfa/status/`` → ``https://host/api/v0/tfa/status/``."""
    base = base.rstrip("/")
    if not base.endswith("/api/v0"):
        base += "/api/v0"
    return base + "/" + path.lstrip("/")


# -- policy: small pure functions ---------------------------------------------

@dataclass
class Outcome:
    """What one attempt came to.

    ``kind`` is ``answer`` (``status`` and ``data`` set), or a transport
    failure: ``refused`` (nothing was sent), ``connect_timeout`` (no
    connection), ``lost`` (the connection broke), ``cut`` (the answer broke
    off), ``read_timeout`` (no whole answer by the attempt's deadline).
    ``problem`` says what is wrong with an answer that came whole but
    cannot be used (``too_large``, ``too_deep``).
    """

    kind: str
    status: int | None = None
    data: object = None
    retry_after: float | None = None
    problem: str | None = None
    response: object = None   # the requests.Response of an answer
    budget: float = 0.0       # the seconds the attempt had
    tries: int = 1            # attempts made, this one included
    spent: float = 0.0        # seconds from the first attempt to the end of this one

    @property
    def app_code(self) -> str | None:
        return self.data.get("error") if isinstance(self.data, dict) else None


def should_retry(outcome: Outcome, *, unsafe: bool) -> bool:
    """May this outcome be tried again?

    ``unsafe`` marks a request the server may already have acted on (one that
    emails or texts a code, or spends a code): it is repeated only when the
    server cannot have acted — no connection was made, or a gateway answered
    503 (or a rate limiter 429) before reaching the service.
    """
    if outcome.kind in ("refused", "unknown_host", "connect_timeout"):
        return True
    if outcome.kind in AFTER_SENDING:
        return not unsafe
    if outcome.problem or outcome.status not in RETRY_STATUSES \
            or outcome.app_code in NO_RETRY_CODES:
        return False
    return not unsafe or outcome.status == 503 or (outcome.status == 429
                                                   and outcome.app_code is None)


def retry_wait(attempt: int, retry_after: float | None, cap: float) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1, 2, ...):
    the server's Retry-After up to ``cap``, else a growing pause up to MAX_WAIT."""
    if retry_after is not None:
        return min(retry_after, cap)
    return min(FIRST_WAIT * WAIT_GROWTH ** (attempt - 1), MAX_WAIT)


def parse_retry_after(headers) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date), or None."""
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


def _not_sent(exc: BaseException) -> str | None:
    """Why the connection failed before anything was sent: "unknown_host" (the
    name does not resolve), "refused" (refused, no route), or None (it was made)."""
    seen = set()
    stack = [exc]
    found = None
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if type(e).__name__ == "NameResolutionError" or isinstance(e, socket.gaierror):
            return "unknown_host"
        if isinstance(e, ConnectionRefusedError) or type(e).__name__ == "NewConnectionError":
            found = "refused"  # a NewConnectionError may wrap the name error: look on
        stack.extend([getattr(e, "reason", None), e.__cause__, e.__context__])
        stack.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
    return found


def outcome_of_exception(exc: Exception, url: str) -> Outcome:
    """A failure that may be retried, as an Outcome; raises TransportError for
    those that never are (TLS, proxy, a bad URL)."""
    import requests.exceptions as rex

    if isinstance(exc, rex.ConnectTimeout):
        return Outcome("connect_timeout")
    if isinstance(exc, rex.Timeout):
        return Outcome("read_timeout")
    if isinstance(exc, rex.SSLError):
        raise TransportError(f"No secure (TLS) connection to {url} could be made: its "
                             "certificate was not accepted, or something in between "
                             "intercepts the connection.", code="tls_error")
    if isinstance(exc, rex.ProxyError):
        raise TransportError("The HTTP proxy (HTTPS_PROXY / HTTP_PROXY) did not pass the "
                             f"request on to {url}.", code="proxy_error")
    if isinstance(exc, (rex.ChunkedEncodingError, rex.ContentDecodingError)):
        return Outcome("cut")
    if isinstance(exc, rex.ConnectionError):
        return Outcome(_not_sent(exc) or "lost")
    if isinstance(exc, (rex.InvalidURL, rex.InvalidSchema, rex.MissingSchema)):
        raise TransportError(f"The server address {url!r} is not a valid URL "
                             f"({type(exc).__name__}).", code="bad_url")
    raise TransportError(f"The request to {url} failed: {type(exc).__name__}.",
                         code="request_failed")


_EXPLAIN_FAILURE = {"connect_timeout": "← no connection (timed out)",
                    "refused": "← connection refused",
                    "unknown_host": "← host name not found (DNS)", "lost": "← connection lost",
                    "cut": "← the answer broke off"}
_WHY_RETRY = {"refused": "The connection was refused",
              "unknown_host": "The host name was not found", "lost": "The connection broke",
              "cut": "The answer broke off", "connect_timeout": "No connection came",
              "read_timeout": "No answer came"}


#: Transport failures -> (error code, message); ``_tally`` adds the attempts and time.
_FAILURES = {
    "connect_timeout": ("connect_timeout", "Could not connect to {url} within {connect:.3g} s"),
    "read_timeout": ("timeout", "No answer from {url} within {budget:.3g} s"),
    "refused": ("connection_refused", "Could not connect to {url}: the connection was "
                                      "refused"),
    "unknown_host": ("host_not_found", "Could not connect to {url}: its host name was not "
                                       "found (DNS)"),
    "lost": ("connection_lost", "The connection to {url} broke before an answer came"),
    "cut": ("connection_lost", "The answer from {url} broke off before it was complete"),
}


def _tally(outcome: Outcome) -> str:
    """The end of a failure's message: ". Tried 3 times over 92 s." after retries."""
    if outcome.tries <= 1:
        return "."
    over = f" over {outcome.spent:.0f} s" if outcome.spent >= 1 else ""
    return f". Tried {outcome.tries} times{over}."


def _tried(exc: VastError, outcome: Outcome) -> VastError:
    """The error of an answer that came after retries, saying how many and how long,
    when it is one retries are for (a 5xx, a 429, an answer not the API's): a refusal
    that came after a retried 503 (a wrong code) is about the code, not the tries."""
    if outcome.tries > 1 and (isinstance(exc, BadAnswer) or outcome.status in RETRY_STATUSES
                              or (outcome.status or 0) >= 500):
        exc.message = exc.message.rstrip(".") + _tally(outcome)
    return exc


def _no_auth(request):
    """Auth that adds nothing: our own header stands, and ~/.netrc is not read."""
    return request


class Client:
    """Speaks to the Vast REST API for one magic call, over a shared session.

    ``timeout`` bounds each attempt (connect, send, the whole answer);
    ``line_deadline`` bounds the whole call, attempts and waits included;
    ``notice`` is told of a wait long enough for the user to wonder.
    """

    def __init__(self, session, url: str, api_key: str | None, *, attempts: int = 3,
                 timeout: float = 30.0, retry_after_cap: float = 30.0,
                 line_deadline: float = 120.0,
                 explain: Callable[[str], None] | None = None,
                 notice: Callable[[str], None] | None = None, key_source: str | None = None,
                 waiting=None, sleep: Callable[[float], None] = time.sleep):
        self.session = session
        self.url = url
        self.api_key = api_key
        self.attempts = max(1, int(attempts))
        self.timeout = float(timeout)
        self.retry_after_cap = float(retry_after_cap)
        self.line_deadline = float(line_deadline)
        self.explain = explain
        self.notice = notice
        self.key_source = key_source
        self.waiting = waiting  # a vast_magic.waiting.Waiting: the live line, or None
        self.sleep = sleep
        # Plain http is only ever loopback (the emulator): never through a proxy,
        # where the key would travel in clear.  https honours the proxy settings.
        self._proxies = ({"http": None, "https": None, "all": None}
                         if url.lower().startswith("http://") else None)

    def _say(self, text: str) -> None:
        if self.explain is not None:
            with self._above():
                self.explain(text)

    def _above(self):
        """Room to print above the live line (none: nothing to make room for)."""
        return self.waiting.above() if self.waiting is not None else nullcontext()

    def call(self, method: str, path: str, body: dict | None = None, *, unsafe: bool = False,
             context: dict | None = None, attempts: int | None = None) -> dict:
        """Send one request (with retries, see :func:`should_retry`) and return
        the JSON answer; ``context`` goes to the error (method, step, noun)."""
        url = api_url(self.url, path)
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        payload = None if body is None else json.dumps(body).encode()
        if payload is not None:
            headers["Content-Type"] = "application/json"
        sent = [v for v in [self.api_key, *_secret_values(body)] if v]
        attempts = self.attempts if attempts is None else attempts
        started = time.monotonic()
        line_ends = started + self.line_deadline
        with (self.waiting.watch() if self.waiting is not None else nullcontext()):
            for attempt in range(1, attempts + 1):
                if self.waiting is not None:
                    self.waiting.attempt(attempt, attempts)
                if self.explain is not None:
                    self._explain_request(method, url, body, attempt, attempts)
                outcome = self._attempt(method, url, payload, headers, line_ends)
                if attempt < attempts and should_retry(outcome, unsafe=unsafe):
                    pause = retry_wait(attempt, outcome.retry_after, self.retry_after_cap)
                    left = line_ends - time.monotonic()
                    if pause < left - 0.5:  # time for another attempt after the wait
                        self._announce(outcome, pause, attempt + 1, attempts, left)
                        self.sleep(pause)
                        continue
                outcome.tries, outcome.spent = attempt, time.monotonic() - started
                return self._result(outcome, unsafe, context, sent)
        raise AssertionError("unreachable")  # pragma: no cover

    def _announce(self, outcome: Outcome, pause: float, attempt: int, attempts: int,
                  left: float) -> None:
        if outcome.kind == "answer":
            self._say(f"  retrying in {pause:.2f} s")
        if self.waiting is not None:
            self.waiting.pause(pause, attempt, attempts)
        if self.notice is not None and pause > NOTICE_WAIT:
            why = _WHY_RETRY.get(outcome.kind, f"The server answered {outcome.status}")
            with self._above():
                self.notice(f"{why}; trying again in {pause:.0f} s (attempt {attempt} of "
                            f"{attempts}; giving up within {left:.0f} s).")

    def _attempt(self, method: str, url: str, payload, headers, line_ends: float) -> Outcome:
        import requests

        started = time.perf_counter()
        budget = max(0.05, min(self.timeout, line_ends - time.monotonic()))
        ends = time.monotonic() + budget
        try:
            with transport.deadline(ends):
                resp = self.session.request(
                    method, url, data=payload, headers=headers, stream=True,
                    allow_redirects=False, proxies=self._proxies, auth=_no_auth,
                    timeout=(min(self.connect_timeout, budget), budget))
                try:
                    content = transport.read_body(resp)
                except transport.AnswerTooLarge:
                    resp.close()
                    self._say(f"← {resp.status_code}: answer too large")
                    return Outcome("answer", resp.status_code, problem="too_large",
                                   response=resp)
        except requests.exceptions.RequestException as exc:
            if transport.passed(ends):
                outcome = Outcome("read_timeout")
            else:
                try:
                    outcome = outcome_of_exception(exc, self.url)
                except TransportError as err:
                    self._say({"tls_error": "← no secure connection",
                               "proxy_error": "← proxy refused"}.get(err.code, "← failed"))
                    raise err from None
            self._say(_EXPLAIN_FAILURE.get(outcome.kind) or f"← no answer within {budget:g} s")
            outcome.budget = budget
            return outcome
        elapsed = (time.perf_counter() - started) * 1000
        self._say(f"← {resp.status_code} {printable(resp.reason, 60)} in {elapsed:.0f} ms")
        try:
            data = transport.parse_json(content)
        except transport.TooDeep:
            return Outcome("answer", resp.status_code, problem="too_deep", response=resp)
        return Outcome("answer", resp.status_code, data, parse_retry_after(resp.headers),
                       response=resp)

    @property
    def connect_timeout(self) -> float:
        return min(CONNECT_TIMEOUT_MAX, self.timeout)

    def _result(self, outcome: Outcome, unsafe: bool, context: dict | None,
                sent: list[str]) -> dict:
        """The answer's data, or the error the outcome stands for."""
        kind, data = outcome.kind, outcome.data
        if kind in _FAILURES:
            code, text = _FAILURES[kind]
            acted = unsafe and kind in AFTER_SENDING
            raise TransportError(text.format(url=self.url, connect=self.connect_timeout,
                                             budget=outcome.budget) + _tally(outcome),
                                 code=code, may_have_acted=acted)
        status = outcome.status
        if outcome.problem or 300 <= status < 400:
            raise _tried(_bad_answer(outcome), outcome)
        if isinstance(data, dict) and (status >= 400 or data.get("error")
                                       or data.get("success") is False):
            raise _tried(from_answer(status, mask(data, sent), key_source=self.key_source,
                                     **(context or {})), outcome)
        if status >= 400 or not isinstance(data, dict):
            raise _tried(_bad_answer(outcome), outcome)
        return data

    def _explain_request(self, method: str, url: str, body: dict | None, attempt: int,
                         attempts: int) -> None:
        shown = "" if body is None else " " + json.dumps(redact(body))
        auth = " (Authorization: Bearer <redacted>)" if self.api_key else " (no API key)"
        again = f"  [attempt {attempt} of {attempts}]" if attempt > 1 else ""
        self._say(f"→ {method} {url}{shown}{auth}{again}")


def _bad_answer(outcome: Outcome) -> BadAnswer:
    """An answer that is not the API's, described in one line."""
    resp, status, problem = outcome.response, outcome.status, outcome.problem
    kind = printable(resp.headers.get("Content-Type", "").split(";")[0], 60) \
        or "no content type"
    what = printable(f"{status} {resp.reason}", 60)
    if problem == "too_large":
        body = f"with an answer over {transport.MAX_ANSWER // 1024} KB"
    elif problem == "too_deep":
        body = f"with JSON nested over {transport.MAX_DEPTH} levels deep"
    elif 300 <= status < 400:
        where = printable(resp.headers.get("Location", ""), 200) or "nowhere"
        body = f"pointing to {where}"
    elif outcome.data is None:
        body = f"with {kind} instead of JSON"
    else:
        body = "with JSON of an unknown shape"
    if 300 <= status < 400:
        why = "a redirect: vast-magic follows none, so nothing was sent there"
    elif status >= 500:
        why = "a problem on the server's side, not with your input"
    elif status == 429:
        why = "too many requests"
    elif problem or status < 400:
        why = "an answer that is not the API's"
    else:
        why = "not an API answer"
    return BadAnswer(f"The server answered {what} {body} ({why}).", code="bad_answer",
                     status=status,
                     data={"error": "bad_answer", "status": status, "content_type": kind})


def _secret_values(body: dict | None) -> list[str]:
    """The secret strings a request body carries (to mask if a server echoes them)."""
    return [v for k, v in (body or {}).items() if k in SECRET_FIELDS and isinstance(v, str)]


__all__ = ["Client", "Outcome", "VastError", "api_url", "new_session", "parse_retry_after",
           "redact", "retry_wait", "should_retry"]
