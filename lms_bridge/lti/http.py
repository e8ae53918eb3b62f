"""Outbound HTTP of the LTI layer: httpx with timeouts, also behind pylti1p3's `requests` calls.

pylti1p3 2.0.0 does all its HTTP (platform JWKS, token endpoint, NRPS, AGS) through a
`requests.Session` with no timeout. `RequestsShim` stands in for that session: pylti1p3 only
calls ``get(url[, headers])`` / ``post(url, data=..., headers=...)`` and reads
``ok/status_code/headers/content/text/url/json()``, and it catches
``requests.exceptions.RequestException``, so httpx errors are re-raised as such.
"""

from __future__ import annotations

from typing import Any

import httpx
import requests

USER_AGENT = "lms-bridge-lti/1"
DEFAULT_TIMEOUT = 10.0


def new_client(timeout: float = DEFAULT_TIMEOUT, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An httpx client with lms_bridge's timeouts and User-Agent (no redirects followed)."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        transport=transport,
    )


class _Response:
    def __init__(self, response: httpx.Response) -> None:
        self._r = response

    @property
    def ok(self) -> bool:
        return self._r.is_success

    @property
    def status_code(self) -> int:
        return self._r.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self._r.headers

    @property
    def content(self) -> bytes:
        return self._r.content

    @property
    def text(self) -> str:
        return self._r.text

    @property
    def url(self) -> str:
        return str(self._r.url)

    def json(self) -> Any:
        return self._r.json()


class RequestsShim:
    """A duck-typed `requests.Session` for pylti1p3 that sends through an httpx client."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.headers = client.headers

    def _send(self, method: str, url: str, data: Any = None, headers: Any = None) -> _Response:
        kwargs: dict[str, Any] = {"headers": headers}
        if isinstance(data, (str, bytes)):
            kwargs["content"] = data  # AGS JSON bodies
        elif data is not None:
            kwargs["data"] = data  # the token endpoint's form
        try:
            return _Response(self.client.request(method, url, **kwargs))
        except httpx.HTTPError as exc:
            raise requests.exceptions.ConnectionError(f"{type(exc).__name__}: {exc}") from exc

    def get(self, url: str, headers: Any = None, **_: Any) -> _Response:
        return self._send("GET", url, headers=headers)

    def post(self, url: str, data: Any = None, headers: Any = None, **_: Any) -> _Response:
        return self._send("POST", url, data=data, headers=headers)
