"""The LTI tool as one object: settings, state store, keys, and the login and launch steps.

The web app keeps one `LtiTool` in ``app.extensions["lms_bridge.lti"]``; the blueprint in
lms_bridge.web.lti_views turns its results into HTTP responses.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pylti1p3.contrib.flask import FlaskRequest
from pylti1p3.exception import LtiException, OIDCException
from sqlalchemy.orm import Session, sessionmaker

from ..store.registry import LtiPlatform
from ..web.launch_context import LaunchContext
from .errors import LaunchRejected, LoginRejected
from .http import DEFAULT_TIMEOUT, RequestsShim, new_client
from .keys import ToolKeys
from .launch import HardenedLaunch, LoginRedirect, ToolCookieService, ToolLogin, library_rejection, record_new_deployment
from .platform_keys import PlatformKeys
from .login_state import StateSigner
from .state import SqlStateStore, StateStore
from .toolconf import DbToolConf, PlatformCache

DYNAMIC_REGISTRATION_MODES = ("code", "open", "off")


@dataclass(frozen=True, slots=True)
class LtiSettings:
    """Knobs of the LTI layer; `from_config` reads them from the Flask config (LTI_* keys)."""

    # Clock skew tolerated on exp and iat, both ways (stock pylti1p3: 0).
    leeway: int = 60
    # An id_token issued longer ago than this is refused, whatever its exp.
    max_token_age: int = 600
    # How long a login may wait for its launch.
    login_ttl: int = 600
    # How long a launch id stays valid for pages.
    launch_ttl: int = 4 * 3600
    # Check, once per browser, that cookies survive in the LMS frame (else offer a new window).
    cookie_check: bool = True
    http_timeout: float = DEFAULT_TIMEOUT
    jwks_ttl: float = 3600.0
    jwks_refetch_interval: float = 10.0
    # The tool's public root URL (https://exams.example.edu); default: from each request.
    base_url: str | None = None
    # Accept http:// platform URLs in dynamic registration (development only).
    allow_insecure_platforms: bool = False
    # Dynamic registration: "code" (URL from `lms-bridge lti registration-url`), "open", "off".
    dynamic_registration: str = "code"
    tool_title: str = "Exam times"
    tool_description: str = "Exam windows, extra time and rest breaks, set from the exams office's timetable."

    @property
    def nonce_ttl(self) -> int:
        """Long enough that a nonce is remembered while its token could still be accepted."""
        return self.max_token_age + 2 * self.leeway

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LtiSettings:
        names = {
            "leeway": "LTI_LEEWAY",
            "max_token_age": "LTI_MAX_TOKEN_AGE",
            "login_ttl": "LTI_LOGIN_TTL",
            "launch_ttl": "LTI_LAUNCH_TTL",
            "cookie_check": "LTI_COOKIE_CHECK",
            "http_timeout": "LTI_HTTP_TIMEOUT",
            "jwks_ttl": "LTI_JWKS_TTL",
            "jwks_refetch_interval": "LTI_JWKS_REFETCH_INTERVAL",
            "base_url": "LTI_BASE_URL",
            "allow_insecure_platforms": "LTI_ALLOW_INSECURE_PLATFORMS",
            "dynamic_registration": "LTI_DYNAMIC_REGISTRATION",
            "tool_title": "LTI_TOOL_TITLE",
            "tool_description": "LTI_TOOL_DESCRIPTION",
        }
        values = {field: config[key] for field, key in names.items() if config.get(key) is not None}
        settings = cls(**values)
        if settings.dynamic_registration not in DYNAMIC_REGISTRATION_MODES:
            raise ValueError(
                f"LTI_DYNAMIC_REGISTRATION must be one of {', '.join(DYNAMIC_REGISTRATION_MODES)}, "
                f"not {settings.dynamic_registration!r}"
            )
        if settings.leeway < 0 or settings.leeway > 300:
            raise ValueError("LTI_LEEWAY must be between 0 and 300 seconds")
        return settings


class LtiTool:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: LtiSettings | None = None,
        state_store: StateStore | None = None,
        *,
        secret: str | bytes,
        http_transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.sessions = sessions
        self.states = StateSigner(secret)
        self.settings = settings or LtiSettings()
        self.state_store: Any = state_store or SqlStateStore(sessions.kw["bind"])
        self.tool_keys = ToolKeys(sessions)
        self.platforms = PlatformCache(sessions)
        self._http_transport = http_transport
        self._http: httpx.Client | None = None
        self._http_lock = threading.Lock()
        self.platform_keys = PlatformKeys(
            self.http_client, ttl=self.settings.jwks_ttl, refetch_interval=self.settings.jwks_refetch_interval
        )

    # --- outbound HTTP ----------------------------------------------------------------------------
    def http_client(self) -> httpx.Client:
        """The process's shared httpx client (created on first use, so after a gunicorn fork)."""
        if self._http is None:
            with self._http_lock:
                if self._http is None:
                    self._http = new_client(self.settings.http_timeout, self._http_transport)
        return self._http

    def set_http_transport(self, transport: httpx.BaseTransport | None) -> None:
        """Send outbound calls through `transport` from now on (tests route them to fake LMSs)."""
        with self._http_lock:
            if self._http is not None:
                self._http.close()
            self._http = None
            self._http_transport = transport
        self.platform_keys.forget()

    def requests_session(self) -> RequestsShim:
        """What pylti1p3 gets as its `requests_session` (JWKS, token, NRPS, AGS calls)."""
        return RequestsShim(self.http_client())

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    # --- lookups ----------------------------------------------------------------------------------
    def conf(self) -> DbToolConf:
        return DbToolConf(self.platforms, self.tool_keys)

    # --- step 1: login initiation -----------------------------------------------------------------
    def begin_login(
        self,
        params: Mapping[str, str],
        *,
        launch_url: str,
        secure: bool,
        storage_target: str | None = None,
        conf: DbToolConf | None = None,
    ) -> tuple[LoginRedirect, ToolCookieService]:
        """Sign a state for this login (nothing is stored) and build the platform's auth URL.

        The state cookie to set is on the returned cookie service (`update_response`).
        """
        request = FlaskRequest(request_data=dict(params), request_is_secure=secure)
        login = ToolLogin(
            request,
            conf or self.conf(),
            self,
            secure,
            target_link_uri=params.get("target_link_uri") or None,
            storage_target=storage_target,
        )
        try:
            redirect = login.begin(launch_url)
        except OIDCException as exc:
            raise LoginRejected(f"The sign-in could not start: {exc}", code="invalid_login") from exc
        return redirect, login.cookies

    # --- step 3: the launch -----------------------------------------------------------------------
    def complete_launch(self, *, secure: bool) -> LaunchContext:
        """Validate the id_token POST of this request and store its LaunchContext.

        Raises LaunchRejected (a 4xx) or PlatformStorageNeeded (the browser must fetch the state's
        binding from the LMS and post again).
        """
        request = FlaskRequest(request_is_secure=secure)
        launch = HardenedLaunch(request, self.conf(), self, secure)
        try:
            launch.validate()
        except (LtiException, OIDCException) as exc:
            raise library_rejection(exc) from exc
        if launch.context is None:  # pragma: no cover - validate() either stores it or raises
            raise LaunchRejected("The launch could not be stored.")
        return launch.context

    def record_deployment(self, platform: LtiPlatform, deployment_id: str) -> None:
        record_new_deployment(self, platform, deployment_id)
        self.platforms.forget(platform.registration.issuer, platform.registration.client_id)
