"""The Flask app factory: `create_app(config)`.

Development: ``lms-bridge serve [--host 127.0.0.1 --port 5000]`` (Flask's server; migrates the
database and makes the tool's first key pair on start).

Production: migrate once, then run gunicorn behind a TLS proxy::

    lms-bridge db upgrade
    LMS_BRIDGE_SECRET_KEY=... LMS_BRIDGE_DATABASE_URL=postgresql://... LMS_BRIDGE_REDIS_URL=redis://... \\
    LMS_BRIDGE_PROXY_FIX=1 gunicorn -w 4 -k gthread --threads 4 -b 127.0.0.1:8000 \\
        'lms_bridge.web.app:create_app()'

Configuration (a mapping passed to `create_app`; unset keys fall back to the environment):

=========================  ================================  =====================================
key                        environment                       meaning
=========================  ================================  =====================================
DATABASE_URL               LMS_BRIDGE_DATABASE_URL           default sqlite:///lms_bridge.db
SECRET_KEY                 LMS_BRIDGE_SECRET_KEY             signs CSRF tokens and registration
                                                             URLs; the same on every node
REDIS_URL                  LMS_BRIDGE_REDIS_URL              launch state in Redis (several nodes)
REDIS_KEY_PREFIX                                             its keys' prefix (lms_bridge:lti:)
PROXY_FIX                  LMS_BRIDGE_PROXY_FIX              trusted proxies in front (0: none);
                                                             X-Forwarded-Proto makes cookies
                                                             SameSite=None; Secure; Partitioned
AUTO_MIGRATE                                                 migrate the database at start (False)
LTI_BASE_URL               LMS_BRIDGE_BASE_URL               the tool's public root URL
LTI_LEEWAY, LTI_MAX_TOKEN_AGE, LTI_LOGIN_TTL, LTI_LAUNCH_TTL, LTI_COOKIE_CHECK, LTI_HTTP_TIMEOUT,
LTI_JWKS_TTL, LTI_JWKS_REFETCH_INTERVAL, LTI_ALLOW_INSECURE_PLATFORMS, LTI_DYNAMIC_REGISTRATION
(code | open | off; env LMS_BRIDGE_DYNAMIC_REGISTRATION), LTI_TOOL_TITLE: see lms_bridge.lti.tool.
LTI_HTTP_TRANSPORT                                           an httpx transport for outbound calls
                                                             (tests)
=========================  ================================  =====================================

What the app offers other parts of the code, in ``app.extensions``:

* ``"lms_bridge.sessions"``: the SQLAlchemy session factory (``sessionmaker``) of the store;
* ``"lms_bridge.engine"``: its engine;
* ``"lms_bridge.launch_store"``: where launch contexts live (``get_launch(launch_id)``);
* ``"lms_bridge.lti"``: the `lms_bridge.lti.tool.LtiTool`.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Request, Response, render_template, request
from flask.sessions import SessionInterface
from sqlalchemy import Engine, event
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from ..lti.errors import LtiError
from ..lti.state import RedisStateStore, SqlStateStore
from ..lti.tool import LtiSettings, LtiTool
from ..store.database import database_url, make_engine, session_factory, upgrade
from . import session as launch_session

log = logging.getLogger(__name__)

SESSIONS = "lms_bridge.sessions"
ENGINE = "lms_bridge.engine"
LAUNCH_STORE = "lms_bridge.launch_store"
LTI = "lms_bridge.lti"

_ENVIRONMENT = {
    "DATABASE_URL": "LMS_BRIDGE_DATABASE_URL",
    "SECRET_KEY": "LMS_BRIDGE_SECRET_KEY",
    "REDIS_URL": "LMS_BRIDGE_REDIS_URL",
    "PROXY_FIX": "LMS_BRIDGE_PROXY_FIX",
    "LTI_BASE_URL": "LMS_BRIDGE_BASE_URL",
    "LTI_DYNAMIC_REGISTRATION": "LMS_BRIDGE_DYNAMIC_REGISTRATION",
}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The lms_bridge web app: the LTI endpoints (/lti/*, /healthz) and the tool's pages."""
    app = Flask(__name__)
    app.config.update(AUTO_MIGRATE=False, PROXY_FIX=0, REDIS_URL=None, JSON_SORT_KEYS=False)
    for key, env in _ENVIRONMENT.items():
        if os.environ.get(env):
            app.config[key] = os.environ[env]
    app.config.update(config or {})
    app.config["DATABASE_URL"] = database_url(app.config.get("DATABASE_URL"))
    if not app.config.get("SECRET_KEY"):
        log.warning(
            "LMS_BRIDGE_SECRET_KEY is not set: using a random key, so forms and registration URLs do not "
            "survive a restart and do not work across several processes"
        )
        app.config["SECRET_KEY"] = secrets.token_hex(32)

    proxies = int(app.config.get("PROXY_FIX") or 0)
    if proxies:
        # Behind TLS-terminating proxies: trust their X-Forwarded-* so request.is_secure holds and
        # cookies get SameSite=None; Secure; Partitioned, and external URLs get the public host.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies, x_prefix=proxies
        )
    secure_cookies = bool(proxies) or str(app.config.get("LTI_BASE_URL") or "").startswith("https://")
    if secure_cookies:
        app.config.update(SESSION_COOKIE_SAMESITE="None", SESSION_COOKIE_SECURE=True, SESSION_COOKIE_PARTITIONED=True)
    # No cookie session: cookies are unreliable in the LMS iframe, so nothing may depend on one
    # (flask.session is an empty, read-only session). The launch id carries who is asking.
    app.session_interface = _NoSession()

    engine = make_engine(app.config["DATABASE_URL"])
    _tune_sqlite(engine)
    if app.config.get("AUTO_MIGRATE"):
        upgrade(engine)
    sessions = session_factory(engine)
    if app.config.get("REDIS_URL"):
        import redis

        state_store: Any = RedisStateStore(
            redis.Redis.from_url(app.config["REDIS_URL"]), prefix=app.config.get("REDIS_KEY_PREFIX") or "lms_bridge:lti:"
        )
    else:
        state_store = SqlStateStore(engine)
    tool = LtiTool(
        sessions,
        LtiSettings.from_config(app.config),
        state_store,
        secret=str(app.config["SECRET_KEY"]),
        http_transport=app.config.get("LTI_HTTP_TRANSPORT"),
    )
    app.extensions[ENGINE] = engine
    app.extensions[SESSIONS] = sessions
    app.extensions[LAUNCH_STORE] = state_store
    app.extensions[LTI] = tool

    from . import lti_views

    app.register_blueprint(lti_views.bp)
    app.register_blueprint(lti_views.health)
    launch_session.install(app)
    app.register_error_handler(LtiError, _lti_error)
    app.register_error_handler(HTTPException, _http_error)
    app.after_request(_security_headers)

    from . import office, pages

    pages.register(app)
    office.register(app)
    return app


