"""Fake Canvas and Moodle for launch tests: lti1p3platform 0.1.8 signs real id_tokens (RS256, real
RSA keys) with the claims each LMS really sends, and a full OIDC launch runs through the tool.

    from tests.lti.platforms import (INSTRUCTOR, LEARNER, FakePlatform, launch, make_app, register)

    app = make_app(tmp_path)                       # or create_app(...) of your own, then attach()
    canvas = FakePlatform.canvas()                 # hosted Canvas: iss https://canvas.instructure.com
    moodle = FakePlatform.moodle()                 # Moodle 4.5: iss = its wwwroot
    register(app, canvas)                          # registration + deployment in the app's database,
    register(app, moodle)                          # and the app's outbound calls routed to them
    client = app.test_client()
    launch_id = launch(client, canvas, roles=INSTRUCTOR, user_id="u1", student_id=None, course_id="1234")
    page = client.get(f"/course/?launch={launch_id}", base_url=TOOL)

`launch()` does what the browser does: POST the LMS's login initiation to /lti/login (passing the
once-per-browser cookie check, and for Canvas putting the state binding into the fake's Platform
Storage), follow the redirect to the LMS's auth endpoint (the fake checks redirect_uri, login_hint,
response_type, scope, prompt), POST the signed id_token and state to /lti/launch, and read the
launch id from the redirect to the pages. `run_launch()` is the same but returns the final
response and never asserts, for rejection tests; its `mutate` hook rewrites the claims (and
`sign_with` the key) before signing. `live_launch()` runs the flow against a live server URL with
httpx (browser tests). Claims follow recorded launches: Canvas's opaque context id and custom
fields ($Canvas.course.id, $Canvas.user.sisid, $Canvas.api.domain, permissions); Moodle's numeric
context id, lis.person_sourcedid (the user's idnumber), $Context.id and $Person.sourcedId customs
(/work/shared/reference/moodle-fixtures/lti_05_*).
"""

from __future__ import annotations

import itertools
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.registration import Registration as PlatformRegistration
from lti1p3platform.request import Request as PlatformRequest

from lms_bridge.store.registry import (
    LtiRegistrationOptions,
    add_lti_deployment,
    add_lti_registration,
    get_lti_platform,
    set_lti_registration_options,
)

TOOL = "https://tool.test"

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
ROLE_INSTRUCTOR = LIS + "membership#Instructor"
ROLE_LEARNER = LIS + "membership#Learner"
ROLE_TA = LIS + "membership/Instructor#TeachingAssistant"
ROLE_CONTEXT_ADMIN = LIS + "membership#Administrator"
ROLE_INST_ADMIN = LIS + "institution/person#Administrator"
ROLE_INST_INSTRUCTOR = LIS + "institution/person#Instructor"
ROLE_INST_STUDENT = LIS + "institution/person#Student"
ROLE_SYS_ADMIN = LIS + "system/person#Administrator"
ROLE_SYS_USER = LIS + "system/person#User"

# Role sets as each LMS really sends them.
CANVAS_TEACHER = [ROLE_INSTRUCTOR, ROLE_INST_INSTRUCTOR, ROLE_SYS_USER]
CANVAS_TA = [ROLE_TA, ROLE_INSTRUCTOR, ROLE_SYS_USER]
CANVAS_STUDENT = [ROLE_LEARNER, ROLE_INST_STUDENT, ROLE_SYS_USER]
CANVAS_ACCOUNT_ADMIN_AS_STUDENT = [ROLE_LEARNER, ROLE_INST_ADMIN, ROLE_INST_INSTRUCTOR, ROLE_SYS_USER]
MOODLE_TEACHER = [ROLE_INSTRUCTOR]
MOODLE_STUDENT = [ROLE_LEARNER]
MOODLE_ADMIN = [ROLE_INST_ADMIN, ROLE_INSTRUCTOR, ROLE_SYS_ADMIN]
INSTRUCTOR = "instructor"
LEARNER = "learner"
TA = "ta"
_ROLE_SETS = {
    "canvas": {INSTRUCTOR: CANVAS_TEACHER, LEARNER: CANVAS_STUDENT, TA: CANVAS_TA},
    "moodle": {INSTRUCTOR: MOODLE_TEACHER, LEARNER: MOODLE_STUDENT, TA: MOODLE_TEACHER},
}
CANVAS_STAFF_PERMISSIONS = "manage_assignments_add,manage_assignments_edit,manage_assignments_delete"


