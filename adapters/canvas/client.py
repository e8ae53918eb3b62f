"""Async Canvas REST client on httpx: pacing, retries, pagination, uploads, typed errors.

    async with CanvasClient("https://canvas.example.edu", token) as canvas:
        course = await canvas.get("/courses/5")
        students = await canvas.get_all("/courses/5/enrollments", {"type[]": ["StudentEnrollment"]})
        await canvas.post("/courses/5/quizzes/7/extensions", json={"quiz_extensions": [...]}, idempotent=True)

Paths are relative to ``/api/v1`` unless they start with ``/api/`` (New Quizzes live under
``/api/quiz/v1``). The token goes only in the ``Authorization`` header and only to the Canvas
origin it was made for; it never appears in URLs, logs or errors, and neither do request bodies
(they carry per-student timings derived from support plans).

Throttled responses (429, or 403 "Rate Limit Exceeded") were not executed and are retried for
any method. Faults (5xx, timeouts, dropped connections) are retried only for idempotent
requests; a plain POST that hits one raises :class:`CanvasUncertainWrite`, because Canvas has no
idempotency keys and a blind retry could create a second quiz or override. Pacing is in
:mod:`adapters.canvas.throttle`.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json as jsonlib
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import urlencode

import httpx

from .errors import (
    CanvasBadRequest,
    CanvasError,
    CanvasForbidden,
    CanvasNotFound,
    CanvasServerError,
    CanvasThrottled,
    CanvasTransportError,
    CanvasUnauthenticated,
    CanvasUncertainWrite,
    CanvasUnprocessable,
)
from .throttle import Pacer, RetryPolicy, Ticket

__all__ = ["CanvasClient", "CanvasMetrics", "FormData", "QueryParams"]

logger = logging.getLogger("lms_bridge.canvas")

QueryParams = Mapping[str, Any] | Sequence[tuple[str, Any]]
"""Query parameters; a list value repeats the key (``{"include[]": ["items", "overrides"]}``)."""

FormData = Mapping[str, Any] | Sequence[tuple[str, Any]]
"""Form fields in Rails style; pass pairs when order matters (``x[][k]`` arrays of hashes)."""

DEFAULT_RETRY = RetryPolicy()
MAX_PER_PAGE = 100  # Api::MAX_PER_PAGE: Canvas clamps larger values
_IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE"})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5
# Failures worth another try: the network or the server may behave next time.
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
# Failures raised before any byte of the request left us: even a POST is safe to resend.
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)
_DETAIL_LIMIT = 200


@dataclass
class CanvasMetrics:
    """Counters for one client; :meth:`reset` between runs (e.g. to check a no-op apply)."""

    calls: int = 0  # HTTP requests that got a response: every attempt, page and upload step
    writes: int = 0  # of those, non-GET requests Canvas executed (i.e. not throttled)
    retries: int = 0  # attempts repeated after a throttle or a fault
    throttled: int = 0  # throttled responses (429, or 403 "Rate Limit Exceeded")
    max_in_flight: int = 0  # most Canvas API requests in flight at once
    request_cost: float = 0.0  # sum of X-Request-Cost, Canvas's own measure of our load

    def reset(self) -> None:
        for field in fields(self):
            setattr(self, field.name, field.default)


class CanvasClient:
    """Async Canvas REST client; use as ``async with`` or call :meth:`aclose`.

    ``max_concurrency`` caps requests in flight; the pacer keeps to fewer while Canvas's
    throttle budget is low (``safety`` units of headroom, see :class:`~.throttle.Pacer`).
    ``clock``, ``sleep`` and ``rng`` are injectable so tests run without waiting.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30,
        max_concurrency: int = 8,
        initial_concurrency: int = 2,
        safety: float = 100.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not token.strip():
            raise ValueError("a Canvas API token is required")
        self._root = base_url.rstrip("/").removesuffix("/api/v1")
        self._origin = _origin(httpx.URL(self._root))
        self._authorization = f"Bearer {token.strip()}"
        self._retry = retry
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._pacer = Pacer(
            max_concurrency=max_concurrency,
            initial_concurrency=initial_concurrency,
            safety=safety,
            clock=clock,
            sleep=sleep,
        )
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            follow_redirects=False,  # redirects are followed by hand, so the token never leaves Canvas
            cookies=_refuse_cookies(),
            headers={"Accept": "application/json", "User-Agent": "lms-bridge"},
        )
        self.metrics = CanvasMetrics()

    def __repr__(self) -> str:
        return f"CanvasClient({self._root!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def pacer(self) -> Pacer:
        """The pacer, for inspection (window, in-flight count, budget estimate)."""
        return self._pacer

    # -- public API ---------------------------------------------------------------------------

    async def get(self, path: str, params: QueryParams | None = None) -> Any:
        """GET one resource and return its JSON (None for an empty body)."""
        response = await self._get(self._url(path), params)
        return self._decode(response, "GET")

    async def get_all(
        self, path: str, params: QueryParams | None = None, *, key: str | None = None
    ) -> list[Any]:
        """GET every page of a list, following ``Link: <…>; rel="next"`` with ``per_page=100``.

        ``key`` names the list in wrapped responses such as ``{"quiz_submissions": [...]}``.
        """
        query = httpx.QueryParams(cast(Any, params or {}))
        per_page = min(int(query.get("per_page", MAX_PER_PAGE)), MAX_PER_PAGE)
        page_params: httpx.QueryParams | None = query.set("per_page", str(per_page))
        url = self._url(path)
        seen = {str(url)}
        items: list[Any] = []
        while True:
            response = await self._get(url, page_params)
            body = self._decode(response, "GET")
            page = body if key is None else body.get(key) if isinstance(body, dict) else None
            if not isinstance(page, list):
                where = f"under {key!r}" if key is not None else "as the body"
                raise CanvasError(
                    "GET", _display_path(url, self._origin), response.status_code, f"expected a list {where}"
                )
            items.extend(page)
            next_url = _next_page(response, body)
            if not page or next_url is None:
                return items
            url = response.url.join(next_url)
            if str(url) in seen:  # a server that links back would otherwise loop forever
                return items
            seen.add(str(url))
            page_params = None  # the next link already carries every parameter

    async def post(
        self, path: str, json: Any = None, data: FormData | None = None, *, idempotent: bool = False
    ) -> Any:
        """POST; faults raise :class:`CanvasUncertainWrite` unless ``idempotent=True``.

        Mark a POST idempotent only when repeating it sets the same state, e.g. Classic quiz
        extensions (``extra_time`` is set, not added) or New Quizzes accommodations.
        """
        return await self.request("POST", path, json=json, data=data, idempotent=idempotent)

    async def put(self, path: str, json: Any = None, data: FormData | None = None) -> Any:
        return await self.request("PUT", path, json=json, data=data)

    async def patch(
        self, path: str, json: Any = None, data: FormData | None = None, *, idempotent: bool = False
    ) -> Any:
        """PATCH (New Quizzes updates); like POST, retried on faults only if ``idempotent``."""
        return await self.request("PATCH", path, json=json, data=data, idempotent=idempotent)

    async def delete(self, path: str, params: QueryParams | None = None) -> Any:
        """DELETE. Retried on faults, so a repeated delete may end in :class:`CanvasNotFound`."""
        return await self.request("DELETE", path, params=params)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        json: Any = None,
        data: FormData | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Any method; ``idempotent`` defaults to True for GET, PUT and DELETE."""
        method = method.upper()
        if method == "GET":
            return await self.get(path, params)
        url = self._url(path)
        safe = method in _IDEMPOTENT_METHODS if idempotent is None else idempotent
        response = await self._send(method, url, idempotent=safe, params=params, **_body(json, data))
        if response.status_code in _REDIRECT_STATUSES:
            raise CanvasError(
                method, _display_path(url, self._origin), response.status_code, "unexpected redirect"
            )
        return self._decode(response, method)

    async def upload_file(
        self,
        path: str,
        name: str,
        content_type: str,
        content: bytes,
        parent_folder_path: str | None = None,
    ) -> dict[str, Any]:
        """Upload a file in Canvas's three steps and return the File JSON.

        ``path`` is the step-1 endpoint, e.g. ``/courses/5/files`` or ``/folders/9/files``.
        """
        form: dict[str, Any] = {"name": name, "size": len(content), "content_type": content_type}
        if parent_folder_path is not None:
            form["parent_folder_path"] = parent_folder_path
        # Step 1 only registers a pending file that Canvas keeps hidden until step 3 confirms
        # it, so repeating it after a fault cannot leave a visible duplicate.
        preflight = await self.post(path, data=form, idempotent=True)
        if not isinstance(preflight, dict) or "upload_url" not in preflight:
            raise CanvasError(
                "POST", _display_path(self._url(path), self._origin), None, "no upload_url in the answer"
            )

        # Step 2 goes to the storage host (S3, inst-fs or Canvas): no token, every upload
        # parameter unchanged and in order, the file last. It does not count against the token's
        # throttle bucket, so it bypasses the pacer.
        upload_url = httpx.URL(preflight["upload_url"])
        upload_params = preflight.get("upload_params") or {}
        # A null parameter is left out, as requests (canvasapi's HTTP library) does.
        upload_fields = {k: str(v) for k, v in upload_params.items() if v is not None}
        response = await self._send(
            "POST",
            upload_url,
            idempotent=False,
            authorize=False,
            paced=False,
            data=upload_fields,
            files={"file": (name, content, content_type)},
        )

        # Step 3: a redirect must be confirmed with a GET (with the token, if on Canvas); a 201
        # is already complete, and its Location (if any) returns the File JSON.
        location = response.headers.get("Location")
        if response.status_code in _REDIRECT_STATUSES and not location:
            raise CanvasError(
                "POST",
                _display_path(upload_url, self._origin),
                response.status_code,
                "redirect without Location",
            )
        if location:
            result = self._decode(await self._get(response.url.join(location), None), "GET")
        else:
            result = self._decode(response, "POST")
        if not isinstance(result, dict):
            raise CanvasError(
                "POST",
                _display_path(upload_url, self._origin),
                response.status_code,
                "no File object in the answer",
            )
        return result

    # -- private helpers ----------------------------------------------------------------------

    def _url(self, path: str) -> httpx.URL:
        if path.startswith(("https://", "http://")):
            return httpx.URL(path)
        if not path.startswith("/"):
            path = "/" + path
        if not path.startswith("/api/"):
            path = "/api/v1" + path
        return httpx.URL(self._root + path)

    async def _get(self, url: httpx.URL, params: QueryParams | None) -> httpx.Response:
        """GET, following redirects by hand (e.g. ``/sections/:id/assignments/:id/override``)."""
        for _ in range(_MAX_REDIRECTS + 1):
            response = await self._send("GET", url, idempotent=True, params=params)
            location = response.headers.get("Location")
            if response.status_code not in _REDIRECT_STATUSES or not location:
                return response
            url, params = response.url.join(location), None
        raise CanvasError("GET", _display_path(url, self._origin), response.status_code, "too many redirects")

    async def _send(
        self,
        method: str,
        url: httpx.URL,
        *,
        idempotent: bool,
        authorize: bool = True,
        paced: bool = True,
        **request: Any,
    ) -> httpx.Response:
        """Send with pacing and retries; return a 2xx/3xx response or raise a CanvasError."""
        path = _display_path(url, self._origin)
        template = _template(path)
        headers = dict(request.pop("headers", None) or {})
        if authorize and _origin(url) == self._origin:
            headers["Authorization"] = self._authorization
        throttle_retries = fault_retries = 0
        while True:
            outcome = await self._attempt(method, url, headers, request, paced)
            if isinstance(outcome, httpx.RequestError):
                not_sent = isinstance(outcome, _NOT_SENT)
                logger.debug("%s %s -> %s", method, template, type(outcome).__name__)
                if (
                    isinstance(outcome, _TRANSIENT)
                    and (idempotent or not_sent)
                    and fault_retries < self._retry.max_fault_retries
                ):
                    fault_retries += 1
                    await self._backoff(method, template, fault_retries, type(outcome).__name__)
                    continue
                detail = f"{type(outcome).__name__} after {fault_retries + 1} attempt(s)"
                if not idempotent and not not_sent:
                    raise CanvasUncertainWrite(method, path, None, detail) from outcome
                raise CanvasTransportError(method, path, None, detail) from outcome

            response = outcome
            status = response.status_code
            logger.debug("%s %s -> %s", method, template, status)
            if _is_throttled(response):
                self.metrics.throttled += 1
                if throttle_retries >= self._retry.max_throttle_retries:
                    raise CanvasThrottled(
                        method,
                        path,
                        status,
                        f"still rate-limited after {throttle_retries + 1} attempts",
                        attempts=throttle_retries + 1,
                    )
                throttle_retries += 1
                await self._backoff(method, template, throttle_retries, str(status), _retry_after(response))
                continue
            if method != "GET":
                self.metrics.writes += 1
            if status >= 500:
                if idempotent and fault_retries < self._retry.max_fault_retries:
                    fault_retries += 1
                    await self._backoff(method, template, fault_retries, str(status))
                    continue
                if not idempotent:
                    raise CanvasUncertainWrite(method, path, status, _canvas_detail(response))
            if status >= 400:
                raise _error_for(response, method, path)
            return response

    async def _attempt(
        self, method: str, url: httpx.URL, headers: dict[str, str], request: dict[str, Any], paced: bool
    ) -> httpx.Response | httpx.RequestError:
        """One try. The pacer slot is held only while the request is on the wire."""
        ticket: Ticket | None = None
        if paced:
            ticket = await self._pacer.acquire()
            self.metrics.max_in_flight = max(self.metrics.max_in_flight, self._pacer.in_flight)
        remaining: float | None = None
        throttled = success = False
        try:
            response = await self._http.request(method, url, headers=headers, **request)
        except httpx.RequestError as exc:
            return exc
        else:
            remaining = _header_float(response, "X-Rate-Limit-Remaining")
            throttled = _is_throttled(response)
            success = not throttled and response.status_code < 500
            self.metrics.calls += 1
            self.metrics.request_cost += _header_float(response, "X-Request-Cost") or 0.0
            return response
        finally:
            if ticket is not None:
                self._pacer.release(ticket, remaining=remaining, throttled=throttled, success=success)

    async def _backoff(
        self, method: str, template: str, retry: int, reason: str, at_least: float | None = None
    ) -> None:
        delay = self._retry.delay(retry, self._rng)
        if at_least is not None:
            delay = max(delay, min(at_least, self._retry.backoff_cap))
        self.metrics.retries += 1
        logger.debug("%s %s: retry %d in %.1fs after %s", method, template, retry, delay, reason)
        await self._sleep(delay)

    def _decode(self, response: httpx.Response, method: str) -> Any:
        content = response.content
        if response.status_code == 204 or not content.strip():
            return None
        # Canvas prefixes JSON with "while(1);" for session (cookie) requests, as CSRF defence.
        content = content.removeprefix(b"while(1);")
        try:
            return jsonlib.loads(content)
        except ValueError:
            raise CanvasError(
                method,
                _display_path(response.url, self._origin),
                response.status_code,
                "the answer is not JSON",
            ) from None


# -- module helpers ---------------------------------------------------------------------------


def _refuse_cookies() -> http.cookiejar.CookieJar:
    # The API authenticates by token alone. A stored Canvas session cookie would move us to a
    # session throttle bucket (without rate headers) and could be sent to the upload host.
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host, url.port or default_port)


def _display_path(url: httpx.URL, canvas_origin: tuple[str, str, int | None]) -> str:
    """The path as errors show it: no query string, no ``/api/v1``, host only if not Canvas."""
    path = url.path
    if _origin(url) != canvas_origin:
        return f"//{url.host}{path}"
    if path.startswith("/api/v1/"):
        return path[len("/api/v1") :]
    return path


_ID_SEGMENT = re.compile(r"^(\d+|[^/]*:.*|[0-9a-fA-F-]{16,})$")


def _template(path: str) -> str:
    """``/courses/5/quizzes/sis_x:7`` → ``/courses/:id/quizzes/:id``, for logs."""
    return "/".join(
        ":id" if segment and _ID_SEGMENT.match(segment) else segment for segment in path.split("/")
    )


def _body(json: Any, data: FormData | None) -> dict[str, Any]:
    if json is not None and data is not None:
        raise ValueError("send either json or data, not both")
    if json is not None:
        return {"json": json}
    if data is None:
        return {}
    pairs: list[tuple[str, str]] = []
    items = data.items() if isinstance(data, Mapping) else data
    for key, value in items:
        for item in value if isinstance(value, list | tuple) else [value]:
            pairs.append((key, _form_value(item)))
    return {
        "content": urlencode(pairs).encode(),
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
    }


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _is_throttled(response: httpx.Response) -> bool:
    # Hosted Canvas answers 429; open-source Canvas a plain-text 403 "... (Rate Limit Exceeded)".
    # Any other 403 is a permission error and must not be retried.
    if response.status_code == 429:
        return True
    return response.status_code == 403 and "Rate Limit Exceeded" in response.text


def _header_float(response: httpx.Response, name: str) -> float | None:
    try:
        return float(response.headers[name])
    except (KeyError, ValueError):
        return None


def _retry_after(response: httpx.Response) -> float | None:
    value = _header_float(response, "Retry-After")  # not documented by Canvas, honoured if sent
    return value if value is not None and value >= 0 else None


def _next_page(response: httpx.Response, body: Any) -> str | None:
    link = response.links.get("next", {}).get("url")
    if link:
        return link
    if isinstance(body, dict):  # New Quizzes may paginate in the body instead
        nxt = ((body.get("meta") or {}).get("pagination") or {}).get("next")
        return nxt if isinstance(nxt, str) and nxt else None
    return None


def _parsed_error_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        if response.headers.get("Content-Type", "").startswith("text/plain"):
            return response.text
        return None


def _first_message(body: Any) -> str:
    """Canvas's first human-readable error message, whatever shape the body has."""
    if isinstance(body, str):
        return body.strip().splitlines()[0] if body.strip() else ""
    if isinstance(body, list):
        return next((m for m in map(_first_message, body) if m), "")
    if isinstance(body, dict):
        if "errors" in body:
            return _first_message(body["errors"])
        if isinstance(message := body.get("message"), str):
            return message
        for key, value in body.items():  # attribute → [{"attribute", "type", "message"}]
            if isinstance(value, list | dict) and (inner := _first_message(value)):
                return f"{key}: {inner}"
    return ""


def _canvas_detail(response: httpx.Response) -> str:
    message = " ".join(_first_message(_parsed_error_body(response)).split())
    return message if len(message) <= _DETAIL_LIMIT else message[: _DETAIL_LIMIT - 1] + "…"


def _error_for(response: httpx.Response, method: str, path: str) -> CanvasError:
    status = response.status_code
    detail = _canvas_detail(response)
    if status == 400:
        body = _parsed_error_body(response)
        errors = body.get("errors", body) if isinstance(body, dict) else body
        return CanvasBadRequest(method, path, status, detail, errors=errors)
    if status == 401:
        # Canvas sends WWW-Authenticate only for a bad token; "not authorized" 401s lack it.
        auth_error: type[CanvasError] = CanvasForbidden
        if "WWW-Authenticate" in response.headers:
            auth_error = CanvasUnauthenticated
        return auth_error(method, path, status, detail)
    classes: dict[int, type[CanvasError]] = {
        403: CanvasForbidden,
        404: CanvasNotFound,
        422: CanvasUnprocessable,
    }
    cls = classes.get(status, CanvasServerError if status >= 500 else CanvasError)
    return cls(method, path, status, detail)