class _NoSession(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> None:  # type: ignore[override]
        return None  # Flask then uses its read-only NullSession

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        return None


def _tune_sqlite(engine: Engine) -> None:
    """Several web workers on one SQLite file: WAL lets readers run beside the writer, and a busy
    timeout makes writers queue instead of failing.

    WAL is a property of the file: switched on once here (it needs a moment alone with the file,
    so a start beside busy workers retries). Every connection gets its busy timeout.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("PRAGMA synchronous = NORMAL")  # with WAL: durable across crashes of the app
        cursor.close()

    mode = "unknown"
    for _attempt in range(50):
        # On the driver's connection, outside any transaction (the engine begins one otherwise).
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            mode = str(cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
            cursor.close()
            if mode == "wal":
                return
        except sqlite3.OperationalError:
            pass  # another process holds the file: try again shortly
        finally:
            connection.close()
        time.sleep(0.1)
    log.warning("could not switch %s to WAL (journal mode %s)", engine.url.database, mode)


def _lti_error(error: LtiError) -> tuple[str, int]:
    log.info("LTI request refused: %s (%s)", error.code, error.status)
    return (
        render_template(
            "errors/error.html", title=error.title, message=error.message, status=error.status, code=error.code
        ),
        error.status,
    )


def _http_error(error: HTTPException) -> Any:
    if error.code is None or error.code < 400:
        return error
    return (
        render_template(
            "errors/error.html",
            title=error.name,
            message=error.description,
            status=error.code,
            code=None,
        ),
        error.code,
    )


def _security_headers(response: Response) -> Response:
    # Launch ids travel in URLs: never let them leak to other sites through Referer.
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.blueprint == "lti" or response.status_code >= 400:
        response.headers.setdefault("Cache-Control", "no-store")
    return response