def new_rsa_keypair() -> tuple[str, str]:
    """(private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


_KEY_POOL: list[tuple[str, str]] = []


def pooled_keypair(index: int) -> tuple[str, str]:
    """Key pairs made once per test run (2048-bit generation is slow)."""
    while len(_KEY_POOL) <= index:
        _KEY_POOL.append(new_rsa_keypair())
    return _KEY_POOL[index]


# --- lti1p3platform glue ------------------------------------------------------------------------


class _DictRequest(PlatformRequest):
    def build_metadata(self, request: dict[str, Any]) -> dict[str, Any]:
        return {
            "method": request.get("method", "GET"),
            "form_data": request.get("form", {}),
            "get_data": request.get("args", {}),
            "headers": request.get("headers", {}),
            "content_type": request.get("content_type"),
            "path": request.get("path", "/"),
            "json": request.get("json"),
        }


class _PlatformConf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kw: Any) -> None:
        self._registration = (
            PlatformRegistration()
            .set_iss(kw["iss"])
            .set_client_id(kw["client_id"])
            .set_deployment_id(kw["deployment_id"])
            .set_oidc_login_url(kw["oidc_login_url"])
            .set_launch_url(kw["launch_url"])
            .set_platform_public_key(kw["public_pem"])
            .set_platform_private_key(kw["private_pem"])
            .set_tool_key_set({"keys": []})  # no tool JWKS fetch of its own
        )

    def get_registration_by_params(self, **kwargs: Any) -> PlatformRegistration:
        return self._registration


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return launch_data  # {"id_token", "state", "launch_url"}


@dataclass
class LaunchSpec:
    user_id: str
    roles: list[str]
    course_id: str  # Canvas course id / Moodle course id
    student_id: str | None = None
    name: str = "Pat Example"
    email: str | None = None
    context_title: str = "Course 101"
    context_label: str = "C101"
    resource_link_id: str = "rl-1"
    placement: str | None = "course_navigation"
    permissions: str | None = None  # Canvas: the expanded $Canvas.membership.permissions<...>
    custom: dict[str, str] = field(default_factory=dict)
    extra_claims: dict[str, Any] = field(default_factory=dict)
    message_type: str = "LtiResourceLinkRequest"


# --- the fake platform --------------------------------------------------------------------------


@dataclass
class FakePlatform:
    """One LMS registration (issuer + client id + one deployment) signing with its own RSA key."""

    kind: str  # "canvas" | "moodle"
    base_url: str  # where the LMS serves its endpoints
    issuer: str
    client_id: str
    deployment_id: str
    private_pem: str
    public_pem: str
    tool_base: str = TOOL
    # Canvas: LTI Platform Storage (lti.put_data / lti.get_data), keyed by the tool's key.
    storage: dict[str, str] = field(default_factory=dict)
    offers_platform_storage: bool = False
    pending: dict[str, LaunchSpec] = field(default_factory=dict)
    id_token_lifetime: int = 60
    clock_offset: float = 0.0  # seconds the LMS's clock is ahead
    jwks_requests: int = 0
    _hints: Any = field(default_factory=lambda: itertools.count(1))
    retired_public_pems: list[str] = field(default_factory=list)

    # Real endpoints: Canvas /api/lti/authorize_redirect, /login/oauth2/token, /api/lti/security/jwks;
    # Moodle /mod/lti/auth.php, /mod/lti/token.php, /mod/lti/certs.php.
    @property
    def auth_login_url(self) -> str:
        return self.base_url + ("/api/lti/authorize_redirect" if self.kind == "canvas" else "/mod/lti/auth.php")

    @property
    def auth_token_url(self) -> str:
        return self.base_url + ("/login/oauth2/token" if self.kind == "canvas" else "/mod/lti/token.php")

    @property
    def jwks_url(self) -> str:
        return self.base_url + ("/api/lti/security/jwks" if self.kind == "canvas" else "/mod/lti/certs.php")

    @property
    def launch_url(self) -> str:
        return self.tool_base + "/lti/launch"

    @property
    def login_url(self) -> str:
        return self.tool_base + "/lti/login"

    @classmethod
    def canvas(
        cls,
        *,
        client_id: str = "10000000000042",
        deployment_id: str = "12:8865aa05b4b79b64a91a86042e43af5ea8ae79eb",
        base_url: str = "https://sso.canvaslms.test",
        key_index: int = 0,
        platform_storage: bool = True,
        tool_base: str = TOOL,
    ) -> FakePlatform:
        private, public = pooled_keypair(key_index)
        return cls(
            "canvas", base_url, "https://canvas.instructure.com", client_id, deployment_id, private, public,
            tool_base=tool_base, offers_platform_storage=platform_storage, id_token_lifetime=3600,
        )

    @classmethod
    def moodle(
        cls,
        *,
        base_url: str = "https://moodle.test",
        client_id: str = "PuZD1eGeqazM2Yy",
        deployment_id: str = "1",
        key_index: int = 1,
        tool_base: str = TOOL,
    ) -> FakePlatform:
        private, public = pooled_keypair(key_index)
        return cls("moodle", base_url, base_url, client_id, deployment_id, private, public, tool_base=tool_base)

    # --- keys ---------------------------------------------------------------------------------
    @property
    def kid(self) -> str:
        return PlatformRegistration.get_jwk(self.public_pem)["kid"]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [PlatformRegistration.get_jwk(self.public_pem)]}

    def rotate_key(self, key_index: int | None = None) -> None:
        """The LMS starts signing with a new key; its JWKS now lists only the new one."""
        self.retired_public_pems.append(self.public_pem)
        self.private_pem, self.public_pem = pooled_keypair(key_index) if key_index is not None else new_rsa_keypair()

    def _conf(self) -> _PlatformConf:
        return _PlatformConf(
            iss=self.issuer,
            client_id=self.client_id,
            deployment_id=self.deployment_id,
            oidc_login_url=self.login_url,
            launch_url=self.launch_url,
            public_pem=self.public_pem,
            private_pem=self.private_pem,
        )

    # --- step 1: the LMS's login initiation (the fields of its auto-posted form) ----------------
    def initiate_login(self, spec: LaunchSpec) -> dict[str, str]:
        hint_no = next(self._hints)
        if self.kind == "moodle":
            hint = json.dumps({"cmid": 4, "launchid": f"ltilaunch{hint_no}_{uuid.uuid4().int % 10**10}"})
            params = {
                "iss": self.issuer,
                "target_link_uri": self.launch_url,
                "login_hint": spec.user_id,
                "lti_message_hint": hint,
                "client_id": self.client_id,
                "lti_deployment_id": self.deployment_id,
            }
        else:
            hint = jwt.encode({"hint": hint_no, "exp": int(time.time()) + 300}, "fake-canvas-message-hint-secret-0123456789", algorithm="HS256")
            params = {
                "iss": self.issuer,
                "login_hint": spec.user_id,
                "client_id": self.client_id,
                "lti_deployment_id": self.deployment_id,
                "target_link_uri": f"{self.launch_url}?placement={spec.placement or 'course_navigation'}",
                "lti_message_hint": hint,
                "canvas_environment": "prod",
                "canvas_region": "us-east-1",
            }
            if self.offers_platform_storage:
                params["lti_storage_target"] = "post_message_forwarding"
        self.pending[hint] = spec
        return params

    # --- step 3: the auth endpoint answers with the signed id_token -----------------------------
    def authorize(
        self,
        auth_query: dict[str, str],
        *,
        mutate: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        sign_with: str | None = None,
        kid: str | None = None,
    ) -> dict[str, str]:
        """The id_token form the LMS auto-posts to the tool: {"id_token", "state", "launch_url"}.

        Checks what lti1p3platform 0.1.8 does not (redirect_uri, login_hint, response_type, scope,
        prompt, response_mode). `mutate` rewrites the claims and `sign_with`/`kid` change the
        signing key; with neither, lti1p3platform signs the token itself.
        """
        spec = self.pending.pop(auth_query["lti_message_hint"])  # a hint works once, as in Moodle
        assert auth_query["login_hint"] == spec.user_id, "login_hint mismatch"
        assert auth_query["response_type"] == "id_token"
        assert auth_query["response_mode"] == "form_post"
        assert auth_query["scope"] == "openid"
        assert auth_query["prompt"] == "none"
        assert auth_query["client_id"] == self.client_id
        assert auth_query["redirect_uri"] == self.launch_url, f"unregistered redirect_uri {auth_query['redirect_uri']}"
        assert auth_query.get("nonce") and auth_query.get("state")
        launch = _Launch(_DictRequest({"args": auth_query}), self._conf())
        launch.set_id_token_expiration(self.id_token_lifetime)
        self._fill_claims(launch, spec)
        if mutate is None and sign_with is None and kid is None and not self.clock_offset:
            return launch.lti_launch()
        # Build the same message, then sign it ourselves with the requested changes.
        launch._registration = launch._platform_config.get_registration()
        launch.validate_preflight_response(auth_query)
        claims, state = launch.get_launch_data()
        now = int(time.time() + self.clock_offset)
        claims.update({"iat": now, "exp": now + self.id_token_lifetime})
        if mutate is not None:
            claims = mutate(claims)
        token = jwt.encode(
            claims, sign_with or self.private_pem, algorithm="RS256", headers={"kid": kid or self.kid}
        )
        return {"id_token": token, "state": state, "launch_url": auth_query["redirect_uri"]}

    def _fill_claims(self, launch: _Launch, spec: LaunchSpec) -> None:
        launch.set_user_data(spec.user_id, spec.roles, full_name=spec.name, email_address=spec.email)
        name_parts = spec.name.split(" ", 1)
        extra: dict[str, Any] = {
            "given_name": name_parts[0],
            "family_name": name_parts[-1],
            "https://purl.imsglobal.org/spec/lti/claim/message_type": spec.message_type,
        }
        if self.kind == "canvas":
            # Canvas: context.id is an opaque SHA, never the course id; the id comes in a custom field.
            context_id = uuid.uuid5(uuid.NAMESPACE_URL, f"canvas-course-{spec.course_id}").hex + "abcd1234"
            launch.set_launch_context_claim(
                context_id, context_types=[LIS + "course#CourseOffering"],
                context_title=spec.context_title, context_label=spec.context_label,
            )
            custom = {
                "canvas_course_id": spec.course_id,
                "canvas_api_domain": "school.instructure.test",
                "canvas_user_sisid": spec.student_id if spec.student_id is not None else "$Canvas.user.sisid",
                "canvas_user_id": str(abs(hash(spec.user_id)) % 100000),
                "canvas_permissions": spec.permissions
                if spec.permissions is not None
                else (CANVAS_STAFF_PERMISSIONS if ROLE_INSTRUCTOR in spec.roles or ROLE_TA in spec.roles else ""),
                "canvas_assignment_id": "$Canvas.assignment.id",
            }
            extra.update({
                "https://purl.imsglobal.org/spec/lti/claim/tool_platform": {
                    "guid": "VDnwgXv8dRc4YBXygkTMizSQ7mSXu1kMpZnpi8Bu:canvas-lms",
                    "name": "Example University", "version": "cloud", "product_family_code": "canvas",
                },
                "https://purl.imsglobal.org/spec/lti/claim/lti11_legacy_user_id": uuid.uuid5(
                    uuid.NAMESPACE_URL, spec.user_id).hex,
                "https://purl.imsglobal.org/spec/lti/claim/lis": {
                    "person_sourcedid": spec.student_id or "",
                    "course_offering_sourcedid": f"SIS-{spec.course_id}",
                    "validation_context": None, "errors": {"errors": {}},
                },
                "locale": "en",
            })
            if spec.placement:
                extra["https://www.instructure.com/placement"] = spec.placement
            launch.set_launch_presentation_claim(document_target="iframe", return_url=self.base_url + "/courses/"
                                                 + spec.course_id + "/external_content/success/external_tool_redirect")
        else:
            # Moodle: context.id is the numeric course id; lis.person_sourcedid is the user's idnumber.
            launch.set_launch_context_claim(
                spec.course_id, context_types=["CourseSection"],
                context_title=spec.context_title, context_label=spec.context_label,
            )
            memberships = f"{self.base_url}/mod/lti/services.php/CourseSection/{spec.course_id}/bindings/1/memberships"
            custom = {"course_id": spec.course_id, "sis_user": spec.student_id or "",
                      "context_memberships_url": memberships}
            extra.update({
                "https://purl.imsglobal.org/spec/lti/claim/lis": {
                    "person_sourcedid": spec.student_id or "", "course_section_sourcedid": spec.context_label,
                },
                "https://purl.imsglobal.org/spec/lti/claim/ext": {"user_username": f"user{spec.user_id}", "lms": "moodle-2"},
                "https://purl.imsglobal.org/spec/lti/claim/tool_platform": {
                    "product_family_code": "moodle", "version": "2024100706",
                    "guid": "79289f78e678c163200987d26f799d33", "name": "realtest", "description": "Moodle Real Test Site",
                },
                "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                    "context_memberships_url": memberships, "service_versions": ["1.0", "2.0"],
                },
                "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                    "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                              "https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                    "lineitems": f"{self.base_url}/mod/lti/services.php/{spec.course_id}/lineitems?type_id=1",
                },
            })
            launch.set_launch_presentation_claim(
                document_target="iframe",
                return_url=f"{self.base_url}/mod/lti/return.php?course={spec.course_id}&launch_container=3&instanceid=1",
            )
        if spec.message_type == "LtiResourceLinkRequest":
            launch.set_resource_link_claim(spec.resource_link_id, title="Exam times", description="LTI 1.3 tool")
        custom.update(spec.custom)
        launch.set_custom_parameters_claim(custom)
        extra.update(spec.extra_claims)
        launch.set_extra_claims(extra)

    # --- what the tool fetches from the LMS (JWKS) ----------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if request.method == "GET" and url.split("?")[0] == self.jwks_url:
            self.jwks_requests += 1
            return httpx.Response(200, json=self.jwks())
        return httpx.Response(404, json={"error": "not found"})


class PlatformRouter(httpx.BaseTransport):
    """An httpx transport that answers the tool's outbound calls from fake platforms (and extra
    handlers keyed by URL prefix, e.g. dynamic registration endpoints)."""

    def __init__(self) -> None:
        self.platforms: list[FakePlatform] = []
        self.handlers: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.calls: list[tuple[str, str]] = []

    def add(self, platform: FakePlatform) -> None:
        if platform not in self.platforms:
            self.platforms.append(platform)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.calls.append((request.method, url))
        for prefix, handler in self.handlers.items():
            if url.startswith(prefix):
                return handler(request)
        for platform in self.platforms:
            if url.startswith(platform.base_url):
                return platform.handle(request)
        return httpx.Response(404, json={"error": f"no fake LMS at {url}"})


# --- the app ------------------------------------------------------------------------------------


def app_config(database_url: str, **overrides: Any) -> dict[str, Any]:
    """A test app's configuration: migrated database, fixed secret, https base URL, cookie check on."""
    config: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "AUTO_MIGRATE": True,
        "SECRET_KEY": "test-secret-key",
        "LTI_BASE_URL": TOOL,
        "TESTING": True,
    }
    config.update(overrides)
    return config


