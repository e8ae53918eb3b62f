"""Getting the tool into an LMS: Canvas developer-key JSON, LTI Dynamic Registration, setup facts.

* `canvas_developer_key(urls, settings)` is the JSON an admin pastes (or points Canvas at, via
  GET /lti/config/canvas.json) when creating an LTI developer key by hand.
* `DynamicRegistration` runs LTI Dynamic Registration 1.0 for Canvas and Moodle: read the
  platform's OpenID configuration, POST the tool's registration with the registration token,
  store the registration (and the deployment, when the platform says it).
* `setup_sheet(urls, settings)` lists exactly what to paste where, per LMS, for /lti/setup.

Dynamic registration creates a registration that can launch the tool, so by default it needs a
registration URL signed by the tool (`lms-bridge lti registration-url`): without it anyone could
register a "platform" of their own and sign launches as a teacher.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from sqlalchemy.exc import IntegrityError

from ..store.registry import (
    LtiRegistrationOptions,
    add_lti_deployment,
    add_lti_registration,
    get_lti_registration,
    set_lti_registration_options,
)
from .claims import (
    ASKED_PERMISSIONS,
    CANVAS_API_DOMAIN_FIELD,
    CANVAS_COURSE_FIELD,
    CANVAS_PERMISSIONS_FIELD,
    CANVAS_SIS_FIELD,
    MOODLE_COURSE_FIELD,
    MOODLE_SIS_FIELD,
)
from .errors import RegistrationFailed

TOOL_ID = "lms-bridge"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
WANTED_SCOPES = (NRPS_SCOPE,)
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
CANVAS_EXTENSION = "https://canvas.instructure.com/lti/"
# Hosted Canvas's issuers: the OpenID configuration is served from the school's own domain.
CANVAS_CLOUD_ISSUERS = frozenset(
    {"https://canvas.instructure.com", "https://canvas.beta.instructure.com", "https://canvas.test.instructure.com"}
)
CANVAS_PLACEMENTS = ("course_navigation", "assignment_menu")
CODE_PURPOSE = b"lti-dynamic-registration:"


@dataclass(frozen=True, slots=True)
class ToolUrls:
    """The tool's public URLs, from its root (https://exams.example.edu)."""

    base: str

    @classmethod
    def from_base(cls, base: str) -> ToolUrls:
        return cls(base.rstrip("/"))

    @property
    def login(self) -> str:
        return self.base + "/lti/login"

    @property
    def launch(self) -> str:
        return self.base + "/lti/launch"

    @property
    def jwks(self) -> str:
        return self.base + "/lti/jwks"

    @property
    def canvas_json(self) -> str:
        return self.base + "/lti/config/canvas.json"

    @property
    def register(self) -> str:
        return self.base + "/lti/register"

    @property
    def setup(self) -> str:
        return self.base + "/lti/setup"

    @property
    def domain(self) -> str:
        return urlsplit(self.base).netloc

    def placement_launch(self, placement: str) -> str:
        return f"{self.launch}?{urlencode({'placement': placement})}"


def canvas_custom_fields() -> dict[str, str]:
    """Canvas variable substitutions the tool relies on (lms_bridge.lti.claims reads them)."""
    return {
        CANVAS_COURSE_FIELD: "$Canvas.course.id",
        CANVAS_API_DOMAIN_FIELD: "$Canvas.api.domain",
        CANVAS_SIS_FIELD: "$Canvas.user.sisid",
        CANVAS_PERMISSIONS_FIELD: f"$Canvas.membership.permissions<{','.join(ASKED_PERMISSIONS)}>",
        "canvas_user_id": "$Canvas.user.id",
        "canvas_assignment_id": "$Canvas.assignment.id",
    }


def moodle_custom_parameters() -> dict[str, str]:
    return {MOODLE_COURSE_FIELD: "$Context.id", MOODLE_SIS_FIELD: "$Person.sourcedId"}


def _canvas_placements(urls: ToolUrls, title: str) -> list[dict[str, Any]]:
    return [
        {
            # Everyone in the course: staff set exams up, students see their own times.
            "placement": "course_navigation",
            "message_type": "LtiResourceLinkRequest",
            "target_link_uri": urls.placement_launch("course_navigation"),
            "text": title,
            "default": "enabled",
        },
        {
            # An assignment's menu (staff): set up the exam that assignment holds.
            "placement": "assignment_menu",
            "message_type": "LtiResourceLinkRequest",
            "target_link_uri": urls.placement_launch("assignment_menu"),
            "text": title,
        },
    ]


