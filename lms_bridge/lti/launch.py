"""pylti1p3's OIDC login and message launch, with the gaps of 2.0.0 closed.

pylti1p3 still does the protocol: the login's auth redirect (state, nonce, parameters) and the
launch's pipeline (state, JWT format, nonce, registration, signature, deployment, message type
and its claims). `HardenedLaunch` overrides these steps:

* state: signed by this tool and not expired (lms_bridge.lti.login_state: nothing is stored
  between login and launch), and bound to the browser by its state cookie or, when the browser
  blocks the cookie, by a binding the login put into the LMS through LTI Platform Storage;
* nonce: must be the one derived from this login's state, and is used once across every
  process (the launch is stored under it, unique, once everything else has been checked);
* registration: (iss, client_id) from the token must be those the login began with; with several
  audiences, ``azp`` names the client (pylti1p3 takes ``aud[0]``);
* signature: RS256 only, with the platform's key by kid (cached, refetched on an unknown kid),
  ``exp``, ``iat``, ``nonce`` and ``sub`` required, ``aud``/``azp`` and ``iss`` checked, clock
  leeway both ways, and no token older than `max_token_age` (lms_bridge.lti.id_token);
* deployment: known for (iss, client_id), or recorded on first sight where the registration
  allows it (Canvas);
* message: resource link launches only, with their claims; target_link_uri on this tool.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from flask import Response
from pylti1p3.contrib.flask import FlaskCookieService, FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.registration import Registration
from pylti1p3.session import SessionService
from sqlalchemy.exc import IntegrityError

from ..store.errors import NotFoundError
from ..store.registry import LtiPlatform, add_lti_deployment
from ..web.launch_context import LaunchContext
from . import id_token
from .claims import DEPLOYMENT_CLAIM, MESSAGE_TYPE_CLAIM, TARGET_LINK_CLAIM, build_launch_context
from .errors import CookieBlocked, LaunchRejected, LoginRejected, PlatformStorageNeeded
from .login_state import LoginState, storage_key, target_digest
from .toolconf import DbToolConf

if TYPE_CHECKING:
    from .tool import LtiTool

SUPPORTED_MESSAGES = ("LtiResourceLinkRequest",)
BINDING_FIELD = "lti_storage_binding"


def set_tool_cookie(response: Response, name: str, value: str, *, max_age: int | None, secure: bool) -> None:
    """Set a cookie the LMS iframe can send back.

    Over TLS (directly or behind a proxy that ProxyFix trusts): ``SameSite=None; Secure;
    Partitioned`` (CHIPS), so the browser sends it on the LMS's cross-site POST and keeps it in
    the LMS's partition. Over plain HTTP (a developer's machine) browsers refuse SameSite=None
    without Secure, so it is Lax.
    """
    if secure:
        response.set_cookie(
            name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="None", partitioned=True
        )
    else:
        response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="Lax")


class ToolCookieService(FlaskCookieService):  # type: ignore[misc]
    """pylti1p3's cookie service, writing Partitioned cookies (it cannot) and only when asked."""

    def __init__(self, request: FlaskRequest, secure: bool) -> None:
        super().__init__(request)
        self._secure = secure

    def update_response(self, response: Response) -> None:
        for key, data in self._cookie_data_to_set.items():
            set_tool_cookie(response, key, data["value"], max_age=data["exp"], secure=self._secure)


class StatelessSessionService(SessionService):  # type: ignore[misc]
    """pylti1p3's session service, with nothing to keep: the signed state carries the login.

    pylti1p3's login calls save_nonce(); its launch would call check_nonce() and
    check_state_is_valid(), which HardenedLaunch replaces. The Flask session is never used.
    """

    def save_nonce(self, nonce: str) -> None:
        pass

    def save_state_params(self, state: str, params: dict[str, Any]) -> None:
        pass

    def check_nonce(self, nonce: str) -> bool:
        return False

    def check_state_is_valid(self, state: str, id_token_hash: str) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class LoginRedirect:
    """The outcome of a login: the platform's auth URL the browser goes to next, and its state."""

    url: str
    state: str
    # LTI Platform Storage: the key and value to put, and the frame's origin (None: not offered).
    storage_key: str | None = None
    binding: str | None = None
    storage_origin: str | None = None


