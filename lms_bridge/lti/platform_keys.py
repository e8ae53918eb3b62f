"""Platform public keys (JWKS), cached per process, refetched when a token names an unknown kid.

Platforms rotate their signing keys (D2L hourly; Canvas and Moodle less often). A token signed
with a key the cache does not hold triggers one refetch, at most once per `refetch_interval`
per JWKS URL, so a flood of forged kids cannot turn the tool into a JWKS hammer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from jwt.algorithms import RSAAlgorithm

from .errors import LaunchRejected

ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512")


@dataclass
class _KeySet:
    fetched_at: float
    keys: dict[str, tuple[str, Any]] = field(default_factory=dict)  # kid -> (alg, public key object)


class PlatformKeys:
    def __init__(
        self,
        http_client: Callable[[], httpx.Client],
        *,
        ttl: float = 3600.0,
        refetch_interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http_client = http_client
        self._ttl = ttl
        self._refetch_interval = refetch_interval
        self._clock = clock
        self._sets: dict[str, _KeySet] = {}
        self._refetched_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def key_for(self, jwks_url: str, kid: str | None, alg: str | None) -> Any:
        """The public key object that verifies a token with this header, fetched if needed."""
        if not kid:
            raise LaunchRejected("The id_token names no signing key (kid).", code="no_kid")
        if alg not in ALLOWED_ALGORITHMS:
            raise LaunchRejected(f"The id_token is signed with {alg!r}; only RS256 is accepted.", code="bad_alg")
        now = self._clock()
        cached = self._sets.get(jwks_url)
        just_fetched = cached is None or now - cached.fetched_at >= self._ttl
        if just_fetched:
            cached = self._fetch(jwks_url)
        assert cached is not None
        found = cached.keys.get(kid)
        if found is None and not just_fetched and self._may_refetch(jwks_url, now):
            # Unknown kid: the platform may have rotated its key since we cached its JWKS.
            cached = self._fetch(jwks_url)
            found = cached.keys.get(kid)
        if found is None:
            raise LaunchRejected(
                "The id_token is signed with a key the LMS does not publish (unknown kid).",
                code="unknown_kid",
            )
        key_alg, key = found
        if key_alg != alg:
            raise LaunchRejected("The id_token's algorithm does not match its key.", code="bad_alg")
        return key

    def _may_refetch(self, jwks_url: str, now: float) -> bool:
        """At most one unknown-kid refetch per URL per refetch_interval (a forged kid costs one)."""
        with self._lock:
            last = self._refetched_at.get(jwks_url)
            if last is not None and now - last < self._refetch_interval:
                return False
            self._refetched_at[jwks_url] = now
            return True

    def forget(self, jwks_url: str | None = None) -> None:
        with self._lock:
            if jwks_url is None:
                self._sets.clear()
                self._refetched_at.clear()
            else:
                self._sets.pop(jwks_url, None)
                self._refetched_at.pop(jwks_url, None)

    def _fetch(self, url: str) -> _KeySet:
        with self._lock:
            now = self._clock()
            if not url.startswith(("https://", "http://")):
                raise LaunchRejected("The platform's JWKS URL is not an http(s) URL.", code="bad_jwks_url")
            try:
                response = self._http_client().get(url, headers={"Accept": "application/json"})
                response.raise_for_status()
                document = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise LaunchRejected(
                    f"The tool could not read the LMS's public keys from {url} ({type(exc).__name__}).",
                    code="jwks_unavailable",
                    status=502,
                ) from exc
            keys: dict[str, tuple[str, Any]] = {}
            for jwk in document.get("keys", []) if isinstance(document, dict) else []:
                if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or not jwk.get("kid"):
                    continue
                if jwk.get("use", "sig") != "sig":
                    continue
                alg = jwk.get("alg", "RS256")
                if alg not in ALLOWED_ALGORITHMS:
                    continue
                try:
                    keys[jwk["kid"]] = (alg, RSAAlgorithm.from_jwk(jwk))
                except (jwt.InvalidKeyError, ValueError, KeyError):
                    continue
            keyset = _KeySet(fetched_at=now, keys=keys)
            self._sets[url] = keyset
            return keyset
