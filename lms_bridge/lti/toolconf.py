"""pylti1p3's tool configuration, read from our database and keyed by (issuer, client_id).

Hosted Canvas uses one issuer (https://canvas.instructure.com) for every customer, so a
registration is found by issuer *and* client_id, never the issuer alone. pylti1p3's base class
keeps a class-level "one client per issuer" map that any ToolConfDict instance can flip; this
class answers "many clients" for every issuer and never consults it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from pylti1p3.deployment import Deployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..store.models import LtiRegistrationRow
from ..store.registry import LtiPlatform, get_lti_platform
from .keys import ToolKeys


class PlatformCache:
    """Registrations read from the database, kept per process for `ttl` seconds.

    Only found registrations are kept, so a new one is seen at once; a deployment id the cached
    copy lacks makes the caller re-read (`fresh=True`) before refusing, so a deployment added by
    `lms-bridge lti add-platform` or another node is seen at once too.
    """

    def __init__(
        self, sessions: sessionmaker[Session], ttl: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[tuple[str, str], tuple[float, LtiPlatform]] = {}
        self._lock = threading.Lock()

    def get(self, iss: str, client_id: str, *, fresh: bool = False) -> LtiPlatform | None:
        key = (iss, client_id)
        now = self._clock()
        hit = self._entries.get(key)
        if hit is not None and not fresh and now - hit[0] < self._ttl:
            return hit[1]
        with self._sessions() as session:
            platform = get_lti_platform(session, iss, client_id)
        with self._lock:
            if platform is None:
                self._entries.pop(key, None)
            else:
                self._entries[key] = (now, platform)
        return platform

    def only_client_id(self, iss: str) -> str | None:
        """The client id of the issuer's only registration (None: none, or several)."""
        with self._sessions() as session:
            ids = session.scalars(
                select(LtiRegistrationRow.client_id).where(LtiRegistrationRow.issuer == iss).limit(2)
            ).all()
        return ids[0] if len(ids) == 1 else None

    def forget(self, iss: str | None = None, client_id: str | None = None) -> None:
        with self._lock:
            if iss is None or client_id is None:
                self._entries.clear()
            else:
                self._entries.pop((iss, client_id), None)


class DbToolConf(ToolConfAbstract):  # type: ignore[type-arg]
    """pylti1p3's view of the registrations (one instance per request)."""

    def __init__(self, platforms: PlatformCache, tool_keys: ToolKeys) -> None:
        super().__init__()
        self._platforms = platforms
        self._tool_keys = tool_keys

    # pylti1p3 asks "one client per issuer?": never, for any issuer.
    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        raise NotImplementedError("registrations are keyed by (issuer, client_id)")

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        raise NotImplementedError("registrations are keyed by (issuer, client_id)")

    def platform(self, iss: str, client_id: str | None, *, fresh: bool = False) -> LtiPlatform | None:
        """The registration with its deployments and options.

        Without a client_id (some platforms omit it from the login request) the issuer must have
        exactly one registration.
        """
        if not client_id:
            client_id = self._platforms.only_client_id(iss)
            if client_id is None:
                return None
        return self._platforms.get(iss, client_id, fresh=fresh)

    def find_registration_by_params(self, iss: str, client_id: str, *args: Any, **kwargs: Any) -> Registration | None:
        platform = self.platform(iss, client_id)
        if platform is None:
            return None
        reg = platform.registration
        key = self._tool_keys.active()
        return (
            Registration()
            .set_issuer(reg.issuer)
            .set_client_id(reg.client_id)
            .set_auth_login_url(reg.auth_login_url)
            .set_auth_token_url(reg.auth_token_url)
            .set_key_set_url(reg.key_set_url)
            .set_tool_private_key(key.private_pem)
            .set_tool_public_key(key.public_pem)
        )

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Deployment | None:
        platform = self.platform(iss, client_id)
        if platform is not None and deployment_id not in platform.registration.deployment_ids:
            platform = self.platform(iss, client_id, fresh=True)
        if platform is None or deployment_id not in platform.registration.deployment_ids:
            return None
        return Deployment().set_deployment_id(deployment_id)

    def get_jwks(self, iss: str | None = None, client_id: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Every published tool key (active and previous), whatever the registration."""
        return self._tool_keys.jwks()
