"""Async Moodle web-service (REST) client on httpx: encoding, typed errors, retries, metrics.

    async with MoodleClient("https://moodle.example.ac.uk", token) as moodle:
        site = await moodle.site_info()
        users = await moodle.read("core_enrol_get_enrolled_users", {"courseid": 7})
        await moodle.write("mod_quiz_save_overrides",
                           {"data": {"quizid": 3, "overrides": [{"id": 9, "userid": 41, "timeclose": ...}]}},
                           idempotent=True)

Every call is a ``POST {site}/webservice/rest/server.php`` with ``wstoken``, ``wsfunction`` and
``moodlewsrestformat=json`` and the parameters form-encoded in PHP's bracket notation
(:func:`encode_params`: ``data[overrides][0][userid]=41``; booleans as 1/0; ``None`` is left out,
as Moodle cannot receive a null and takes the parameter's default instead). The token goes only
in the request body, to the site it was made for; it never appears in URLs, logs or errors, and
neither do parameters (they carry per-student times derived from support plans).

Moodle answers HTTP 200 to errors: a body with an ``exception`` key becomes one of the typed
errors of :mod:`adapters.moodle.errors`. ``warnings[]`` in a successful answer are logged (code
and message, never the item) and counted; the caller gets the whole body to inspect them.

Retries, with exponential backoff and jitter, go only to *safe* calls: every read, and writes the
caller marks ``idempotent`` because they are so by construction (an upsert by idnumber, by
section number or by override id; setting an extension date). A fault (5xx, timeout, dropped
connection) on any other write raises :class:`MoodleUncertainWrite`: the adapter reads back
before it tries again. A request that never left (connection refused) is retried whatever it is.

Moodle has no throttle, but a site has a limited pool of PHP workers: ``max_concurrency``
(default 6) bounds the calls in flight.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import random
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

import httpx

from .errors import (
    MoodleAccessException,
    MoodleError,
    MoodleInvalidParameter,
    MoodleInvalidToken,
    MoodleNotFound,
    MoodlePermissionError,
    MoodleProtocolError,
    MoodleServerError,
    MoodleTransportError,
    MoodleUncertainWrite,
    MoodleUnknownFunction,
)

__all__ = ["DEFAULT_MAX_CONCURRENCY", "MoodleClient", "MoodleMetrics", "RetryPolicy", "SiteInfo", "encode_params"]

logger = logging.getLogger("lms_bridge.moodle")

DEFAULT_MAX_CONCURRENCY = 6
REST_PATH = "/webservice/rest/server.php"
UPLOAD_PATH = "/webservice/upload.php"
# Failures worth another try: the network or the server may behave next time.
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
# Failures raised before any byte of the request left us: even a create is safe to resend.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol,
             httpx.LocalProtocolError)


@dataclass(frozen=True)
class RetryPolicy:
    """Retry ``n`` (1-based) waits ``min(cap, base × 2**(n-1))`` × a random factor in
    [1 − jitter, 1 + jitter], so concurrent callers do not retry in lock-step."""

    max_retries: int = 4
    backoff_base: float = 0.25
    backoff_cap: float = 8.0
    jitter: float = 0.25

    def delay(self, retry: int, rng: random.Random) -> float:
        raw = min(self.backoff_cap, self.backoff_base * 2.0 ** (retry - 1))
        return raw * rng.uniform(1 - self.jitter, 1 + self.jitter)


@dataclass
class MoodleMetrics:
    """Counters for one client; :meth:`reset` between runs (e.g. to check a no-op apply)."""

    calls: int = 0  # HTTP requests that got a response: every attempt, uploads included
    writes: int = 0  # of those, calls to write functions (and uploads)
    retries: int = 0  # attempts repeated after a fault
    faults: int = 0  # 5xx answers, timeouts and dropped connections met
    warnings: int = 0  # warnings[] items in successful answers
    max_in_flight: int = 0
    calls_by_function: Counter = field(default_factory=Counter)
    writes_by_function: Counter = field(default_factory=Counter)
    retries_by_function: Counter = field(default_factory=Counter)

    @property
    def reads(self) -> int:
        return self.calls - self.writes

    def reset(self) -> None:
        for f in fields(self):
            setattr(self, f.name, Counter() if isinstance(getattr(self, f.name), Counter) else f.default)


@dataclass(frozen=True)
class SiteInfo:
    """What ``core_webservice_get_site_info`` says about the site and the token's service."""

    release: str  # "4.5.6 (Build: 20250811)"
    version: str  # "2024100706"
    functions: frozenset[str]
    userid: int | None = None
    siteurl: str = ""
    uploadfiles: bool = False

    @property
    def branch(self) -> tuple[int, int]:
        """(4, 5) for "4.5.6 (Build: …)"; (0, 0) when the release cannot be read."""
        found = re.match(r"\s*(\d+)\.(\d+)", self.release or "")
        return (int(found.group(1)), int(found.group(2))) if found else (0, 0)

    def offers(self, *names: str) -> bool:
        return all(n in self.functions for n in names)

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> SiteInfo:
        return cls(
            release=str(body.get("release") or ""),
            version=str(body.get("version") or ""),
            functions=frozenset(f["name"] for f in body.get("functions") or () if isinstance(f, dict) and "name" in f),
            userid=body.get("userid"),
            siteurl=str(body.get("siteurl") or ""),
            uploadfiles=bool(body.get("uploadfiles")),
        )


