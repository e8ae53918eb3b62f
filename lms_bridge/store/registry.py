"""LMS connections and LTI 1.3 registrations/deployments: configuration kept as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .audit import Json, append_audit
from .errors import NotFoundError
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
