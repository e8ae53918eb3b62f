"""LMS connections and LTI 1.3 registrations/deployments: configuration kept as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .audit import Json, append_audit
from .errors import NotFoundError
from .lti_models import LtiRegistrationOptionsRow, LtiToolKeyRow
from .models import LMS_KINDS, LmsConnectionRow, LtiDeploymentRow, LtiRegistrationRow

# --- LMS connections --------------------------------------------------------------------------

LmsKind = Literal["canvas", "moodle"]


@dataclass(frozen=True, slots=True)
class LmsConnection:
    name: str
    kind: LmsKind
    base_url: str
    token: str = field(repr=False)  # a credential
    created_at: datetime


def add_lms_connection(
    session: Session, *, name: str, kind: LmsKind, base_url: str, token: str, actor: str, now: datetime
) -> LmsConnection:
    """Store a connection (flushed, so a duplicate name fails here). The token is not audited."""
    if kind not in LMS_KINDS:
        raise ValueError(f"LMS kind must be one of {', '.join(LMS_KINDS)}, not {kind!r}")
    row = LmsConnectionRow(name=name, kind=kind, base_url=base_url, token=token, created_at=now)
    session.add(row)
    session.flush()
    _audit_created(session, "lms_connection", name, {"name": name, "kind": kind, "base_url": base_url}, actor, now)
    return _connection_record(row)


def get_lms_connection(session: Session, name: str) -> LmsConnection | None:
    row = session.scalars(select(LmsConnectionRow).where(LmsConnectionRow.name == name)).first()
    return None if row is None else _connection_record(row)


def list_lms_connections(session: Session) -> list[LmsConnection]:
    return sorted((_connection_record(r) for r in session.scalars(select(LmsConnectionRow))), key=lambda c: c.name)


def _connection_record(row: LmsConnectionRow) -> LmsConnection:
    return LmsConnection(row.name, cast(LmsKind, row.kind), row.base_url, row.token, row.created_at)


# --- LTI 1.3 registrations and deployments ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class LtiRegistration:
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    created_at: datetime
    deployment_ids: tuple[str, ...]


def add_lti_registration(
    session: Session,
    *,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    actor: str,
    now: datetime,
) -> LtiRegistration:
    """Store a platform registration (flushed, so a duplicate (issuer, client_id) fails here)."""
    row = LtiRegistrationRow(
        issuer=issuer,
        client_id=client_id,
        auth_login_url=auth_login_url,
        auth_token_url=auth_token_url,
        key_set_url=key_set_url,
        created_at=now,
    )
    session.add(row)
    session.flush()
    record = _registration_record(row)
    after = {k: getattr(record, k) for k in ("issuer", "client_id", "auth_login_url", "auth_token_url", "key_set_url")}
    _audit_created(session, "lti_registration", _registration_entity_id(issuer, client_id), after, actor, now)
    return record


def add_lti_deployment(
    session: Session, *, issuer: str, client_id: str, deployment_id: str, actor: str, now: datetime
) -> None:
    """Add a deployment to a registration (flushed, so a duplicate fails here)."""
    row = _registration_row(session, issuer, client_id)
    if row is None:
        raise NotFoundError(f"no LTI registration for issuer {issuer!r} and client id {client_id!r}")
    row.deployments.append(LtiDeploymentRow(deployment_id=deployment_id))
    session.flush()
    entity_id = f"{_registration_entity_id(issuer, client_id)} {deployment_id}"
    after = {"issuer": issuer, "client_id": client_id, "deployment_id": deployment_id}
    _audit_created(session, "lti_deployment", entity_id, after, actor, now)


def get_lti_registration(session: Session, issuer: str, client_id: str) -> LtiRegistration | None:
    row = _registration_row(session, issuer, client_id)
    return None if row is None else _registration_record(row)


def list_lti_registrations(session: Session) -> list[LtiRegistration]:
    rows = session.scalars(select(LtiRegistrationRow).options(selectinload(LtiRegistrationRow.deployments)))
    return sorted((_registration_record(r) for r in rows), key=lambda r: (r.issuer, r.client_id))


def _registration_row(session: Session, issuer: str, client_id: str) -> LtiRegistrationRow | None:
    query = select(LtiRegistrationRow).where(
        LtiRegistrationRow.issuer == issuer, LtiRegistrationRow.client_id == client_id
    )
    return session.scalars(query.options(selectinload(LtiRegistrationRow.deployments))).first()


def _registration_record(row: LtiRegistrationRow) -> LtiRegistration:
    return LtiRegistration(
        issuer=row.issuer,
        client_id=row.client_id,
        auth_login_url=row.auth_login_url,
        auth_token_url=row.auth_token_url,
        key_set_url=row.key_set_url,
        created_at=row.created_at,
        deployment_ids=tuple(sorted(d.deployment_id for d in row.deployments)),
    )


def _registration_entity_id(issuer: str, client_id: str) -> str:
    return f"{issuer} {client_id}"  # an issuer is a URL, so it holds no space


def _audit_created(session: Session, entity: str, entity_id: str, after: Json, actor: str, now: datetime) -> None:
    append_audit(
        session,
        actor=actor,
        action=f"{entity}.created",
        entity=entity,
        entity_id=entity_id,
        before=None,
        after=after,
        reason=None,
        at=now,
    )


# --- LTI tool: registration options, deployments found at launch, tool keys -----------------
# (the LTI layer, lms_bridge.lti, is the only caller; see lti_models.py for the tables)

LtiPlatformKind = Literal["canvas", "moodle"]


@dataclass(frozen=True, slots=True)
class LtiRegistrationOptions:
    # canvas | moodle, or None: told by each launch's tool_platform claim.
    platform: LtiPlatformKind | None = None
    # Record a deployment id first seen in a signed launch instead of refusing it (Canvas sends a
    # new install's deployment id only with its first launch).
    accept_new_deployments: bool = False
    source: Literal["manual", "dynamic"] = "manual"


@dataclass(frozen=True, slots=True)
class LtiPlatform:
    """A registration with its deployments and options, as the launch needs it (one read)."""

    registration: LtiRegistration
    options: LtiRegistrationOptions


@dataclass(frozen=True, slots=True)
class LtiToolKey:
    kid: str
    state: Literal["active", "previous", "retired"]
    public_pem: str
    private_pem: str = field(repr=False)  # a secret
    created_at: datetime | None = None
    retired_at: datetime | None = None


def set_lti_registration_options(
    session: Session, *, issuer: str, client_id: str, options: LtiRegistrationOptions, actor: str, now: datetime
) -> None:
    """Create or replace a registration's options (audited)."""
    row = _registration_row(session, issuer, client_id)
    if row is None:
        raise NotFoundError(f"no LTI registration for issuer {issuer!r} and client id {client_id!r}")
    existing = session.get(LtiRegistrationOptionsRow, row.id)
    before = None if existing is None else _options_json(_options_record(existing))
    if existing is None:
        existing = LtiRegistrationOptionsRow(registration_id=row.id)
        session.add(existing)
    existing.platform = options.platform
    existing.accept_new_deployments = options.accept_new_deployments
    existing.source = options.source
    session.flush()
    append_audit(
        session,
        actor=actor,
        action="lti_registration.options_set",
        entity="lti_registration",
        entity_id=_registration_entity_id(issuer, client_id),
        before=before,
        after=_options_json(options),
        reason=None,
        at=now,
    )