def encode_params(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Moodle's REST parameters in PHP bracket notation, in order.

    ``{"courseid": 7, "options": [{"name": "excludecontents", "value": True}]}`` →
    ``[("courseid", "7"), ("options[0][name]", "excludecontents"), ("options[0][value]", "1")]``.
    Nested mappings become ``key[sub]``, sequences ``key[i]``; booleans are 1/0; ``None`` is
    left out (Moodle then uses the parameter's default, null for most optional fields).
    """
    out: list[tuple[str, str]] = []

    def walk(key: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(f"{key}[{k}]", v)
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(f"{key}[{i}]", v)
        elif isinstance(value, bool):
            out.append((key, "1" if value else "0"))
        elif isinstance(value, (int, str)):
            out.append((key, str(value)))
        elif isinstance(value, float):
            out.append((key, repr(value) if not value.is_integer() else str(int(value))))
        else:
            raise TypeError(f"cannot send a {type(value).__name__} to Moodle (parameter {key})")

    for k, v in (params or {}).items():
        walk(str(k), v)
    return out


class MoodleClient:
    """Async Moodle REST client; use as ``async with`` or call :meth:`aclose`.

    ``sleep`` and ``rng`` are injectable so tests run without waiting.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not token or not token.strip():
            raise ValueError("a Moodle web-service token is required")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        root = base_url.strip().rstrip("/")
        for suffix in (REST_PATH, UPLOAD_PATH):
            root = root.removesuffix(suffix)
        self._root = root
        self._token = token.strip()
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(max_concurrency)
        self._in_flight = 0
        self.max_concurrency = max_concurrency
        self._site: SiteInfo | None = None
        self._site_lock = asyncio.Lock()
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            follow_redirects=False,  # a redirect would carry the token off the site
            headers={"Accept": "application/json", "User-Agent": "lms-bridge"},
        )
        self.metrics = MoodleMetrics()

    def __repr__(self) -> str:
        return f"MoodleClient({self._root!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def base_url(self) -> str:
        return self._root

    # -- public API -----------------------------------------------------------------------------

    async def site_info(self) -> SiteInfo:
        """``core_webservice_get_site_info``, once per client (release, version, functions)."""
        if self._site is None:
            async with self._site_lock:
                if self._site is None:
                    body = await self.read("core_webservice_get_site_info")
                    if not isinstance(body, dict):
                        raise MoodleProtocolError("core_webservice_get_site_info", "expected an object")
                    self._site = SiteInfo.parse(body)
        return self._site

    async def read(self, function: str, params: Mapping[str, Any] | None = None) -> Any:
        """Call a read function; retried on faults."""
        return await self.call(function, params, write=False)

    async def write(self, function: str, params: Mapping[str, Any] | None = None, *, idempotent: bool) -> Any:
        """Call a write function. ``idempotent=True`` only when repeating it cannot do anything
        twice (an upsert keyed by idnumber / section number / override id, a set value); a fault
        on any other write raises :class:`MoodleUncertainWrite`."""
        return await self.call(function, params, write=True, idempotent=idempotent)

    async def call(
        self, function: str, params: Mapping[str, Any] | None = None, *, write: bool, idempotent: bool = False
    ) -> Any:
        form = [("wstoken", self._token), ("wsfunction", function), ("moodlewsrestformat", "json")]
        form += encode_params(params)
        response = await self._send(
            function,
            self._root + REST_PATH,
            write=write,
            safe=not write or idempotent,
            content=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        body = self._decode(function, response)
        self._check(function, body)
        return body

    async def upload(self, filename: str, content: bytes, *, itemid: int = 0, filepath: str = "/") -> list[dict]:
        """``webservice/upload.php``: put a file in the token user's draft area; returns Moodle's
        list of file records (``itemid`` is the draft area to pass on). The service must allow
        file uploads (``uploadfiles``). Repeating it only makes another throwaway draft, so it
        is retried on faults."""
        response = await self._send(
            "webservice/upload.php",
            self._root + UPLOAD_PATH,
            write=True,
            safe=True,
            # The draft area, named: the exam paper is then attached from it (attach_paper).
            data={"token": self._token, "filearea": "draft", "filepath": filepath, "itemid": str(itemid)},
            files={"file_1": (filename, content, "application/octet-stream")},
        )
        body = self._decode("webservice/upload.php", response)
        self._check("webservice/upload.php", body)
        if not isinstance(body, list) or not body:
            raise MoodleProtocolError("webservice/upload.php", "expected a list of uploaded files")
        for item in body:
            if isinstance(item, dict) and (item.get("error") or item.get("errortype")):
                raise MoodleError("webservice/upload.php", str(item.get("error") or "upload refused"),
                                  errorcode=str(item.get("errortype") or "") or None)
        return body

    # -- private helpers ------------------------------------------------------------------------

    async def _send(self, function: str, url: str, *, write: bool, safe: bool, **request: Any) -> httpx.Response:
        retries = 0
        while True:
            async with self._slots:
                self._in_flight += 1
                self.metrics.max_in_flight = max(self.metrics.max_in_flight, self._in_flight)
                try:
                    outcome: httpx.Response | httpx.RequestError = await self._http.post(url, **request)
                except httpx.RequestError as exc:
                    outcome = exc
                finally:
                    self._in_flight -= 1

            if isinstance(outcome, httpx.RequestError):
                self.metrics.faults += 1
                not_sent = isinstance(outcome, _NOT_SENT)
                logger.debug("%s -> %s", function, type(outcome).__name__)
                if isinstance(outcome, _TRANSIENT) and (safe or not_sent) and retries < self._retry.max_retries:
                    retries += 1
                    await self._backoff(function, retries, type(outcome).__name__)
                    continue
                detail = f"{type(outcome).__name__} after {retries + 1} attempt(s)"
                if write and not safe and not not_sent:
                    raise MoodleUncertainWrite(function, detail) from outcome
                raise MoodleTransportError(function, detail) from outcome

            response = outcome
            self.metrics.calls += 1
            self.metrics.calls_by_function[function] += 1
            if write:
                self.metrics.writes += 1
                self.metrics.writes_by_function[function] += 1
            status = response.status_code
            logger.debug("%s -> %s", function, status)
            if status >= 500:
                self.metrics.faults += 1
                if safe and retries < self._retry.max_retries:
                    retries += 1
                    await self._backoff(function, retries, str(status))
                    continue
                detail = f"the site answered {status} after {retries + 1} attempt(s)"
                if write and not safe:
                    raise MoodleUncertainWrite(function, detail, status=status)
                raise MoodleServerError(function, detail, status=status)
            if status != 200:
                raise MoodleProtocolError(function, f"unexpected HTTP status {status}", status=status)
            return response

    async def _backoff(self, function: str, retry: int, reason: str) -> None:
        delay = self._retry.delay(retry, self._rng)
        self.metrics.retries += 1
        self.metrics.retries_by_function[function] += 1
        logger.debug("%s: retry %d in %.2fs after %s", function, retry, delay, reason)
        await self._sleep(delay)

    @staticmethod
    def _decode(function: str, response: httpx.Response) -> Any:
        text = response.content.strip()
        if text.startswith(b"<"):
            what = "XML (was moodlewsrestformat=json lost on the way?)" if text.startswith(b"<?xml") else "HTML"
            raise MoodleProtocolError(function, f"the answer is {what}, not JSON", status=response.status_code)
        if not text:
            raise MoodleProtocolError(function, "the answer is empty", status=response.status_code)
        try:
            return jsonlib.loads(text)
        except ValueError:
            raise MoodleProtocolError(function, "the answer is not JSON", status=response.status_code) from None

    def _check(self, function: str, body: Any) -> None:
        if isinstance(body, dict) and "exception" in body and "errorcode" in body:
            raise error_from_body(function, body)
        warnings = body.get("warnings") if isinstance(body, dict) else None
        if warnings:
            self.metrics.warnings += len(warnings)
            for w in _as_warnings(warnings):
                # the item may name users and dates: only the code and Moodle's message go to the log
                # (at INFO: "No user flags found" and the like are routine; callers act on what matters)
                logger.info("Moodle %s warning %s: %s", function, w.get("warningcode"), w.get("message"))


def _as_warnings(items: Iterable[Any]) -> list[dict]:
    return [w for w in items if isinstance(w, dict)]


def error_from_body(function: str, body: Mapping[str, Any]) -> MoodleError:
    """The typed error for a Moodle error body (moodle-ws.md §2, fixtures 40–58)."""
    exception = str(body.get("exception") or "")
    code = str(body.get("errorcode") or "")
    message = str(body.get("message") or "")
    debuginfo = body.get("debuginfo")
    short = exception.rsplit("\\", 1)[-1]
    kw = {"errorcode": code or None, "exception": exception or None, "debuginfo": debuginfo}
    if code == "invalidtoken":
        return MoodleInvalidToken(function, message, **kw)
    if code == "accessexception" or short == "webservice_access_exception":
        return MoodleAccessException(function, message, **kw)
    if code in ("nopermissions", "requireloginerror") or short in ("required_capability_exception",
                                                                   "require_login_exception"):
        return MoodlePermissionError(function, message, **kw)
    if code == "invalidparameter" or short == "invalid_parameter_exception":
        return MoodleInvalidParameter(function, message, **kw)
    if code == "invalidrecord" or short == "dml_missing_record_exception":
        if "external_functions" in message:
            return MoodleUnknownFunction(function, f"the site has no function {function}", **kw)
        return MoodleNotFound(function, message, **kw)
    return MoodleError(function, message, **kw)