class ToolLogin(FlaskOIDCLogin):  # type: ignore[misc]
    """pylti1p3's OIDC login with our state (signed, self-contained) and our nonce (derived)."""

    def __init__(
        self,
        request: FlaskRequest,
        tool_conf: DbToolConf,
        tool: LtiTool,
        secure: bool,
        *,
        target_link_uri: str | None,
        storage_target: str | None,
    ) -> None:
        self.cookies = ToolCookieService(request, secure)
        super().__init__(
            request, tool_conf, session_service=StatelessSessionService(request), cookie_service=self.cookies
        )
        self._db_conf = tool_conf
        self._tool = tool
        self._target_link_uri = target_link_uri
        self._storage_target = storage_target
        self._state: str | None = None

    def validate_oidc_login(self) -> Registration:
        iss = self._get_request_param("iss")
        if not iss:
            raise LoginRejected("The LMS did not say who it is (no iss).", code="missing_iss")
        if not self._get_request_param("login_hint"):
            raise LoginRejected("The LMS sent no login_hint.", code="missing_login_hint")
        registration = self._db_conf.find_registration_by_params(iss, self._get_request_param("client_id"))
        if registration is None:
            raise LoginRejected(
                f"This LMS is not registered with the tool (issuer {iss}, client id "
                f"{self._get_request_param('client_id') or 'not sent'}). An administrator can register it "
                "with dynamic registration or `lms-bridge lti add-platform`.",
                code="unknown_platform",
            )
        return registration

    def _get_uuid(self) -> str:
        # pylti1p3 makes the state "state-" + _get_uuid(), after validate_oidc_login().
        self._state = self._tool.states.issue(
            issuer=self._registration.get_issuer(),
            client_id=self._registration.get_client_id(),
            ttl=self._tool.settings.login_ttl,
            target_link_uri=self._target_link_uri,
            storage_target=self._storage_target,
        )
        return self._state

    def _generate_nonce(self) -> str:
        assert self._state is not None, "pylti1p3 makes the state before the nonce"
        return self._tool.states.nonce_for("state-" + self._state)

    def begin(self, launch_url: str) -> LoginRedirect:
        url = self.get_redirect_object(launch_url).get_redirect_url()
        state = dict(parse_qsl(urlsplit(url).query))["state"]
        if not self._storage_target:
            return LoginRedirect(url, state)
        auth = urlsplit(self._registration.get_auth_login_url())
        return LoginRedirect(
            url, state, storage_key(state), self._tool.states.binding_for(state), f"{auth.scheme}://{auth.netloc}"
        )


