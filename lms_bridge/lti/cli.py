"""`lms-bridge lti`: platform registrations and the tool's keys.

    lms-bridge lti add-platform --issuer URL --client-id ID --deployment-id ID \\
        --auth-login-url URL --auth-token-url URL --jwks-url URL [--platform canvas|moodle]
    lms-bridge lti list
    lms-bridge lti keys list | rotate | retire KID
    lms-bridge lti registration-url --base-url URL [--hours N]

Bad input exits 2 with a message on stderr and writes nothing.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import NoReturn
from urllib.parse import urlencode, urlsplit

import click
from sqlalchemy.orm import Session

from ..store import database as store_db
from ..store.errors import NotFoundError
from ..store.registry import (
    LtiRegistrationOptions,
    add_lti_deployment,
    add_lti_registration,
    get_lti_platform,
    list_lti_platforms,
    list_lti_tool_keys,
    set_lti_registration_options,
)

database_option = click.option(
    "--database", default=None, metavar="URL", help="SQLAlchemy URL; default $LMS_BRIDGE_DATABASE_URL or sqlite:///lms_bridge.db"
)


def _fail(message: str, code: int = 2) -> NoReturn:
    for line in message.splitlines():
        click.echo(f"lms-bridge: {line}", err=True)
    sys.exit(code)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "cli"


@contextmanager
def _transaction(database: str | None) -> Iterator[Session]:
    engine = store_db.make_engine(store_db.database_url(database))
    try:
        store_db.upgrade(engine)
        with store_db.session_factory(engine).begin() as session:
            yield session
    finally:
        engine.dispose()


def _check_url(value: str, option: str, *, allow_http: bool) -> list[str]:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return [f"{option} {value!r} is not an http(s) URL"]
    if parts.scheme == "http" and not allow_http:
        return [f"{option} {value!r} must use https (pass --allow-http for a test LMS)"]
    if parts.fragment:
        return [f"{option} {value!r} must not have a #fragment"]
    return []


@click.group(name="lti")
def lti() -> None:
    """LTI 1.3: platform registrations and the tool's keys."""


@lti.command(name="add-platform")
@click.option("--issuer", required=True, help="The platform's issuer (iss), e.g. https://canvas.instructure.com.")
@click.option("--client-id", required=True, help="The client id the platform gave the tool.")
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True,
              help="A deployment id (repeat for several).")
@click.option("--auth-login-url", required=True, help="The platform's OIDC authorization endpoint.")
@click.option("--auth-token-url", required=True, help="The platform's OAuth2 token endpoint.")
@click.option("--jwks-url", required=True, help="The platform's public keyset (JWKS) URL.")
@click.option("--platform", type=click.Choice(["canvas", "moodle"]), default=None,
              help="Which LMS (default: as each launch says).")
@click.option("--accept-new-deployments", is_flag=True,
              help="Record deployment ids first seen in a signed launch instead of refusing them (Canvas installs).")
@click.option("--allow-http", is_flag=True, help="Accept http:// URLs (a test LMS only).")
@database_option
def add_platform(
    issuer: str,
    client_id: str,
    deployment_ids: tuple[str, ...],
    auth_login_url: str,
    auth_token_url: str,
    jwks_url: str,
    platform: str | None,
    accept_new_deployments: bool,
    allow_http: bool,
    database: str | None,
) -> None:
    """Register an LMS (issuer + client id) with its deployments and endpoints."""
    problems: list[str] = []
    problems += _check_url(issuer, "--issuer", allow_http=allow_http)
    for value, option in ((auth_login_url, "--auth-login-url"), (auth_token_url, "--auth-token-url"),
                          (jwks_url, "--jwks-url")):
        problems += _check_url(value, option, allow_http=allow_http)
    if issuer != issuer.strip() or urlsplit(issuer).query:
        problems.append(f"--issuer {issuer!r} must be a bare URL (no spaces, no query)")
    for value, option in ((client_id, "--client-id"), *((d, "--deployment-id") for d in deployment_ids)):
        if not value.strip() or value != value.strip():
            problems.append(f"{option} {value!r} must not be empty or have surrounding spaces")
        elif len(value) > 255:
            problems.append(f"{option} is longer than 255 characters")
    if len(issuer) > 255:
        problems.append("--issuer is longer than 255 characters")
    if len(set(deployment_ids)) != len(deployment_ids):
        problems.append("--deployment-id repeats a value")
    if problems:
        _fail("\n".join(["nothing was registered:"] + problems))

    now = datetime.now(UTC)
    actor = _actor()
    added: list[str] = []
    with _transaction(database) as session:
        existing = get_lti_platform(session, issuer, client_id)
        if existing is None:
            add_lti_registration(
                session,
                issuer=issuer,
                client_id=client_id,
                auth_login_url=auth_login_url,
                auth_token_url=auth_token_url,
                key_set_url=jwks_url,
                actor=actor,
                now=now,
            )
            known: tuple[str, ...] = ()
        else:
            reg = existing.registration
            differs = [
                name
                for name, old, new in (
                    ("--auth-login-url", reg.auth_login_url, auth_login_url),
                    ("--auth-token-url", reg.auth_token_url, auth_token_url),
                    ("--jwks-url", reg.key_set_url, jwks_url),
                )
                if old != new
            ]
            if differs:
                _fail(
                    f"issuer {issuer} with client id {client_id} is already registered with a different "
                    f"{', '.join(differs)}; nothing was changed"
                )
            known = reg.deployment_ids
        for deployment_id in deployment_ids:
            if deployment_id not in known:
                add_lti_deployment(
                    session, issuer=issuer, client_id=client_id, deployment_id=deployment_id, actor=actor, now=now
                )
                added.append(deployment_id)
        options = LtiRegistrationOptions(
            platform=platform,  # type: ignore[arg-type]
            accept_new_deployments=accept_new_deployments,
            source=existing.options.source if existing else "manual",
        )
        if existing is None or existing.options != options:
            set_lti_registration_options(
                session, issuer=issuer, client_id=client_id, options=options, actor=actor, now=now
            )
    if existing is None:
        click.echo(f"Registered {issuer} (client id {client_id}) with deployment(s) {', '.join(deployment_ids)}.")
    elif added:
        click.echo(f"{issuer} (client id {client_id}) was registered; added deployment(s) {', '.join(added)}.")
    else:
        click.echo(f"{issuer} (client id {client_id}) is already registered with these deployments.")


