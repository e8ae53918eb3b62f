"""Getting the tool into an LMS: dynamic registration (Canvas and Moodle shapes), the Canvas JSON,
the setup page, and `lms-bridge lti add-platform / list / registration-url`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from click.testing import CliRunner
from flask import Flask

from lms_bridge.cli import main
from lms_bridge.lti.registration import check_registration_code, registration_code
from lms_bridge.store.registry import get_lti_platform, list_lti_platforms

from .platforms import INSTRUCTOR, LEARNER, TOOL, FakePlatform, attach, launch, make_app

SECRET = "test-secret-key"  # platforms.app_config's SECRET_KEY
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
TOOL_CONF = "https://purl.imsglobal.org/spec/lti-tool-configuration"


def moodle_openid_configuration(www: str) -> dict[str, Any]:
    """Moodle 4.5's /mod/lti/openid-configuration.php (recorded), on host `www`."""
    return {
        "issuer": www,
        "token_endpoint": f"{www}/mod/lti/token.php",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "jwks_uri": f"{www}/mod/lti/certs.php",
        "authorization_endpoint": f"{www}/mod/lti/auth.php",
        "registration_endpoint": f"{www}/mod/lti/openid-registration.php",
        "scopes_supported": [
            "https://purl.imsglobal.org/spec/lti-bo/scope/basicoutcome",
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
            "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            NRPS,
            "https://purl.imsglobal.org/spec/lti-ts/scope/toolsetting",
            "openid",
        ],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
        "https://purl.imsglobal.org/spec/lti-platform-configuration": {
            "product_family_code": "moodle",
            "version": "4.5.6 (Build: 20250811)",
            "messages_supported": [{"type": "LtiResourceLinkRequest"},
                                   {"type": "LtiDeepLinkingRequest", "placements": ["ContentArea"]}],
            "variables": ["Context.id", "Person.sourcedId"],
        },
    }


def canvas_openid_configuration(school: str) -> dict[str, Any]:
    """Hosted Canvas: the school's own host serves it, the issuer is canvas.instructure.com."""
    return {
        "issuer": "https://canvas.instructure.com",
        "authorization_endpoint": "https://sso.canvaslms.test/api/lti/authorize_redirect",
        "token_endpoint": "https://sso.canvaslms.test/login/oauth2/token",
        "jwks_uri": "https://sso.canvaslms.test/api/lti/security/jwks",
        "registration_endpoint": f"{school}/api/lti/registrations",
        "scopes_supported": ["openid", NRPS, "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"],
        "response_types_supported": ["id_token"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
        "https://purl.imsglobal.org/spec/lti-platform-configuration": {
            "product_family_code": "canvas",
            "version": "OpenSource",
            "messages_supported": [{"type": "LtiResourceLinkRequest", "placements": ["course_navigation"]}],
            "variables": ["Canvas.course.id"],
        },
    }


class FakeRegistrar:
    """The platform side of dynamic registration: the OpenID configuration and the registration
    endpoint, with a registration token that works once (as Moodle's)."""

    def __init__(self, config: dict[str, Any], config_url: str, *, client_id: str, deployment_id: str | None,
                 token: str = "reg-token-1", config_needs_token: bool = False) -> None:
        self.config = config
        self.config_url = config_url
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.token = token
        self.token_used = False
        self.config_needs_token = config_needs_token
        self.registrations: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url).split("?")[0]
        bearer = request.headers.get("Authorization", "")
        if request.method == "GET" and url == self.config_url.split("?")[0]:
            if self.config_needs_token and bearer != f"Bearer {self.token}":
                return httpx.Response(401, text="missing_registration_token")
            return httpx.Response(200, json=self.config)
        if request.method == "POST" and url == self.config["registration_endpoint"]:
            if bearer != f"Bearer {self.token}":
                return httpx.Response(401, text="missing_registration_token")
            if self.token_used:
                return httpx.Response(401, text="token_already_used")
            self.token_used = True
            body = json.loads(request.content)
            self.registrations.append(body)
            answer = dict(body, client_id=self.client_id)
            tool_conf = dict(body[TOOL_CONF], version="1.3.0")
            if self.deployment_id:
                tool_conf["deployment_id"] = self.deployment_id
            answer[TOOL_CONF] = tool_conf
            return httpx.Response(200, json=answer)
        return httpx.Response(404, text="not found")