class HardenedLaunch(FlaskMessageLaunch):  # type: ignore[misc]
    def __init__(self, request: FlaskRequest, tool_conf: DbToolConf, tool: LtiTool, secure: bool) -> None:
        self._tool = tool
        self._db_conf = tool_conf
        self.cookies = ToolCookieService(request, secure)
        super().__init__(
            request,
            tool_conf,
            session_service=StatelessSessionService(request),
            cookie_service=self.cookies,
            requests_session=tool.requests_session(),
        )
        self._launch_id = secrets.token_urlsafe(32)
        self._state: str | None = None
        self._login: LoginState | None = None
        self._platform: LtiPlatform | None = None
        self._claims: dict[str, Any] | None = None
        self.context: LaunchContext | None = None

    # --- which client: azp when there are several audiences -----------------------------------
    def get_client_id(self) -> str:
        body = self._get_jwt_body()
        aud = body.get("aud")
        if isinstance(aud, list):
            if len(aud) == 1:
                return str(aud[0])
            azp = body.get("azp")
            if not azp or azp not in aud:
                raise LaunchRejected(
                    "The id_token has several audiences but no azp naming this tool.", code="wrong_audience"
                )
            return str(azp)
        if not isinstance(aud, str) or not aud:
            raise LaunchRejected("The id_token has no audience (aud).", code="wrong_audience")
        return aud

    # --- state: issued here, bound to this browser ----------------------------------------------
    def validate_state(self) -> HardenedLaunch:
        state = self._get_request_param("state")
        if not state:
            raise LaunchRejected(
                "The launch carried no state. Open the tool again from your course.", code="missing_state", status=400
            )
        login = self._tool.states.read(state.removeprefix("state-")) if state.startswith("state-") else None
        if login is None:
            raise LaunchRejected(
                "This sign-in is unknown or has expired (state not recognised). Open the tool again from your course.",
                code="unknown_state",
            )
        if self.cookies.get_cookie(state) != state:
            binding = self._get_request_param(BINDING_FIELD)
            if binding:
                if not hmac.compare_digest(str(binding), self._tool.states.binding_for(state)):
                    raise LaunchRejected(
                        "The sign-in could not be matched to this browser (platform storage).",
                        code="state_mismatch",
                    )
            elif login.storage_target:
                platform = self._db_conf.platform(login.issuer, login.client_id)
                auth = urlsplit(platform.registration.auth_login_url) if platform else None
                origin = f"{auth.scheme}://{auth.netloc}" if auth else "*"
                raise PlatformStorageNeeded(login.storage_target, storage_key(state), origin)
            else:
                raise CookieBlocked(
                    "Your browser did not send back the cookie set when the tool started signing you in; "
                    "this happens when a browser blocks third-party cookies inside the LMS page. Open the "
                    "tool again from your course: it will offer to open in a new window."
                )
        self._state = state
        self._login = login
        return self

    # --- nonce: the one this login issued (used once: see save_launch_data) ---------------------
    def validate_nonce(self) -> HardenedLaunch:
        nonce = self._get_jwt_body().get("nonce")
        assert self._state is not None
        expected = self._tool.states.nonce_for(self._state)
        if not nonce or not isinstance(nonce, str) or not hmac.compare_digest(nonce, expected):
            raise LaunchRejected("The id_token's nonce is not the one this sign-in issued.", code="bad_nonce")
        return self

    # --- registration: the one the login began with ---------------------------------------------
    def validate_registration(self) -> HardenedLaunch:
        assert self._login is not None
        iss = self.get_iss()
        client_id = self.get_client_id()
        if iss != self._login.issuer:
            raise LaunchRejected(
                "The id_token comes from another issuer than the sign-in was started by.", code="wrong_issuer"
            )
        if client_id != self._login.client_id:
            raise LaunchRejected("The id_token is addressed to another client (aud).", code="wrong_audience")
        super().validate_registration()
        self._platform = self._db_conf.platform(iss, client_id)
        return self

    # --- signature and dates ----------------------------------------------------------------------
    def validate_jwt_signature(self) -> HardenedLaunch:
        assert self._registration is not None and self._login is not None
        settings = self._tool.settings
        header = self._jwt.get("header", {})
        key = self._tool.platform_keys.key_for(
            self._registration.get_key_set_url(), header.get("kid"), header.get("alg")
        )
        claims = id_token.verify(
            self._get_id_token(),
            key,
            header.get("alg"),
            issuer=self._registration.get_issuer(),
            client_id=self._registration.get_client_id(),
            leeway=settings.leeway,
            max_age=settings.max_token_age,
            decoded=(header, self._jwt["body"]),  # pylti1p3 decoded these segments already
        )
        self._claims = claims
        return self

    # --- deployment ----------------------------------------------------------------------------
    def validate_deployment(self) -> HardenedLaunch:
        deployment_id = self._get_jwt_body().get(DEPLOYMENT_CLAIM)
        if not isinstance(deployment_id, str) or not deployment_id or len(deployment_id) > 255:
            raise LaunchRejected("The id_token has no valid deployment_id.", code="missing_claim", status=400)
        assert self._platform is not None
        if deployment_id in self._platform.registration.deployment_ids:
            return self
        reg = self._platform.registration
        self._platform = self._db_conf.platform(reg.issuer, reg.client_id, fresh=True) or self._platform
        if deployment_id in self._platform.registration.deployment_ids:
            return self  # added since this process read the registration
        if not self._platform.options.accept_new_deployments:
            raise LaunchRejected(
                f"This tool is not set up for deployment {deployment_id} of this LMS. An administrator can add it "
                "with `lms-bridge lti add-platform ... --deployment-id`.",
                code="unknown_deployment",
                status=403,
            )
        self._tool.record_deployment(self._platform, deployment_id)
        return self

    # --- message type and target ----------------------------------------------------------------
    def validate_message(self) -> HardenedLaunch:
        body = self._get_jwt_body()
        message_type = body.get(MESSAGE_TYPE_CLAIM)
        if message_type not in SUPPORTED_MESSAGES:
            raise LaunchRejected(
                f"This tool does not support {message_type or 'this kind of'} launches; add it to a course as a "
                "link (course navigation or an activity).",
                code="unsupported_message",
                status=400,
            )
        super().validate_message()
        assert self._login is not None
        claimed = body.get(TARGET_LINK_CLAIM)
        asked = self._login.target
        if claimed and asked and target_digest(str(claimed)) != asked:
            raise LaunchRejected(
                "The id_token's target_link_uri is not the one the sign-in asked for.", code="target_mismatch"
            )
        return self

    # --- the launch is good: store its context under its nonce (refused if the nonce was used) ---
    def save_launch_data(self) -> HardenedLaunch:
        assert self._login is not None and self._claims is not None and self._platform is not None
        settings = self._tool.settings
        context = build_launch_context(
            self._claims,
            launch_id=self._launch_id,
            client_id=self._login.client_id,
            configured_platform=self._platform.options.platform,
        )
        finished = self._tool.state_store.finish_launch(
            nonce=self._claims["nonce"],
            nonce_ttl=settings.nonce_ttl,
            context=context,
            ttl=settings.launch_ttl,
        )
        if not finished:
            raise LaunchRejected(
                "This launch was already used (replayed nonce). Open the tool again from your course.", code="replay"
            )
        self.context = context
        return self


