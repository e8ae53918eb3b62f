"""The tool's RSA key pairs: generation, rotation, retirement and the published JWKS.

Keys live in the database (lti_tool_keys). One key is *active*: it signs the tool's JWTs
(service tokens, deep-link responses). Rotation (`rotate`) adds a new active key and demotes the
old one to *previous*, which stays in the JWKS, because platforms cache JWKS and may still hold
tokens signed with it. `retire` removes a previous key from the JWKS for good. The `kid` is the
key's RFC 7638 thumbprint, as pylti1p3 computes it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK
from sqlalchemy.orm import Session, sessionmaker

from ..store.registry import (
    LtiToolKey,
    add_lti_tool_key,
    list_lti_tool_keys,
    retire_lti_tool_key,
)

KEY_BITS = 2048


def new_key_pair(bits: int = KEY_BITS) -> tuple[str, str, str]:
    """A fresh RSA key pair: (kid, private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return public_jwk(public_pem)["kid"], private_pem, public_pem


def public_jwk(public_pem: str) -> dict[str, Any]:
    """The public JWK of a PEM key: kty, n, e, kid (RFC 7638 thumbprint), alg RS256, use sig."""
    jwk = JWK.from_pem(public_pem.encode())
    data: dict[str, Any] = json.loads(jwk.export_public())
    data["kid"] = jwk.thumbprint()
    data["alg"] = "RS256"
    data["use"] = "sig"
    return data


def rotate(session: Session, *, actor: str, now: datetime | None = None) -> LtiToolKey:
    """Generate a new active key; the current one stays published as `previous`."""
    kid, private_pem, public_pem = new_key_pair()
    return add_lti_tool_key(
        session, kid=kid, private_pem=private_pem, public_pem=public_pem, actor=actor, now=now or datetime.now(UTC)
    )


def retire(session: Session, kid: str, *, actor: str, now: datetime | None = None) -> LtiToolKey:
    """Remove a previous key from the JWKS (the active key cannot be retired)."""
    return retire_lti_tool_key(session, kid=kid, actor=actor, now=now or datetime.now(UTC))


def ensure_active_key(session: Session, *, actor: str = "lms-bridge") -> LtiToolKey:
    """The active key, created first if the tool has none yet."""
    keys = [k for k in list_lti_tool_keys(session, include_retired=False) if k.state == "active"]
    if keys:
        return keys[0]
    return rotate(session, actor=actor)


class ToolKeys:
    """Read side for the web processes: the active key and the JWKS, cached for `ttl` seconds.

    A rotation reaches every process within `ttl`; meanwhile the old key still verifies, since
    it stays in the JWKS until retired.
    """

    def __init__(self, sessions: sessionmaker[Session], ttl: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self._sessions = sessions
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._loaded_at: float | None = None
        self._keys: list[LtiToolKey] = []
        self._jwks: dict[str, Any] = {"keys": []}
        self._jwk_by_kid: dict[str, dict[str, Any]] = {}

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = None

    def _load(self) -> None:
        now = self._clock()
        if self._loaded_at is not None and now - self._loaded_at < self._ttl:
            return
        with self._lock:
            if self._loaded_at is not None and now - self._loaded_at < self._ttl:
                return
            with self._sessions.begin() as session:
                keys = list_lti_tool_keys(session, include_retired=False)
                if not any(k.state == "active" for k in keys):
                    ensure_active_key(session)
                    keys = list_lti_tool_keys(session, include_retired=False)
            jwks = []
            for key in keys:
                jwk = self._jwk_by_kid.get(key.kid)
                if jwk is None:
                    jwk = self._jwk_by_kid[key.kid] = public_jwk(key.public_pem)
                jwks.append(jwk)
            self._keys = keys
            self._jwks = {"keys": jwks}
            self._loaded_at = now

    def active(self) -> LtiToolKey:
        self._load()
        return next(k for k in self._keys if k.state == "active")

    def jwks(self) -> dict[str, Any]:
        """Every non-retired public key (active first)."""
        self._load()
        return self._jwks
