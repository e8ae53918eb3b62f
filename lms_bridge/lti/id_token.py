"""Verify an id_token: RS256 signature with the platform's key, then the claims an LTI launch needs.

PyJWT's `decode` would do the same but first re-checks every base64 character in Python, which
costs more than the RSA verification itself on a 2 kB token; here a compiled regular expression
does that check and PyJWT's own RSA algorithm checks the signature. The rules (LTI 1.3 core
§5.1.3 and the 1EdTech Security Framework §5.1.3):

* the signature verifies with the key the header's kid names, with that key's algorithm only;
* ``iss`` is the registered issuer; ``aud`` is or contains the client id, and with several
  audiences ``azp`` names the client;
* ``exp``, ``iat``, ``nonce`` and ``sub`` are present; ``exp`` is not past and ``iat`` not in
  the future (each with `leeway`), ``nbf`` if present not in the future, and ``iat`` no older
  than `max_age`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from typing import Any

from jwt.algorithms import get_default_algorithms

from .errors import LaunchRejected

_SEGMENT = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_ALGORITHMS = {name: algorithm for name, algorithm in get_default_algorithms().items() if name in ("RS256", "RS384", "RS512")}
REQUIRED = ("iss", "aud", "sub", "exp", "iat", "nonce")


def _decode(segment: str) -> bytes:
    if not _SEGMENT.fullmatch(segment):
        raise LaunchRejected("The id_token is not a well-formed JWT.", code="malformed_token", status=400)
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise LaunchRejected("The id_token is not a well-formed JWT.", code="malformed_token", status=400) from exc


def verify(
    token: str,
    key: Any,
    algorithm: str,
    *,
    issuer: str,
    client_id: str,
    leeway: int,
    max_age: int,
    now: float | None = None,
    decoded: tuple[dict[str, Any], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The verified claims of `token`, or LaunchRejected naming the first rule broken.

    `decoded` may give the token's (header, claims) already decoded from these same segments (as
    pylti1p3 does before it asks for the signature), to skip decoding them again.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise LaunchRejected("The id_token is not a well-formed JWT.", code="malformed_token", status=400)
    header_b64, payload_b64, signature_b64 = parts
    try:
        header = decoded[0] if decoded else json.loads(_decode(header_b64))
    except ValueError as exc:
        raise LaunchRejected("The id_token is not a well-formed JWT.", code="malformed_token", status=400) from exc
    if not isinstance(header, dict) or header.get("alg") != algorithm or algorithm not in _ALGORITHMS:
        raise LaunchRejected("The id_token's algorithm is not its key's.", code="bad_alg")
    signature = _decode(signature_b64)
    if decoded and not _SEGMENT.fullmatch(payload_b64):
        raise LaunchRejected("The id_token is not a well-formed JWT.", code="malformed_token", status=400)
    if not _ALGORITHMS[algorithm].verify(f"{header_b64}.{payload_b64}".encode(), key, signature):
        raise LaunchRejected("The id_token's signature does not verify.", code="bad_signature")
    try:
        claims = decoded[1] if decoded else json.loads(_decode(payload_b64))
    except ValueError as exc:
        raise LaunchRejected("The id_token's claims are not JSON.", code="malformed_token", status=400) from exc
    if not isinstance(claims, dict):
        raise LaunchRejected("The id_token's claims are not a JSON object.", code="malformed_token", status=400)
    missing = [name for name in REQUIRED if claims.get(name) in (None, "")]
    if missing:
        raise LaunchRejected(f"The id_token lacks the required claim {missing[0]}.", code="missing_claim")
    now = time.time() if now is None else now
    exp, iat, nbf = claims["exp"], claims["iat"], claims.get("nbf")
    if not _is_number(exp) or not _is_number(iat) or (nbf is not None and not _is_number(nbf)):
        raise LaunchRejected("The id_token's exp, iat or nbf is not a number.", code="invalid_token")
    if exp <= now - leeway:
        raise LaunchRejected("The id_token has expired.", code="expired")
    if iat > now + leeway or (nbf is not None and nbf > now + leeway):
        raise LaunchRejected(
            f"The id_token was issued in the future (the LMS's clock is ahead by more than {leeway} seconds).",
            code="issued_in_future",
        )
    if iat < now - max_age:
        raise LaunchRejected("The id_token is too old.", code="expired")
    if claims["iss"] != issuer:
        raise LaunchRejected("The id_token's issuer is not the registered one.", code="wrong_issuer")
    aud = claims["aud"]
    audiences = aud if isinstance(aud, list) else [aud]
    if client_id not in audiences:
        raise LaunchRejected("The id_token is addressed to another client (aud).", code="wrong_audience")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise LaunchRejected("The id_token has several audiences and azp is not this tool.", code="wrong_audience")
    if "azp" in claims and claims["azp"] != client_id:
        raise LaunchRejected("The id_token's azp is another client.", code="wrong_audience")
    return claims


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