def register_url(config_url: str, token: str, *, code: str | None = None) -> str:
    from urllib.parse import urlencode

    query = {"openid_configuration": config_url, "registration_token": token}
    if code is not None:
        query["code"] = code
    return f"{TOOL}/lti/register?{urlencode(query)}"


@pytest.fixture
def bare_app(tmp_path: Path) -> Flask:
    return make_app(tmp_path)


def test_moodle_dynamic_registration_then_a_launch(bare_app: Flask) -> None:
    www = "https://moodle.reg.test"
    config_url = f"{www}/mod/lti/openid-configuration.php"
    registrar = FakeRegistrar(moodle_openid_configuration(www), config_url, client_id="B436Lu6viqVQMgA",
                              deployment_id="2")
    attach(bare_app).handlers[www + "/mod/lti/openid"] = registrar

    page = bare_app.test_client().get(register_url(config_url, registrar.token, code=registration_code(SECRET)))
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    assert "org.imsglobal.lti.close" in html and "B436Lu6viqVQMgA" in html and "Pending" in html

    body = registrar.registrations[0]
    assert body["initiate_login_uri"] == f"{TOOL}/lti/login"
    assert body["redirect_uris"] == [f"{TOOL}/lti/launch"]
    assert body["jwks_uri"] == f"{TOOL}/lti/jwks"
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    assert body["scope"] == NRPS
    assert body[TOOL_CONF]["custom_parameters"] == {"course_id": "$Context.id", "sis_user": "$Person.sourcedId"}
    assert body[TOOL_CONF]["domain"] == "tool.test"

    with bare_app.extensions["lms_bridge.sessions"]() as session:
        platform = get_lti_platform(session, www, "B436Lu6viqVQMgA")
    assert platform.registration.deployment_ids == ("2",)
    assert platform.registration.auth_login_url == f"{www}/mod/lti/auth.php"
    assert platform.registration.key_set_url == f"{www}/mod/lti/certs.php"
    assert (platform.options.platform, platform.options.source, platform.options.accept_new_deployments) == (
        "moodle", "dynamic", False)

    moodle = FakePlatform.moodle(base_url=www, client_id="B436Lu6viqVQMgA", deployment_id="2")
    attach(bare_app, moodle)
    launch(bare_app.test_client(), moodle, roles=LEARNER, student_id="s1", course_id="2")


def test_canvas_dynamic_registration_accepts_deployments_at_first_launch(bare_app: Flask) -> None:
    school = "https://school.instructure.test"
    config_url = f"{school}/api/lti/security/openid-configuration"
    registrar = FakeRegistrar(canvas_openid_configuration(school), config_url, client_id="10000000000123",
                              deployment_id=None, config_needs_token=True)
    attach(bare_app).handlers[school + "/api/lti/"] = registrar

    page = bare_app.test_client().get(register_url(config_url, registrar.token, code=registration_code(SECRET)))
    assert page.status_code == 200, page.get_data(as_text=True)

    body = registrar.registrations[0]
    conf = body[TOOL_CONF]
    assert conf["https://canvas.instructure.com/lti/privacy_level"] == "public"
    assert conf["custom_parameters"]["canvas_course_id"] == "$Canvas.course.id"
    assert conf["custom_parameters"]["canvas_user_sisid"] == "$Canvas.user.sisid"
    assert conf["custom_parameters"]["canvas_api_domain"] == "$Canvas.api.domain"
    assert conf["custom_parameters"]["canvas_permissions"].startswith("$Canvas.membership.permissions<")
    assert [m["placements"] for m in conf["messages"]] == [["course_navigation"], ["assignment_menu"]]

    with bare_app.extensions["lms_bridge.sessions"]() as session:
        platform = get_lti_platform(session, "https://canvas.instructure.com", "10000000000123")
    assert platform.registration.deployment_ids == ()
    assert platform.options.accept_new_deployments and platform.options.platform == "canvas"

    canvas = FakePlatform.canvas(client_id="10000000000123", deployment_id="7:abcdef")
    attach(bare_app, canvas)
    launch(bare_app.test_client(), canvas, roles=INSTRUCTOR)
    with bare_app.extensions["lms_bridge.sessions"]() as session:
        platform = get_lti_platform(session, "https://canvas.instructure.com", "10000000000123")
    assert platform.registration.deployment_ids == ("7:abcdef",)