@lti.command(name="list")
@database_option
def list_platforms(database: str | None) -> None:
    """The registered platforms, their deployments and endpoints."""
    with _transaction(database) as session:
        platforms = list_lti_platforms(session)
    if not platforms:
        click.echo("No LMS is registered. Use `lms-bridge lti add-platform` or dynamic registration (/lti/setup).")
        return
    for p in platforms:
        reg, opt = p.registration, p.options
        click.echo(f"{reg.issuer}  client id {reg.client_id}  ({opt.platform or 'platform from launches'}, {opt.source})")
        click.echo(f"  deployments: {', '.join(reg.deployment_ids) or '(none yet)'}"
                   f"{'  + new ones accepted' if opt.accept_new_deployments else ''}")
        click.echo(f"  login: {reg.auth_login_url}")
        click.echo(f"  token: {reg.auth_token_url}")
        click.echo(f"  jwks:  {reg.key_set_url}")


@lti.group(name="keys")
def keys_group() -> None:
    """The tool's signing keys (published at /lti/jwks)."""


@keys_group.command(name="list")
@database_option
def keys_list(database: str | None) -> None:
    """Every key: the active one signs; previous ones stay published until retired."""
    with _transaction(database) as session:
        found = list_lti_tool_keys(session)
    if not found:
        click.echo("No key yet: `lms-bridge lti keys rotate` (or the first start of the server) makes one.")
        return
    for key in found:
        when = key.created_at.strftime("%Y-%m-%d %H:%M UTC") if key.created_at else ""
        retired = f", retired {key.retired_at:%Y-%m-%d %H:%M UTC}" if key.retired_at else ""
        published = "published" if key.state != "retired" else "not published"
        click.echo(f"{key.kid}  {key.state:<8}  created {when}{retired}  ({published})")


@keys_group.command(name="rotate")
@database_option
def keys_rotate(database: str | None) -> None:
    """Make a new active key; the current one stays in the JWKS as `previous` until retired."""
    from . import keys as tool_keys

    with _transaction(database) as session:
        key = tool_keys.rotate(session, actor=_actor())
    click.echo(f"New active key {key.kid}. The previous key stays published until `lms-bridge lti keys retire KID`.")


@keys_group.command(name="retire")
@click.argument("kid")
@database_option
def keys_retire(kid: str, database: str | None) -> None:
    """Stop publishing a previous key (the active key cannot be retired)."""
    from . import keys as tool_keys

    try:
        with _transaction(database) as session:
            tool_keys.retire(session, kid, actor=_actor())
    except NotFoundError:
        _fail(f"no tool key with kid {kid!r} (see `lms-bridge lti keys list`)")
    except ValueError as exc:
        _fail(str(exc))
    click.echo(f"Key {kid} is retired and no longer published.")


@lti.command(name="registration-url")
@click.option("--base-url", required=True, help="The tool's public root URL, e.g. https://exams.example.edu")
@click.option("--hours", type=click.IntRange(1, 24 * 14), default=24, show_default=True, help="How long it works.")
def registration_url(base_url: str, hours: int) -> None:
    """Print the dynamic registration URL to paste into Canvas or Moodle (signed, expires)."""
    from .registration import ToolUrls, registration_code

    secret = os.environ.get("LMS_BRIDGE_SECRET_KEY")
    if not secret:
        _fail("LMS_BRIDGE_SECRET_KEY is not set: use the same value as the server's")
    problems = _check_url(base_url, "--base-url", allow_http=True)
    if problems:
        _fail(problems[0])
    urls = ToolUrls.from_base(base_url)
    code = registration_code(secret, valid_for_seconds=hours * 3600)
    click.echo(f"{urls.register}?{urlencode({'code': code})}")
