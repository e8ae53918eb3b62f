"""`lms-bridge serve`: the LTI tool and its pages on Flask's own server (development, small sites).

For production run gunicorn (see lms_bridge.web.app): ``lms-bridge db upgrade`` then
``gunicorn -w 4 -k gthread --threads 4 'lms_bridge.web.app:create_app()'`` behind a TLS proxy
with ``LMS_BRIDGE_PROXY_FIX=1``.
"""

from __future__ import annotations

import click


@click.command(name="serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--database", default=None, metavar="URL",
              help="SQLAlchemy URL; default $LMS_BRIDGE_DATABASE_URL or sqlite:///lms_bridge.db")
@click.option("--base-url", default=None, metavar="URL",
              help="The tool's public root URL (default: from each request; $LMS_BRIDGE_BASE_URL).")
@click.option("--proxy-fix", type=int, default=None,
              help="Number of TLS proxies in front whose X-Forwarded-* headers to trust ($LMS_BRIDGE_PROXY_FIX).")
@click.option("--debug", is_flag=True, help="Flask debug mode (never in production).")
def serve(host: str, port: int, database: str | None, base_url: str | None, proxy_fix: int | None, debug: bool) -> None:
    """Run the LTI tool and its pages (migrates the database and makes a first key if needed)."""
    from ..lti.keys import ensure_active_key
    from .app import create_app

    config: dict[str, object] = {"AUTO_MIGRATE": True}
    if database:
        config["DATABASE_URL"] = database
    if base_url:
        config["LTI_BASE_URL"] = base_url
    if proxy_fix is not None:
        config["PROXY_FIX"] = proxy_fix
    from ..jobs.cli import make_context
    from ..jobs.runtime import embedded_runtime_for

    app = create_app(config)
    with app.extensions["lms_bridge.sessions"].begin() as session:
        key = ensure_active_key(session, actor="lms-bridge serve")
    # One node on SQLite: the scheduler and a worker run in this process (APScheduler, jobs in
    # the same database). On PostgreSQL, `lms-bridge worker` processes do that instead.
    runtime = embedded_runtime_for(make_context(database))
    if runtime is not None:
        app.config["APPLY_VIA_QUEUE"] = True
    root = base_url or f"http://{host}:{port}"
    click.echo(f"lms_bridge on {root}  (setup for LMS admins: {root.rstrip('/')}/lti/setup; signing key {key.kid})")
    click.echo("jobs: " + ("scheduler and worker in this process" if runtime else "run `lms-bridge worker` processes"))
    try:
        app.run(host=host, port=port, debug=debug, use_reloader=False, threaded=True)
    finally:
        if runtime is not None:
            runtime.shutdown()