# pylti1p3's own messages for the steps it still runs, mapped to our codes.
_LIBRARY_CODES = {
    "Missing id_token": ("missing_id_token", 400),
    "Invalid id_token, JWT must contain 3 parts": ("malformed_token", 400),
    "Invalid JWT format, can't be decoded": ("malformed_token", 400),
    "Registration not found.": ("unknown_platform", 401),
    "Client id not registered for this issuer": ("wrong_audience", 401),
    '"iss" is empty': ("missing_claim", 400),
    "Invalid message type": ("unsupported_message", 400),
    "Unrecognized message type": ("unsupported_message", 400),
}


def library_rejection(exc: LtiException | OIDCException) -> LaunchRejected:
    code, status = _LIBRARY_CODES.get(str(exc), ("invalid_launch", 400))
    return LaunchRejected(f"The launch is not valid: {exc}", code=code, status=status)


def record_new_deployment(tool: LtiTool, platform: LtiPlatform, deployment_id: str) -> None:
    reg = platform.registration
    try:
        with tool.sessions.begin() as session:
            add_lti_deployment(
                session,
                issuer=reg.issuer,
                client_id=reg.client_id,
                deployment_id=deployment_id,
                actor="lti:first-launch",
                now=datetime.now(UTC),
            )
    except IntegrityError:
        pass  # another launch recorded it first
    except NotFoundError as exc:
        raise LaunchRejected("This LMS's registration was removed.", code="unknown_platform") from exc