def test_registration_needs_a_valid_code(bare_app: Flask) -> None:
    url = "https://moodle.reg.test/mod/lti/openid-configuration.php"
    for code in (None, "garbage", registration_code("another-secret"), registration_code(SECRET, valid_for_seconds=-5)):
        page = bare_app.test_client().get(register_url(url, "t", code=code))
        assert page.status_code == 403
        assert "bad_registration_code" in page.get_data(as_text=True)
    assert attach(bare_app).calls == []  # nothing was fetched


def test_registration_refuses_an_issuer_on_another_host(bare_app: Flask) -> None:
    www = "https://moodle.reg.test"
    config = moodle_openid_configuration(www)
    config["issuer"] = "https://moodle.victim.test"
    url = f"{www}/mod/lti/openid-configuration.php"
    attach(bare_app).handlers[www] = FakeRegistrar(config, url, client_id="x", deployment_id="1")
    page = bare_app.test_client().get(register_url(url, "reg-token-1", code=registration_code(SECRET)))
    assert page.status_code == 400 and "issuer_mismatch" in page.get_data(as_text=True)


def test_registration_refuses_plain_http_platforms(bare_app: Flask) -> None:
    url = "http://moodle.reg.test/mod/lti/openid-configuration.php"
    page = bare_app.test_client().get(register_url(url, "t", code=registration_code(SECRET)))
    assert page.status_code == 400 and "insecure_platform" in page.get_data(as_text=True)


def test_registration_reports_a_refusing_platform(bare_app: Flask) -> None:
    www = "https://moodle.reg.test"
    url = f"{www}/mod/lti/openid-configuration.php"
    registrar = FakeRegistrar(moodle_openid_configuration(www), url, client_id="c", deployment_id="1")
    registrar.token_used = True  # Moodle: the token works once
    attach(bare_app).handlers[www] = registrar
    page = bare_app.test_client().get(register_url(url, registrar.token, code=registration_code(SECRET)))
    assert page.status_code == 502 and "token_already_used" in page.get_data(as_text=True)
    with bare_app.extensions["lms_bridge.sessions"]() as session:
        assert list_lti_platforms(session) == []


def test_open_and_off_modes(tmp_path: Path) -> None:
    (tmp_path / "off").mkdir()
    (tmp_path / "open").mkdir()
    off = make_app(tmp_path / "off", LTI_DYNAMIC_REGISTRATION="off")
    page = off.test_client().get(register_url("https://x.test/c", "t", code=registration_code(SECRET)))
    assert page.status_code == 403 and "registration_off" in page.get_data(as_text=True)
    opened = make_app(tmp_path / "open", LTI_DYNAMIC_REGISTRATION="open")
    www = "https://moodle.reg.test"
    url = f"{www}/mod/lti/openid-configuration.php"
    attach(opened).handlers[www] = FakeRegistrar(moodle_openid_configuration(www), url, client_id="c", deployment_id="1")
    assert opened.test_client().get(register_url(url, "reg-token-1")).status_code == 200


def test_register_without_parameters_explains_itself(bare_app: Flask) -> None:
    page = bare_app.test_client().get(f"{TOOL}/lti/register")
    assert page.status_code == 400 and "Dynamic Registration" in page.get_data(as_text=True)


