"""LMS connections and LTI registrations/deployments, and the constraints that guard them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms_bridge.store.models import LmsConnectionRow, LtiDeploymentRow
from lms_bridge.store.repositories import (
    NotFoundError,
    add_lms_connection,
    add_lti_deployment,
    add_lti_registration,
    audit_entries,
    get_lms_connection,
    get_lti_registration,
    list_lms_connections,
    list_lti_registrations,
)

NOW = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)
CANVAS = "https://canvas.instructure.com"  # hosted Canvas: one issuer for every institution


def register(session: Session, client_id: str, issuer: str = CANVAS) -> None:
    add_lti_registration(
        session,
        issuer=issuer,
        client_id=client_id,
        auth_login_url="https://sso.canvaslms.com/api/lti/authorize_redirect",
        auth_token_url="https://sso.canvaslms.com/login/oauth2/token",
        key_set_url="https://sso.canvaslms.com/api/lti/security/jwks",
        actor="admin",
        now=NOW,
    )


def test_lms_connections_round_trip_and_keep_the_token_out_of_sight(session: Session) -> None:
    add_lms_connection(
        session,
        name="uni-canvas",
        kind="canvas",
        base_url="https://uni.instructure.com",
        token="tok-SECRET",
        actor="admin",
        now=NOW,
    )
    add_lms_connection(
        session,
        name="faculty-moodle",
        kind="moodle",
        base_url="https://moodle.uni.ac.uk",
        token="tok-2",
        actor="admin",
        now=NOW,
    )
    session.commit()

    connection = get_lms_connection(session, "uni-canvas")
    assert connection is not None
    assert (connection.kind, connection.token, connection.created_at) == ("canvas", "tok-SECRET", NOW)
    assert "tok-SECRET" not in repr(connection)
    assert [c.name for c in list_lms_connections(session)] == ["faculty-moodle", "uni-canvas"]
    assert get_lms_connection(session, "nope") is None
    [entry] = audit_entries(session, entity="lms_connection", entity_id="uni-canvas")
    assert entry.action == "lms_connection.created" and "tok-SECRET" not in str(entry.after)


def test_lms_connection_names_are_unique(session: Session) -> None:
    add_lms_connection(session, name="x", kind="canvas", base_url="https://a", token="t", actor="admin", now=NOW)
    with pytest.raises(IntegrityError):
        add_lms_connection(session, name="x", kind="moodle", base_url="https://b", token="t", actor="admin", now=NOW)


def test_the_database_checks_the_lms_kind(session: Session) -> None:
    session.add(LmsConnectionRow(name="bb", kind="blackboard", base_url="https://bb", token="t", created_at=NOW))
    with pytest.raises(IntegrityError, match="ck_lms_connections_kind"):
        session.flush()
    session.rollback()
    with pytest.raises(ValueError, match="canvas, moodle"):
        add_lms_connection(
            session,
            name="bb",
            kind="blackboard",  # type: ignore[arg-type]
            base_url="https://bb",
            token="t",
            actor="admin",
            now=NOW,
        )


def test_one_issuer_may_have_many_clients_but_each_pair_once(session: Session) -> None:
    register(session, "10000000000001")
    register(session, "10000000000002")  # same hosted-Canvas issuer, another client
    register(session, "10000000000001", issuer="https://moodle.uni.ac.uk")
    session.commit()
    assert len(list_lti_registrations(session)) == 3

    with pytest.raises(IntegrityError, match="uq_lti_registrations_issuer_client_id|lti_registrations.issuer"):
        register(session, "10000000000001")


def test_deployments_belong_to_one_registration(session: Session) -> None:
    register(session, "c1")
    register(session, "c2")
    add_lti_deployment(session, issuer=CANVAS, client_id="c1", deployment_id="d-b", actor="admin", now=NOW)
    add_lti_deployment(session, issuer=CANVAS, client_id="c1", deployment_id="d-a", actor="admin", now=NOW)
    add_lti_deployment(session, issuer=CANVAS, client_id="c2", deployment_id="d-a", actor="admin", now=NOW)
    session.commit()
    session.expunge_all()

    registration = get_lti_registration(session, CANVAS, "c1")
    assert registration is not None and registration.deployment_ids == ("d-a", "d-b")
    assert registration.created_at == NOW
    assert get_lti_registration(session, CANVAS, "c3") is None
    assert len(audit_entries(session, entity="lti_deployment")) == 3

    with pytest.raises(IntegrityError):
        add_lti_deployment(session, issuer=CANVAS, client_id="c1", deployment_id="d-a", actor="admin", now=NOW)
    session.rollback()
    with pytest.raises(NotFoundError):
        add_lti_deployment(session, issuer=CANVAS, client_id="c3", deployment_id="d-a", actor="admin", now=NOW)


def test_deleting_a_registration_deletes_its_deployments(session: Session) -> None:
    register(session, "c1")
    add_lti_deployment(session, issuer=CANVAS, client_id="c1", deployment_id="d-1", actor="admin", now=NOW)
    session.commit()

    session.execute(text("DELETE FROM lti_registrations"))  # the database's ON DELETE CASCADE
    session.commit()

    assert session.scalar(select(func.count()).select_from(LtiDeploymentRow)) == 0