def get_lti_platform(session: Session, issuer: str, client_id: str) -> LtiPlatform | None:
    """The registration for (issuer, client_id) with its deployments and options, or None."""
    query = (
        select(LtiRegistrationRow, LtiRegistrationOptionsRow)
        .outerjoin(LtiRegistrationOptionsRow, LtiRegistrationOptionsRow.registration_id == LtiRegistrationRow.id)
        .where(LtiRegistrationRow.issuer == issuer, LtiRegistrationRow.client_id == client_id)
        .options(selectinload(LtiRegistrationRow.deployments))
    )
    found = session.execute(query).first()
    if found is None:
        return None
    row, options = found
    return LtiPlatform(_registration_record(row), LtiRegistrationOptions() if options is None else _options_record(options))


def list_lti_platforms(session: Session) -> list[LtiPlatform]:
    query = (
        select(LtiRegistrationRow, LtiRegistrationOptionsRow)
        .outerjoin(LtiRegistrationOptionsRow, LtiRegistrationOptionsRow.registration_id == LtiRegistrationRow.id)
        .options(selectinload(LtiRegistrationRow.deployments))
    )
    platforms = [
        LtiPlatform(_registration_record(row), LtiRegistrationOptions() if opt is None else _options_record(opt))
        for row, opt in session.execute(query)
    ]
    return sorted(platforms, key=lambda p: (p.registration.issuer, p.registration.client_id))