def test_registration_codes_expire() -> None:
    code = registration_code("s", valid_for_seconds=60, now=1000)
    assert check_registration_code("s", code, now=1059)
    assert not check_registration_code("s", code, now=1061)
    assert not check_registration_code("t", code, now=1000)


# --- Canvas JSON and the setup page -------------------------------------------------------------


def test_canvas_developer_key_json(bare_app: Flask) -> None:
    response = bare_app.test_client().get(f"{TOOL}/lti/config/canvas.json")
    assert response.status_code == 200
    data = response.get_json()
    assert data["oidc_initiation_url"] == f"{TOOL}/lti/login"
    assert data["target_link_uri"] == f"{TOOL}/lti/launch"
    assert data["public_jwk_url"] == f"{TOOL}/lti/jwks"
    assert data["title"] and data["description"]
    assert data["scopes"] == [NRPS]
    extension = data["extensions"][0]
    assert extension["platform"] == "canvas.instructure.com"
    assert extension["privacy_level"] == "public"
    assert extension["domain"] == "tool.test"
    placements = {p["placement"]: p for p in extension["settings"]["placements"]}
    assert set(placements) == {"course_navigation", "assignment_menu"}
    assert all(p["message_type"] == "LtiResourceLinkRequest" for p in placements.values())
    assert placements["course_navigation"]["target_link_uri"] == f"{TOOL}/lti/launch?placement=course_navigation"
    custom = data["custom_fields"]
    assert custom["canvas_course_id"] == "$Canvas.course.id"
    assert custom["canvas_api_domain"] == "$Canvas.api.domain"
    assert custom["canvas_user_sisid"] == "$Canvas.user.sisid"
    assert custom["canvas_permissions"] == (
        "$Canvas.membership.permissions<manage_assignments_add,manage_assignments_edit,manage_assignments_delete>"
    )


def test_canvas_json_follows_the_public_host(tmp_path: Path) -> None:
    app = make_app(tmp_path, LTI_BASE_URL=None, PROXY_FIX=1)
    data = app.test_client().get(
        "http://10.0.0.5:8000/lti/config/canvas.json",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "exams.example.edu"},
    ).get_json()
    assert data["oidc_initiation_url"] == "https://exams.example.edu/lti/login"


def test_setup_page_tells_the_admin_what_to_paste_where(bare_app: Flask) -> None:
    page = bare_app.test_client().get(f"{TOOL}/lti/setup")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for needed in (f"{TOOL}/lti/login", f"{TOOL}/lti/launch", f"{TOOL}/lti/jwks", f"{TOOL}/lti/config/canvas.json",
                   f"{TOOL}/lti/register", "Redirect URIs", "Redirection URI(s)", "Initiate login URL",
                   "Public keyset", "course_id=$Context.id", "canvas_course_id=$Canvas.course.id",
                   "lms-bridge lti add-platform", "course_navigation", "Developer Keys", "Manage tools"):
        assert needed in html, needed


# --- lms-bridge lti add-platform / list / registration-url --------------------------------------


def add_platform_args(database: str, **overrides: str) -> list[str]:
    values = {
        "--issuer": "https://moodle.example.edu",
        "--client-id": "PuZD1eGeqazM2Yy",
        "--deployment-id": "1",
        "--auth-login-url": "https://moodle.example.edu/mod/lti/auth.php",
        "--auth-token-url": "https://moodle.example.edu/mod/lti/token.php",
        "--jwks-url": "https://moodle.example.edu/mod/lti/certs.php",
    }
    values.update(overrides)
    args = ["lti", "add-platform", "--database", database]
    for key, value in values.items():
        args += [key, value]
    return args


def registrations(database: str) -> list[Any]:
    from lms_bridge.store.database import make_engine, session_factory, upgrade

    engine = make_engine(database)
    upgrade(engine)
    with session_factory(engine)() as session:
        found = list_lti_platforms(session)
    engine.dispose()
    return found


