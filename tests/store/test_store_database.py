"""URLs, engines and the UTCDateTime column type."""

from __future__ import annotations

import traceback
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from lms_bridge.store.database import DEFAULT_URL, URL_ENV, database_url
from lms_bridge.store.models import ExamRow, PlanRow, SittingRow
from lms_bridge.store.types import NaiveDateTimeError

NOW = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)


# database_url is pure: these need no database.


def test_database_url_prefers_explicit_then_environment_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(URL_ENV, raising=False)
    assert database_url(None) == DEFAULT_URL == "sqlite:///lms_bridge.db"
    monkeypatch.setenv(URL_ENV, "sqlite:///from-env.db")
    assert database_url(None) == "sqlite:///from-env.db"
    assert database_url("sqlite:///explicit.db") == "sqlite:///explicit.db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@db:5432/lmsb", "postgresql+psycopg://u@db:5432/lmsb"),
        ("postgres://u@db/lmsb", "postgresql+psycopg://u@db/lmsb"),
        ("postgresql+psycopg://u@db/lmsb", "postgresql+psycopg://u@db/lmsb"),
    ],
)
def test_database_url_names_the_psycopg_driver(given: str, expected: str) -> None:
    assert database_url(given) == expected


def exam_row(start: datetime, exam_id: str = "E1") -> ExamRow:
    return ExamRow(exam_id=exam_id, title="T", delivery="quiz", start_at=start, duration_minutes=60, updated_at=NOW)


def test_instants_come_back_as_aware_utc(session: Session) -> None:
    london = datetime(2025, 10, 26, 1, 30, fold=1, tzinfo=ZoneInfo("Europe/London"))  # the second 01:30
    session.add(exam_row(london))
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        # The session zone changes how PostgreSQL renders timestamptz, never what we read.
        session.execute(text("SET TIME ZONE 'America/New_York'"))
    session.expunge_all()

    start = session.scalars(select(ExamRow.start_at)).one()

    assert start.tzinfo is UTC
    assert start == datetime(2025, 10, 26, 1, 30, tzinfo=UTC)


def test_naive_datetimes_are_refused(session: Session) -> None:
    session.add(exam_row(datetime(2025, 5, 12, 9, 0)))
    with pytest.raises(StatementError) as raised:
        session.flush()
    assert isinstance(raised.value.orig, NaiveDateTimeError)


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(SittingRow(exam_pk=12345, student_id="s001"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_deleting_an_exam_cascades_to_its_sittings(session: Session) -> None:
    exam = exam_row(NOW)
    session.add_all([exam, SittingRow(exam=exam, student_id="s001"), SittingRow(exam=exam, student_id="s002")])
    session.commit()

    session.execute(text("DELETE FROM exams"))
    session.commit()

    assert session.scalar(select(func.count()).select_from(SittingRow)) == 0


def test_plan_numbers_never_reach_error_messages(session: Session) -> None:
    session.add(
        PlanRow(
            student_id="s-secret-31337",
            extra_time_percent=Decimal("-77.777"),  # violates the CHECK
            rest_break_minutes_per_hour=Decimal("4.125"),
            updated_at=NOW,
        )
    )
    with pytest.raises(IntegrityError) as raised:
        session.flush()
    # The whole printed traceback, including the driver's exception chained as its cause.
    message = "".join(traceback.format_exception(raised.value))
    assert "77.777" not in message and "4.125" not in message and "s-secret-31337" not in message
    assert "ck_support_plans_extra_time_not_negative" in message  # still says what was wrong