def make_app(tmp_path: Path | str | None = None, *, database_url: str | None = None, **config: Any) -> Flask:
    """A fresh app on its own SQLite file (or `database_url`), routed to fake platforms."""
    from lms_bridge.web.app import create_app

    if database_url is None:
        assert tmp_path is not None, "give tmp_path or database_url"
        database_url = f"sqlite:///{Path(tmp_path) / 'lms_bridge.db'}"
    app = create_app(app_config(database_url, **config))
    attach(app)
    return app


def router(app: Flask) -> PlatformRouter:
    return attach(app)


def attach(app: Flask, *platforms: FakePlatform) -> PlatformRouter:
    """Route the app's outbound LTI calls to fake platforms (idempotent)."""
    found = app.extensions.get("tests.platform_router")
    if found is None:
        found = app.extensions["tests.platform_router"] = PlatformRouter()
        app.extensions["lms_bridge.lti"].set_http_transport(found)
    for platform in platforms:
        found.add(platform)
    return found


def register(
    app: Flask,
    platform: FakePlatform,
    *,
    deployments: Iterable[str] | None = None,
    accept_new_deployments: bool = False,
    kind: str | None = "from-platform",
) -> None:
    """Register the platform in the app's database (as `lms-bridge lti add-platform` does) and route
    the app's calls to it."""
    from datetime import UTC, datetime

    sessions = app.extensions["lms_bridge.sessions"]
    now = datetime.now(UTC)
    with sessions.begin() as session:
        if get_lti_platform(session, platform.issuer, platform.client_id) is None:
            add_lti_registration(
                session, issuer=platform.issuer, client_id=platform.client_id,
                auth_login_url=platform.auth_login_url, auth_token_url=platform.auth_token_url,
                key_set_url=platform.jwks_url, actor="test", now=now,
            )
        known = get_lti_platform(session, platform.issuer, platform.client_id).registration.deployment_ids
        for deployment_id in deployments if deployments is not None else [platform.deployment_id]:
            if deployment_id not in known:
                add_lti_deployment(session, issuer=platform.issuer, client_id=platform.client_id,
                                   deployment_id=deployment_id, actor="test", now=now)
        set_lti_registration_options(
            session, issuer=platform.issuer, client_id=platform.client_id,
            options=LtiRegistrationOptions(
                platform=platform.kind if kind == "from-platform" else kind,  # type: ignore[arg-type]
                accept_new_deployments=accept_new_deployments,
            ),
            actor="test", now=now,
        )
    attach(app, platform)