def add_lti_tool_key(
    session: Session, *, kid: str, private_pem: str, public_pem: str, actor: str, now: datetime
) -> LtiToolKey:
    """Store a new key pair as the active (signing) key; the key it replaces becomes `previous`
    and stays published in the JWKS until retired."""
    demoted = []
    for old in session.scalars(select(LtiToolKeyRow).where(LtiToolKeyRow.state == "active")):
        old.state = "previous"
        demoted.append(old.kid)
    row = LtiToolKeyRow(kid=kid, private_pem=private_pem, public_pem=public_pem, state="active", created_at=now)
    session.add(row)
    session.flush()
    append_audit(
        session,
        actor=actor,
        action="lti_tool_key.created",
        entity="lti_tool_key",
        entity_id=kid,
        before=None,
        after={"kid": kid, "state": "active", "replaces": demoted},  # never the private key
        reason=None,
        at=now,
    )
    return _tool_key_record(row)


def retire_lti_tool_key(session: Session, *, kid: str, actor: str, now: datetime) -> LtiToolKey:
    """Take a previous key out of the JWKS for good. The active key cannot be retired (rotate first)."""
    row = session.scalars(select(LtiToolKeyRow).where(LtiToolKeyRow.kid == kid)).first()
    if row is None:
        raise NotFoundError(f"no tool key with kid {kid!r}")
    if row.state == "active":
        raise ValueError(f"key {kid} is the active signing key: rotate first, then retire it")
    if row.state == "retired":
        raise ValueError(f"key {kid} is already retired")
    row.state = "retired"
    row.retired_at = now
    session.flush()
    append_audit(
        session,
        actor=actor,
        action="lti_tool_key.retired",
        entity="lti_tool_key",
        entity_id=kid,
        before={"state": "previous"},
        after={"state": "retired"},
        reason=None,
        at=now,
    )
    return _tool_key_record(row)


def list_lti_tool_keys(session: Session, *, include_retired: bool = True) -> list[LtiToolKey]:
    """Tool keys, newest first."""
    query = select(LtiToolKeyRow).order_by(LtiToolKeyRow.id.desc())
    if not include_retired:
        query = query.where(LtiToolKeyRow.state != "retired")
    return [_tool_key_record(r) for r in session.scalars(query)]


def _tool_key_record(row: LtiToolKeyRow) -> LtiToolKey:
    state = cast(Literal["active", "previous", "retired"], row.state)
    return LtiToolKey(row.kid, state, row.public_pem, row.private_pem, row.created_at, row.retired_at)


def _options_record(row: LtiRegistrationOptionsRow) -> LtiRegistrationOptions:
    platform = cast(LtiPlatformKind | None, row.platform)
    source = cast(Literal["manual", "dynamic"], row.source)
    return LtiRegistrationOptions(platform, bool(row.accept_new_deployments), source)


def _options_json(options: LtiRegistrationOptions) -> Json:
    return {
        "platform": options.platform,
        "accept_new_deployments": options.accept_new_deployments,
        "source": options.source,
    }