def test_add_platform_then_list(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/lms.db"
    runner = CliRunner()
    result = runner.invoke(main, add_platform_args(database) + ["--platform", "moodle"])
    assert result.exit_code == 0, result.output
    assert "Registered https://moodle.example.edu" in result.output
    again = runner.invoke(main, add_platform_args(database, **{"--deployment-id": "2"}))
    assert again.exit_code == 0 and "added deployment(s) 2" in again.output
    (platform,) = registrations(database)
    assert platform.registration.deployment_ids == ("1", "2")
    listing = runner.invoke(main, ["lti", "list", "--database", database])
    assert "https://moodle.example.edu  client id PuZD1eGeqazM2Yy" in listing.output
    assert "deployments: 1, 2" in listing.output


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"--issuer": "moodle.example.edu"}, "--issuer 'moodle.example.edu' is not an http(s) URL"),
        ({"--jwks-url": "http://moodle.example.edu/certs.php"}, "--jwks-url 'http://moodle.example.edu/certs.php' must use https"),
        ({"--auth-login-url": "ftp://x/y"}, "--auth-login-url 'ftp://x/y' is not an http(s) URL"),
        ({"--client-id": " "}, "--client-id ' ' must not be empty"),
        ({"--deployment-id": "x" * 256}, "--deployment-id is longer than 255 characters"),
    ],
)
def test_add_platform_refuses_bad_input_and_writes_nothing(tmp_path: Path, overrides: dict[str, str], message: str) -> None:
    database = f"sqlite:///{tmp_path}/lms.db"
    result = CliRunner().invoke(main, add_platform_args(database, **overrides))
    assert result.exit_code == 2
    assert "nothing was registered" in result.output
    assert message in result.output
    assert registrations(database) == []


def test_add_platform_missing_option_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["lti", "add-platform", "--issuer", "https://x.test"])
    assert result.exit_code == 2 and "Missing option" in result.output


def test_add_platform_refuses_changed_endpoints(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/lms.db"
    assert CliRunner().invoke(main, add_platform_args(database)).exit_code == 0
    changed = CliRunner().invoke(
        main, add_platform_args(database, **{"--jwks-url": "https://other.example.edu/certs", "--deployment-id": "9"})
    )
    assert changed.exit_code == 2 and "different --jwks-url" in changed.output
    (platform,) = registrations(database)
    assert platform.registration.deployment_ids == ("1",)  # the new deployment was not added either


def test_add_platform_allows_http_only_when_asked(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/lms.db"
    http = {k: v.replace("https://", "http://") for k, v in {
        "--issuer": "https://127.0.0.1:8100", "--auth-login-url": "https://127.0.0.1:8100/mod/lti/auth.php",
        "--auth-token-url": "https://127.0.0.1:8100/mod/lti/token.php",
        "--jwks-url": "https://127.0.0.1:8100/mod/lti/certs.php"}.items()}
    assert CliRunner().invoke(main, add_platform_args(database, **http)).exit_code == 2
    assert CliRunner().invoke(main, add_platform_args(database, **http) + ["--allow-http"]).exit_code == 0


def test_a_registered_platform_launches(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/lms.db"
    moodle = FakePlatform.moodle(base_url="https://moodle.example.edu")
    result = CliRunner().invoke(main, add_platform_args(database))
    assert result.exit_code == 0
    app = make_app(database_url=database)
    attach(app, moodle)
    launch(app.test_client(), moodle, roles=LEARNER, student_id="s1", course_id="2")


def test_registration_url_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LMS_BRIDGE_SECRET_KEY", raising=False)
    missing = CliRunner().invoke(main, ["lti", "registration-url", "--base-url", "https://exams.example.edu"])
    assert missing.exit_code == 2 and "LMS_BRIDGE_SECRET_KEY" in missing.output
    monkeypatch.setenv("LMS_BRIDGE_SECRET_KEY", SECRET)
    result = CliRunner().invoke(main, ["lti", "registration-url", "--base-url", "https://exams.example.edu/"])
    assert result.exit_code == 0
    url = result.output.strip()
    assert url.startswith("https://exams.example.edu/lti/register?code=")
    code = parse_qs(urlsplit(url).query)["code"][0]
    assert check_registration_code(SECRET, code, now=time.time())