# --- the browser --------------------------------------------------------------------------------


@dataclass
class LaunchResult:
    response: Any  # the last response (Flask TestResponse or httpx.Response)
    form: dict[str, str] | None  # the id_token form the LMS posted (None if the flow stopped before)
    login_params: dict[str, str]
    used_platform_storage: bool = False

    @property
    def status(self) -> int:
        r = self.response
        return r.status_code

    @property
    def text(self) -> str:
        r = self.response
        return r.get_data(as_text=True) if hasattr(r, "get_data") else r.text

    @property
    def launch_id(self) -> str | None:
        location = self.response.headers.get("Location", "")
        values = parse_qs(urlsplit(location).query).get("launch")
        return values[0] if values else None


class LaunchFailed(AssertionError):
    pass


def _spec(
    platform: FakePlatform,
    *,
    roles: str | list[str],
    user_id: str,
    course_id: str,
    student_id: str | None = None,
    **more: Any,
) -> LaunchSpec:
    role_uris = _ROLE_SETS[platform.kind][roles] if isinstance(roles, str) else list(roles)
    return LaunchSpec(user_id=user_id, roles=role_uris, course_id=course_id, student_id=student_id, **more)


_STORAGE_JSON = re.compile(r'<script id="lti-storage" type="application/json">(.*?)</script>', re.S)


