"""The OIDC `state` as a signed, self-contained token: no storage between login and launch.

The login puts in the state what the launch must check (issuer and client id the login began
with, when it expires, a digest of the target_link_uri asked for, the Platform Storage target)
plus 16 random bytes, and signs it with a key derived from the app's SECRET_KEY, so every node
sharing that key can check it. From the state the tool derives, with the same key:

* the nonce it sends to the platform (the id_token must carry exactly it), and
* the browser binding it puts into LTI Platform Storage when the platform offers it.

A state cannot be forged or extended, and it says nothing secret. It is bound to the browser by
the ``lti1p3-<state>`` cookie (or the Platform Storage binding); the nonce's single use is
enforced by the shared used-nonce store at launch.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

_VERSION = "v1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def target_digest(target_link_uri: str | None) -> str | None:
    """A short digest of a target_link_uri's scheme, host and path (its query may vary)."""
    if not target_link_uri:
        return None
    parts = urlsplit(target_link_uri)
    return _b64(hashlib.sha256(f"{parts.scheme}://{parts.netloc}{parts.path}".encode()).digest()[:12])


@dataclass(frozen=True, slots=True)
class LoginState:
    issuer: str
    client_id: str
    expires_at: int
    target: str | None = None  # target_digest() of the login's target_link_uri
    storage_target: str | None = None  # the LTI Platform Storage frame, when the LMS offered one


class StateSigner:
    def __init__(self, secret: str | bytes) -> None:
        material = secret.encode() if isinstance(secret, str) else secret
        if not material:
            raise ValueError("a secret key is needed to sign OIDC states")
        self._key = hmac.new(material, b"lms_bridge lti login state", hashlib.sha256).digest()

    def _mac(self, purpose: bytes, text: str, size: int) -> str:
        return _b64(hmac.new(self._key, purpose + text.encode(), hashlib.sha256).digest()[:size])

    def issue(
        self,
        *,
        issuer: str,
        client_id: str,
        ttl: int,
        target_link_uri: str | None = None,
        storage_target: str | None = None,
        now: float | None = None,
    ) -> str:
        expires = int((now if now is not None else time.time()) + ttl)
        payload = [issuer, client_id, expires, target_digest(target_link_uri), storage_target, _b64(secrets.token_bytes(16))]
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{_VERSION}.{body}.{self._mac(b'state:', body, 18)}"

    def read(self, state: str, *, now: float | None = None) -> LoginState | None:
        """The login a state was issued for, or None if it is not ours, altered or expired."""
        if not state or len(state) > 2048:
            return None
        version, _, rest = state.partition(".")
        body, _, mac = rest.partition(".")
        if version != _VERSION or not body or not hmac.compare_digest(mac, self._mac(b"state:", body, 18)):
            return None
        try:
            issuer, client_id, expires, target, storage_target, _random = json.loads(_unb64(body))
        except (ValueError, TypeError):
            return None
        if int(expires) < (now if now is not None else time.time()):
            return None
        return LoginState(str(issuer), str(client_id), int(expires), target, storage_target)

    def nonce_for(self, state: str) -> str:
        return self._mac(b"nonce:", state, 24)

    def binding_for(self, state: str) -> str:
        return self._mac(b"binding:", state, 24)


def storage_key(state: str) -> str:
    """The LTI Platform Storage key of a state's binding (short: platforms limit key sizes)."""
    return "lms_bridge_" + _b64(hashlib.sha256(state.encode()).digest()[:12])