def canvas_developer_key(urls: ToolUrls, title: str, description: str) -> dict[str, Any]:
    """Canvas's LTI developer key JSON (Developer Keys › + LTI Key › Method: Paste JSON or Enter URL)."""
    return {
        "title": title,
        "description": description,
        "oidc_initiation_url": urls.login,
        "target_link_uri": urls.launch,
        "public_jwk_url": urls.jwks,
        "scopes": list(WANTED_SCOPES),
        "extensions": [
            {
                "platform": "canvas.instructure.com",
                "domain": urls.domain,
                "tool_id": TOOL_ID,
                # public: name and SIS id, needed to match students to the exams office's plans.
                "privacy_level": "public",
                "settings": {"text": title, "placements": _canvas_placements(urls, title)},
            }
        ],
        "custom_fields": canvas_custom_fields(),
    }


@dataclass(frozen=True, slots=True)
class SetupItem:
    where: str
    value: str


def setup_sheet(urls: ToolUrls, title: str, description: str) -> dict[str, list[SetupItem]]:
    """Exactly what an LMS admin pastes where, per LMS (rendered by GET /lti/setup)."""
    moodle_custom = "\n".join(f"{k}={v}" for k, v in moodle_custom_parameters().items())
    canvas_custom = "\n".join(f"{k}={v}" for k, v in canvas_custom_fields().items())
    return {
        "canvas_dynamic": [
            SetupItem("Admin › Developer Keys › + Developer Key › + LTI Registration › Dynamic Registration URL",
                      urls.register + "?code=… (from `lms-bridge lti registration-url`)"),
        ],
        "canvas_manual": [
            SetupItem("Admin › Developer Keys › + Developer Key › + LTI Key › Key Name", title),
            SetupItem("Redirect URIs", urls.launch),
            SetupItem("Configure › Method: Enter URL › JSON URL", urls.canvas_json),
            SetupItem("(or) Method: Manual Entry › Target Link URI", urls.launch),
            SetupItem("(or) Manual Entry › OpenID Connect Initiation Url", urls.login),
            SetupItem("(or) Manual Entry › JWK Method: Public JWK URL", urls.jwks),
            SetupItem("(or) Manual Entry › Custom Fields", canvas_custom),
            SetupItem("(or) Manual Entry › Placements", ", ".join(CANVAS_PLACEMENTS)),
            SetupItem("(or) Manual Entry › Privacy Level", "Public"),
            SetupItem("LTI Advantage Services", "Can retrieve user data associated with the context the tool is installed in"),
            SetupItem("After saving: key state", "ON; copy the key's Client ID (e.g. 10000000000042)"),
            SetupItem("Admin › Settings › Apps › + App › Configuration Type: By Client ID", "the Client ID above"),
            SetupItem("Then, on the tool's server",
                      "lms-bridge lti add-platform --platform canvas --issuer https://canvas.instructure.com "
                      "--client-id CLIENT_ID --deployment-id DEPLOYMENT_ID "
                      "--auth-login-url https://sso.canvaslms.com/api/lti/authorize_redirect "
                      "--auth-token-url https://sso.canvaslms.com/login/oauth2/token "
                      "--jwks-url https://sso.canvaslms.com/api/lti/security/jwks "
                      "(the deployment id is under the app's settings › Deployment Id)"),
        ],
        "moodle_dynamic": [
            SetupItem("Site administration › Plugins › Activity modules › External tool › Manage tools › Tool URL",
                      urls.register + "?code=… (from `lms-bridge lti registration-url`)"),
            SetupItem("Then", "Add LTI Advantage, and activate the tool (it is added as Pending)"),
        ],
        "moodle_manual": [
            SetupItem("Manage tools › configure a tool manually › Tool name", title),
            SetupItem("Tool URL", urls.launch),
            SetupItem("LTI version", "LTI 1.3"),
            SetupItem("Public key type", "Keyset URL"),
            SetupItem("Public keyset", urls.jwks),
            SetupItem("Initiate login URL", urls.login),
            SetupItem("Redirection URI(s)", urls.launch),
            SetupItem("Custom parameters", moodle_custom),
            SetupItem("Tool configuration usage", "Show in activity chooser and as a preconfigured tool"),
            SetupItem("Services › IMS LTI Names and Role Provisioning", "Use this service to retrieve members' information as per privacy settings"),
            SetupItem("Privacy › Share launcher's name with tool", "Always"),
            SetupItem("Then, from the tool's 'View configuration details', on the tool's server",
                      "lms-bridge lti add-platform --platform moodle --issuer PLATFORM_ID --client-id CLIENT_ID "
                      "--deployment-id DEPLOYMENT_ID --auth-login-url AUTHENTICATION_REQUEST_URL "
                      "--auth-token-url ACCESS_TOKEN_URL --jwks-url PUBLIC_KEYSET_URL"),
        ],
    }