def _storage(html: str) -> dict[str, str]:
    match = _STORAGE_JSON.search(html)
    assert match, "no LTI Platform Storage data in the page"
    return json.loads(match.group(1))


def run_launch(
    client: Any,
    platform: FakePlatform,
    *,
    roles: str | list[str] = INSTRUCTOR,
    user_id: str = "u1",
    student_id: str | None = None,
    course_id: str = "1234",
    mutate: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    sign_with: str | None = None,
    kid: str | None = None,
    cookies_blocked: bool = False,
    tamper_form: Callable[[dict[str, str]], dict[str, str]] | None = None,
    **spec_fields: Any,
) -> LaunchResult:
    """The whole OIDC launch through a Flask test client; returns the final response, no asserts.

    `cookies_blocked` drops every cookie the tool set before the id_token POST (a browser that
    blocks third-party cookies in the LMS iframe): the Canvas fake then answers the tool's
    Platform Storage request.
    """
    spec = _spec(platform, roles=roles, user_id=user_id, student_id=student_id, course_id=course_id, **spec_fields)
    params = platform.initiate_login(spec)
    r = client.post(platform.login_url, data=params)
    if r.status_code == 200 and "lms_bridge_cookies" in r.get_data(as_text=True):
        # The cookie check page: its script sets a test cookie and, if it sticks, posts again.
        host = urlsplit(platform.tool_base).hostname
        client.set_cookie("lms_bridge_cc", "1", domain=host)
        r = client.post(platform.login_url, data={**params, "lms_bridge_cookies": "ok"})
    used_storage = False
    if r.status_code == 200 and 'id="lti-storage"' in r.get_data(as_text=True):
        storage = _storage(r.get_data(as_text=True))
        platform.storage[storage["key"]] = storage["value"]  # lti.put_data
        auth_url = storage["next"]
    elif r.status_code in (302, 303):
        auth_url = r.headers["Location"]
    else:
        return LaunchResult(r, None, params)
    assert auth_url.startswith(platform.auth_login_url), auth_url
    form = platform.authorize(dict(parse_qsl(urlsplit(auth_url).query)), mutate=mutate, sign_with=sign_with, kid=kid)
    if tamper_form is not None:
        form = tamper_form(form)
    if cookies_blocked:
        _clear_tool_cookies(client)
    r = client.post(form["launch_url"], data={k: v for k, v in form.items() if k in ("id_token", "state")})
    if r.status_code == 200 and 'id="lti-storage"' in r.get_data(as_text=True) and platform.offers_platform_storage:
        storage = _storage(r.get_data(as_text=True))
        value = platform.storage.get(storage["key"])  # lti.get_data
        used_storage = True
        r = client.post(form["launch_url"], data={"id_token": form["id_token"], "state": form["state"],
                                                  "lti_storage_binding": value or ""})
    return LaunchResult(r, form, params, used_storage)


