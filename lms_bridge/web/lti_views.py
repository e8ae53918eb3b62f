"""HTTP endpoints of the LTI layer (INTERFACES.md): /lti/* and /healthz.

=============================  =========================================================
GET /lti/jwks                  the tool's public keys
GET, POST /lti/login           OIDC login initiation (third-party initiated)
POST /lti/launch               the launch: id_token + state, then a redirect to the pages
GET /lti/config/canvas.json    Canvas developer-key JSON
GET /lti/register              LTI Dynamic Registration (Canvas and Moodle)
GET /lti/setup                 what an LMS admin pastes where
GET /lti/launched              landing page when no page blueprint is installed
GET /healthz                   liveness
=============================  =========================================================
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, url_for

from ..lti.errors import LoginRejected, PlatformStorageNeeded, RegistrationFailed
from ..lti.launch import BINDING_FIELD, set_tool_cookie
from ..lti.registration import (
    DynamicRegistration,
    ToolUrls,
    canvas_developer_key,
    check_registration_code,
    setup_sheet,
    store_registration,
)
from ..lti.tool import LtiTool
from .session import LAUNCH_COOKIE, LAUNCH_PARAM, current_launch

bp = Blueprint("lti", __name__, url_prefix="/lti")
health = Blueprint("health", __name__)

COOKIE_CHECK_COOKIE = "lms_bridge_cc"
COOKIE_CHECK_FIELD = "lms_bridge_cookies"
STAFF_HOME = "staff.course_home"
LEARNER_HOME = "student.my_exams"
FALLBACK_HOME = "lti.launched"


def tool() -> LtiTool:
    return current_app.extensions["lms_bridge.lti"]


def tool_urls() -> ToolUrls:
    return ToolUrls.from_base(tool().settings.base_url or request.url_root)


def served_over_tls() -> bool:
    """Whether the browser talks to the tool over TLS: directly, through a proxy that ProxyFix
    trusts (X-Forwarded-Proto), or as the configured public https URL says."""
    return request.is_secure or str(tool().settings.base_url or "").startswith("https://")


# --- keys ---------------------------------------------------------------------------------------


@bp.get("/jwks")
def jwks() -> Response:
    response = jsonify(tool().tool_keys.jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --- step 1: login initiation -------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    params = request.values.to_dict()  # the query, and a POSTed form's fields over it
    check = params.pop(COOKIE_CHECK_FIELD, None)
    secure = served_over_tls()
    lti = tool()
    storage_target = params.get("lti_storage_target") or None
    if not params.get("iss"):
        raise LoginRejected("The LMS did not say who it is (no iss).", code="missing_iss")
    conf = lti.conf()
    if conf.platform(params["iss"], params.get("client_id")) is None:
        raise LoginRejected(
            f"This LMS is not registered with the tool (issuer {params['iss']}, client id "
            f"{params.get('client_id') or 'not sent'}). An administrator can register it with dynamic "
            "registration or `lms-bridge lti add-platform`.",
            code="unknown_platform",
        )
    needs_check = (
        lti.settings.cookie_check
        and storage_target is None
        and check is None
        and COOKIE_CHECK_COOKIE not in request.cookies
    )
    if needs_check:
        # First sign-in from this browser (or it dropped our cookies): check in the page itself.
        return render_template(
            "lti/cookie_check.html",
            action=url_for("lti.login"),
            params=params,
            secure=secure,
            cookie_name=COOKIE_CHECK_COOKIE,
            tool_title=lti.settings.tool_title,
        )
    redirect_to, cookies = lti.begin_login(
        params, launch_url=tool_urls().launch, secure=secure, storage_target=storage_target, conf=conf
    )
    if storage_target:
        storage = {
            "target": storage_target,
            "origin": redirect_to.storage_origin,
            "key": redirect_to.storage_key,
            "value": redirect_to.binding,
            "next": redirect_to.url,
        }
        response = current_app.make_response(
            render_template(
                "lti/storage_put.html", storage=storage, auth_url=redirect_to.url, tool_title=lti.settings.tool_title
            )
        )
    else:
        response = redirect(redirect_to.url)
    cookies.update_response(response)
    if check == "ok":
        set_tool_cookie(response, COOKIE_CHECK_COOKIE, "1", max_age=365 * 24 * 3600, secure=secure)
    return response


# --- step 3: the launch -------------------------------------------------------------------------


@bp.post("/launch")
def launch() -> Any:
    lti = tool()
    try:
        context = lti.complete_launch(secure=served_over_tls())
    except PlatformStorageNeeded as need:
        # The cookie is gone but the login kept its binding in the LMS: fetch it, post again.
        return render_template(
            "lti/storage_get.html",
            action=url_for("lti.launch"),
            id_token=request.form.get("id_token", ""),
            state=request.form.get("state", ""),
            binding_field=BINDING_FIELD,
            storage={"target": need.storage_target, "origin": need.origin, "key": need.key},
            tool_title=lti.settings.tool_title,
        )
    endpoint = STAFF_HOME if context.is_staff else LEARNER_HOME
    if endpoint not in current_app.view_functions:
        endpoint = FALLBACK_HOME
    response = redirect(url_for(endpoint, **{LAUNCH_PARAM: context.launch_id}), code=303)
    set_tool_cookie(
        response, LAUNCH_COOKIE, context.launch_id, max_age=lti.settings.launch_ttl, secure=served_over_tls()
    )
    return response


@bp.get("/launched")
def launched() -> str:
    return render_template("lti/launched.html", launch=current_launch(), tool_title=tool().settings.tool_title)


# --- registration ---------------------------------------------------------------------------------


@bp.get("/config/canvas.json")
def canvas_config() -> Response:
    settings = tool().settings
    response = jsonify(canvas_developer_key(tool_urls(), settings.tool_title, settings.tool_description))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/register")
def register() -> Any:
    lti = tool()
    settings = lti.settings
    if settings.dynamic_registration == "off":
        raise RegistrationFailed(
            "Dynamic registration is switched off on this server; see /lti/setup for manual setup.",
            code="registration_off",
            status=403,
        )
    openid_configuration = request.args.get("openid_configuration")
    if not openid_configuration:
        raise RegistrationFailed(
            "This address is for LTI Dynamic Registration: paste it into your LMS's tool registration "
            "page rather than opening it here (see /lti/setup).",
            code="missing_openid_configuration",
        )
    if settings.dynamic_registration == "code" and not check_registration_code(
        str(current_app.config["SECRET_KEY"]), request.args.get("code")
    ):
        raise RegistrationFailed(
            "This registration address is missing its code, or the code has expired. The tool's "
            "administrator makes a new one with `lms-bridge lti registration-url`.",
            code="bad_registration_code",
            status=403,
        )
    token = request.args.get("registration_token")
    flow = DynamicRegistration(
        lti.http_client(),
        tool_urls(),
        title=settings.tool_title,
        description=settings.tool_description,
        allow_insecure=settings.allow_insecure_platforms,
    )
    config = flow.read_configuration(openid_configuration, token)
    client_id, deployment_id = flow.register(config, token)
    registered = store_registration(
        lti.sessions, config, client_id, deployment_id, actor=f"lti:dynamic-registration:{config.issuer}"[:255]
    )
    return render_template(
        "lti/registered.html",
        registered=registered,
        platform_name={"canvas": "Canvas", "moodle": "Moodle"}.get(registered.platform, "The LMS"),
        tool_title=settings.tool_title,
    )


@bp.get("/setup")
def setup() -> str:
    settings = tool().settings
    urls = tool_urls()
    return render_template(
        "lti/setup.html",
        urls=urls,
        sheet=setup_sheet(urls, settings.tool_title, settings.tool_description),
        dynamic_mode=settings.dynamic_registration,
        tool_title=settings.tool_title,
    )


# --- liveness ----------------------------------------------------------------------------------


@health.get("/healthz")
def healthz() -> Response:
    response = jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response