# --- registration codes (who may run dynamic registration) -----------------------------------


def registration_code(secret: str, *, valid_for_seconds: int = 24 * 3600, now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + valid_for_seconds)
    return f"{expires}.{_code_mac(secret, expires)}"


def check_registration_code(secret: str, code: str | None, *, now: float | None = None) -> bool:
    if not code or "." not in code:
        return False
    expires_text, _, mac = code.partition(".")
    if not expires_text.isdigit():
        return False
    expires = int(expires_text)
    if expires < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(mac, _code_mac(secret, expires))


def _code_mac(secret: str, expires: int) -> str:
    return hmac.new(secret.encode(), CODE_PURPOSE + str(expires).encode(), hashlib.sha256).hexdigest()[:32]


# --- dynamic registration -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlatformConfiguration:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    product_family_code: str
    scopes_supported: tuple[str, ...]
    platform_version: str | None = None


@dataclass(frozen=True, slots=True)
class Registered:
    platform: str
    issuer: str
    client_id: str
    deployment_id: str | None


class DynamicRegistration:
    """LTI Dynamic Registration, tool side, for Canvas and Moodle."""

    def __init__(
        self, http: httpx.Client, urls: ToolUrls, *, title: str, description: str, allow_insecure: bool = False
    ) -> None:
        self._http = http
        self._urls = urls
        self._title = title
        self._description = description
        self._allow_insecure = allow_insecure

    def read_configuration(self, openid_configuration: str, registration_token: str | None) -> PlatformConfiguration:
        self._check_url(openid_configuration, "openid_configuration")
        headers = {"Accept": "application/json"}
        if registration_token:
            headers["Authorization"] = f"Bearer {registration_token}"
        try:
            response = self._http.get(openid_configuration, headers=headers)
        except httpx.HTTPError as exc:
            raise RegistrationFailed(
                f"The LMS's configuration could not be read from {openid_configuration} ({type(exc).__name__}).",
                code="platform_unreachable",
                status=502,
            ) from exc
        if response.status_code != 200:
            raise RegistrationFailed(
                f"The LMS answered {response.status_code} for its configuration at {openid_configuration}.",
                code="platform_refused",
                status=502,
            )
        try:
            data = response.json()
        except ValueError as exc:
            raise RegistrationFailed("The LMS's configuration is not JSON.", code="bad_configuration", status=502) from exc
        return self._parse_configuration(data, openid_configuration)

    def _parse_configuration(self, data: Any, source_url: str) -> PlatformConfiguration:
        if not isinstance(data, Mapping):
            raise RegistrationFailed("The LMS's configuration is not a JSON object.", code="bad_configuration")
        fields = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")
        missing = [f for f in fields if not isinstance(data.get(f), str) or not data.get(f)]
        if missing:
            raise RegistrationFailed(
                f"The LMS's configuration lacks {', '.join(missing)}.", code="bad_configuration"
            )
        platform_conf = data.get(PLATFORM_CONFIGURATION) or {}
        family = str(platform_conf.get("product_family_code") or "").lower() if isinstance(platform_conf, Mapping) else ""
        for f in fields:
            self._check_url(data[f], f)
        issuer = data["issuer"].rstrip("/")
        if urlsplit(issuer).netloc != urlsplit(source_url).netloc and not (
            family == "canvas" and issuer in CANVAS_CLOUD_ISSUERS
        ):
            raise RegistrationFailed(
                f"The LMS's issuer {issuer} is not on the host its configuration came from.", code="issuer_mismatch"
            )
        scopes = data.get("scopes_supported") or []
        return PlatformConfiguration(
            issuer=data["issuer"],
            authorization_endpoint=data["authorization_endpoint"],
            token_endpoint=data["token_endpoint"],
            jwks_uri=data["jwks_uri"],
            registration_endpoint=data["registration_endpoint"],
            product_family_code=family,
            scopes_supported=tuple(s for s in scopes if isinstance(s, str)),
            platform_version=str(platform_conf.get("version")) if isinstance(platform_conf, Mapping) else None,
        )

    def _check_url(self, url: str, what: str) -> None:
        parts = urlsplit(url)
        if parts.scheme == "https" or (self._allow_insecure and parts.scheme == "http"):
            if parts.netloc:
                return
        raise RegistrationFailed(f"The LMS's {what} is not an https URL: {url}", code="insecure_platform")

    def tool_registration(self, config: PlatformConfiguration) -> dict[str, Any]:
        """The registration request body (OpenID Connect client metadata + LTI tool configuration)."""
        urls = self._urls
        canvas = config.product_family_code == "canvas"
        scopes = [s for s in WANTED_SCOPES if not config.scopes_supported or s in config.scopes_supported]
        tool_conf: dict[str, Any] = {
            "domain": urls.domain,
            "description": self._description,
            "target_link_uri": urls.launch,
            "custom_parameters": canvas_custom_fields() if canvas else moodle_custom_parameters(),
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
        }
        if canvas:
            tool_conf["messages"] = [
                {
                    "type": "LtiResourceLinkRequest",
                    "target_link_uri": urls.placement_launch(p),
                    "label": self._title,
                    "placements": [p],
                    **({CANVAS_EXTENSION + "course_navigation/default_enabled": True} if p == "course_navigation" else {}),
                }
                for p in CANVAS_PLACEMENTS
            ]
            tool_conf[CANVAS_EXTENSION + "privacy_level"] = "public"
            tool_conf[CANVAS_EXTENSION + "tool_id"] = TOOL_ID
        else:
            tool_conf["messages"] = [
                {"type": "LtiResourceLinkRequest", "target_link_uri": urls.launch, "label": self._title}
            ]
        return {
            "application_type": "web",
            "response_types": ["id_token"],
            "grant_types": ["implicit", "client_credentials"],
            "initiate_login_uri": urls.login,
            "redirect_uris": [urls.launch],
            "client_name": self._title,
            "jwks_uri": urls.jwks,
            "token_endpoint_auth_method": "private_key_jwt",
            "scope": " ".join(scopes),
            TOOL_CONFIGURATION: tool_conf,
        }

    def register(self, config: PlatformConfiguration, registration_token: str | None) -> tuple[str, str | None]:
        """POST the registration; the platform's (client_id, deployment_id or None)."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if registration_token:
            headers["Authorization"] = f"Bearer {registration_token}"
        try:
            response = self._http.post(config.registration_endpoint, json=self.tool_registration(config), headers=headers)
        except httpx.HTTPError as exc:
            raise RegistrationFailed(
                f"The LMS could not be reached at {config.registration_endpoint} ({type(exc).__name__}).",
                code="platform_unreachable",
                status=502,
            ) from exc
        if response.status_code not in (200, 201):
            raise RegistrationFailed(
                f"The LMS refused the registration ({response.status_code}: {response.text[:200]}).",
                code="platform_refused",
                status=502,
            )
        try:
            data = response.json()
        except ValueError as exc:
            raise RegistrationFailed("The LMS's registration answer is not JSON.", code="bad_answer", status=502) from exc
        client_id = data.get("client_id") if isinstance(data, Mapping) else None
        if not isinstance(client_id, str) or not client_id:
            raise RegistrationFailed("The LMS's registration answer has no client_id.", code="bad_answer", status=502)
        tool_conf = data.get(TOOL_CONFIGURATION) or {}
        deployment_id = tool_conf.get("deployment_id") if isinstance(tool_conf, Mapping) else None
        return client_id, (str(deployment_id) if deployment_id not in (None, "") else None)


def store_registration(
    sessions: Any, config: PlatformConfiguration, client_id: str, deployment_id: str | None, *, actor: str
) -> Registered:
    """Record a dynamically registered platform (and its deployment when the platform told it)."""
    family = config.product_family_code if config.product_family_code in ("canvas", "moodle") else None
    now = datetime.now(UTC)
    try:
        with sessions.begin() as session:
            if get_lti_registration(session, config.issuer, client_id) is not None:
                raise RegistrationFailed(
                    f"This LMS (issuer {config.issuer}, client id {client_id}) is already registered.",
                    code="already_registered",
                    status=409,
                )
            add_lti_registration(
                session,
                issuer=config.issuer,
                client_id=client_id,
                auth_login_url=config.authorization_endpoint,
                auth_token_url=config.token_endpoint,
                key_set_url=config.jwks_uri,
                actor=actor,
                now=now,
            )
            if deployment_id:
                add_lti_deployment(
                    session, issuer=config.issuer, client_id=client_id, deployment_id=deployment_id, actor=actor, now=now
                )
            options = LtiRegistrationOptions(
                platform=family,  # type: ignore[arg-type]
                # Canvas creates deployments as admins install the tool and names them only in launches.
                accept_new_deployments=family == "canvas" or deployment_id is None,
                source="dynamic",
            )
            set_lti_registration_options(
                session, issuer=config.issuer, client_id=client_id, options=options, actor=actor, now=now
            )
    except IntegrityError as exc:
        raise RegistrationFailed("This LMS is already registered.", code="already_registered", status=409) from exc
    return Registered(family or "unknown", config.issuer, client_id, deployment_id)