def _clear_tool_cookies(client: Any) -> None:
    jar = getattr(client, "_cookies", None)
    if jar is not None:
        jar.clear()
    else:  # pragma: no cover - older werkzeug
        client.cookie_jar.clear()


def launch(
    client: Any,
    platform: FakePlatform,
    *,
    roles: str | list[str] = INSTRUCTOR,
    user_id: str = "u1",
    student_id: str | None = None,
    course_id: str = "1234",
    **kwargs: Any,
) -> str:
    """A full launch that must succeed: its launch id (raises LaunchFailed with the page otherwise)."""
    result = run_launch(
        client, platform, roles=roles, user_id=user_id, student_id=student_id, course_id=course_id, **kwargs
    )
    if result.status != 303 or not result.launch_id:
        raise LaunchFailed(f"launch failed with {result.status}: {result.text[:600]}")
    return result.launch_id


def live_launch(
    base_url: str,
    platform: FakePlatform,
    *,
    http: httpx.Client | None = None,
    roles: str | list[str] = INSTRUCTOR,
    user_id: str = "u1",
    student_id: str | None = None,
    course_id: str = "1234",
    **spec_fields: Any,
) -> tuple[str, httpx.Client]:
    """The same launch against a live server (e.g. the app in a thread for browser tests).

    The platform's `tool_base` must be `base_url`, and the server's outbound calls must reach the
    platform (attach() on the served app). Returns the launch id and the httpx client holding the
    browser's cookies.
    """
    client = http or httpx.Client(follow_redirects=False, timeout=10)
    spec = _spec(platform, roles=roles, user_id=user_id, student_id=student_id, course_id=course_id, **spec_fields)
    params = platform.initiate_login(spec)
    r = client.post(platform.login_url, data=params)
    if r.status_code == 200 and "lms_bridge_cookies" in r.text:
        client.cookies.set("lms_bridge_cc", "1")
        r = client.post(platform.login_url, data={**params, "lms_bridge_cookies": "ok"})
    if r.status_code == 200 and 'id="lti-storage"' in r.text:
        storage = _storage(r.text)
        platform.storage[storage["key"]] = storage["value"]
        auth_url = storage["next"]
    elif r.status_code in (302, 303):
        auth_url = r.headers["Location"]
    else:
        raise LaunchFailed(f"login failed with {r.status_code}: {r.text[:600]}")
    form = platform.authorize(dict(parse_qsl(urlsplit(auth_url).query)))
    r = client.post(form["launch_url"], data={"id_token": form["id_token"], "state": form["state"]})
    values = parse_qs(urlsplit(r.headers.get("Location", "")).query).get("launch")
    if r.status_code != 303 or not values:
        raise LaunchFailed(f"launch failed with {r.status_code}: {r.text[:600]}")
    return values[0], client
