"""Importing and loading the exam period: round trip, idempotence, audit, replace, atomicity."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms_bridge.domain.model import DEFAULT_SETUP, Exam, ExamPeriod, ExamSetup, Sitting, SupportPlan
from lms_bridge.store import repositories
from lms_bridge.store.database import session_factory
from lms_bridge.store.models import AuditRow, ExamRow, PlanRow, PolicyRow, SittingRow
from lms_bridge.store.repositories import (
    Counts,
    InvalidPeriodError,
    active_policy,
    audit_entries,
    import_period,
    load_period,
    sitting_entity_id,
)

NOW = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
POLICY = 'name = "test"\n[timing]\nreading_minutes = 10\n'


def run_import(
    session: Session, period: ExamPeriod, *, now: datetime = NOW, replace: bool = False, policy: str = POLICY
) -> repositories.ImportSummary:
    return import_period(
        session, period, policy_name="test", policy_text=policy, actor="exams-office", now=now, replace=replace
    )


def canonical(period: ExamPeriod) -> ExamPeriod:
    """The order load_period returns: exams by (start, id), sittings by (exam, student)."""
    return ExamPeriod(
        exams=tuple(sorted(period.exams, key=lambda e: (e.start, e.exam_id))),
        plans=dict(period.plans),
        sittings=tuple(sorted(period.sittings, key=lambda s: (s.exam_id, s.student_id))),
    )


def with_exam(period: ExamPeriod, exam_id: str, **changes: Any) -> ExamPeriod:
    exams = tuple(dataclasses.replace(e, **changes) if e.exam_id == exam_id else e for e in period.exams)
    return dataclasses.replace(period, exams=exams)


def row_counts(session: Session) -> dict[str, int]:
    models = (ExamRow, PlanRow, SittingRow, PolicyRow, AuditRow)
    return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0 for m in models}


def test_round_trip_returns_equal_domain_objects(session: Session, period: ExamPeriod) -> None:
    summary = run_import(session, period)
    session.commit()
    session.expunge_all()  # read back from the database, not the identity map

    loaded = load_period(session)

    assert loaded == canonical(period)
    assert summary.exams == Counts(created=3)
    assert summary.plans == Counts(created=3)
    assert summary.sittings == Counts(created=5)
    assert summary.policy_activated
    for exam in loaded.exams:
        assert exam.start.tzinfo is UTC
    physics = loaded.exam("PHYS3003")
    assert physics.start == datetime(2025, 5, 14, 12, 30, tzinfo=UTC)  # 13:30 BST
    plan = loaded.plans["s001"]
    assert type(plan.extra_time_percent) is Fraction
    assert plan.extra_time_percent == Fraction(333, 10)
    assert loaded.plans["s002"].rest_break_minutes_per_hour == Fraction(97, 8)
    assert loaded.plans["s003"].is_empty


def test_second_identical_import_writes_nothing(session: Session, period: ExamPeriod, write_log: list[str]) -> None:
    run_import(session, period)
    session.commit()
    audit_before = len(audit_entries(session, limit=1000))
    write_log.clear()

    summary = run_import(session, period, now=LATER)
    session.commit()

    assert write_log == []
    assert len(audit_entries(session, limit=1000)) == audit_before
    assert summary == repositories.ImportSummary(
        exams=Counts(unchanged=3), plans=Counts(unchanged=3), sittings=Counts(unchanged=5), policy_activated=False
    )
    assert not summary.changed


def test_changed_start_writes_one_audited_update(session: Session, period: ExamPeriod) -> None:
    run_import(session, period)
    session.commit()
    new_start = datetime(2025, 5, 12, 10, 0, tzinfo=UTC)

    summary = run_import(session, with_exam(period, "MATH1001", start=new_start), now=LATER)
    session.commit()

    assert summary.exams == Counts(updated=1, unchanged=2)
    assert summary.plans == Counts(unchanged=3) and summary.sittings == Counts(unchanged=5)
    new_entries = audit_entries(session, since=LATER)
    assert [(e.action, e.entity, e.entity_id) for e in new_entries] == [("exam.updated", "exam", "MATH1001")]
    entry = new_entries[0]
    assert entry.actor == "exams-office" and entry.at == LATER
    assert entry.before is not None and entry.after is not None
    assert entry.before["start"] == "2025-05-12T09:00:00+00:00"
    assert entry.after["start"] == "2025-05-12T10:00:00+00:00"
    assert {k for k in entry.before if entry.before[k] != entry.after[k]} == {"start"}
    assert load_period(session).exam("MATH1001").start == new_start
    row = session.scalars(select(ExamRow).where(ExamRow.exam_id == "MATH1001")).one()
    assert row.updated_at == LATER


def test_exam_setup_is_kept_and_its_changes_audited(session: Session, period: ExamPeriod) -> None:
    # The setter's choices must survive the store: a job applying from it would otherwise
    # "repair" an exam's access code and attempts back to the defaults.
    setup = ExamSetup(module_code="MATH1001", access_code="kestrel", attempts=2, practice_days_before=3)
    run_import(session, with_exam(period, "MATH1001", setup=setup))
    session.commit()
    assert load_period(session).exam("MATH1001").setup == setup
    row = session.scalars(select(ExamRow).where(ExamRow.exam_id == "MATH1001")).one()
    # Only what differs from the defaults is stored.
    assert row.setup == {"module_code": "MATH1001", "access_code": "kestrel", "attempts": 2, "practice_days_before": 3}
    assert all(e.setup == DEFAULT_SETUP for e in load_period(session).exams if e.exam_id != "MATH1001")

    changed = dataclasses.replace(setup, access_code="osprey")
    summary = run_import(session, with_exam(period, "MATH1001", setup=changed), now=LATER)
    session.commit()

    assert summary.exams == Counts(updated=1, unchanged=2)
    [entry] = audit_entries(session, since=LATER)
    assert entry.before is not None and entry.after is not None
    assert (entry.before["setup"]["access_code"], entry.after["setup"]["access_code"]) == ("kestrel", "osprey")
    assert load_period(session).exam("MATH1001").setup == changed


def test_changed_plan_is_audited_with_exact_numbers(session: Session, period: ExamPeriod) -> None:
    run_import(session, period)
    session.commit()
    plans = dict(period.plans) | {"s001": SupportPlan("s001", Fraction(50), Fraction(5))}

    summary = run_import(session, dataclasses.replace(period, plans=plans), now=LATER)
    session.commit()

    assert summary.plans == Counts(updated=1, unchanged=2)
    [entry] = audit_entries(session, since=LATER)
    assert (entry.action, entry.entity_id) == ("plan.updated", "s001")
    assert entry.before == {"student_id": "s001", "extra_time_percent": "33.3", "rest_break_minutes_per_hour": "5"}
    assert entry.after == {"student_id": "s001", "extra_time_percent": "50", "rest_break_minutes_per_hour": "5"}


def test_absent_rows_are_kept_without_replace(session: Session, period: ExamPeriod) -> None:
    run_import(session, period)
    session.commit()
    smaller = ExamPeriod(exams=period.exams[:1], plans={}, sittings=())

    summary = run_import(session, smaller, now=LATER)
    session.commit()

    assert summary.exams == Counts(unchanged=1, kept=2)
    assert summary.plans == Counts(kept=3)
    assert summary.sittings == Counts(kept=5)
    assert audit_entries(session, since=LATER) == []
    assert load_period(session) == canonical(period)


def test_replace_removes_absent_rows_and_audits_each(session: Session, period: ExamPeriod) -> None:
    run_import(session, period)
    session.commit()
    keep = period.exam("MATH1001")
    smaller = ExamPeriod(
        exams=(keep,),
        plans={"s002": period.plans["s002"]},
        sittings=(Sitting("MATH1001", "s002"),),
    )

    summary = run_import(session, smaller, now=LATER, replace=True)
    session.commit()

    assert summary.exams == Counts(unchanged=1, removed=2)
    assert summary.plans == Counts(unchanged=1, removed=2)
    assert summary.sittings == Counts(unchanged=1, removed=4)
    assert load_period(session) == smaller
    removed = {(e.action, e.entity_id) for e in audit_entries(session, since=LATER)}
    assert removed == {
        ("exam.removed", "HIST2002"),
        ("exam.removed", "PHYS3003"),
        ("plan.removed", "s001"),
        ("plan.removed", "s003"),
        ("sitting.removed", sitting_entity_id("MATH1001", "s001")),
        ("sitting.removed", sitting_entity_id("HIST2002", "s001")),
        ("sitting.removed", sitting_entity_id("PHYS3003", "s003")),
        ("sitting.removed", sitting_entity_id("PHYS3003", "s004")),
    }
    for entry in audit_entries(session, since=LATER):
        assert entry.before is not None and entry.after is None


def test_import_does_not_commit(session: Session, engine: Engine, period: ExamPeriod) -> None:
    run_import(session, period)
    with session_factory(engine)() as other:
        assert load_period(other) == ExamPeriod(exams=(), plans={}, sittings=())
    session.rollback()
    assert row_counts(session) == dict.fromkeys(row_counts(session), 0)


def test_failure_midway_leaves_database_unchanged(
    session: Session, period: ExamPeriod, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_import(session, period)
    session.commit()
    before = (load_period(session), row_counts(session), active_policy(session))

    def fail(*_args: object, **_kwargs: object) -> None:
        session.flush()  # exams, plans, policy and audit rows have reached the database
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(repositories, "_sync_sittings", fail)
    changed = with_exam(period, "MATH1001", title="Calculus I")
    changed = dataclasses.replace(changed, plans=dict(period.plans) | {"s009": SupportPlan("s009", Fraction(10))})
    with pytest.raises(RuntimeError, match="simulated"):
        run_import(session, changed, now=LATER, policy=POLICY + "# edited\n")
    session.rollback()

    assert (load_period(session), row_counts(session), active_policy(session)) == before


def test_constraint_violation_midway_leaves_database_unchanged(session: Session, period: ExamPeriod) -> None:
    run_import(session, period)
    session.commit()
    before = (load_period(session), row_counts(session))
    broken = with_exam(period, "MATH1001", title="Calculus I")
    zero_length = Exam("BAD0000", "Bad", broken.exams[0].delivery, NOW, duration_minutes=0)
    broken = dataclasses.replace(broken, exams=(*broken.exams, zero_length))

    with pytest.raises(IntegrityError):  # duration_minutes > 0
        run_import(session, broken, now=LATER)
    session.rollback()

    assert (load_period(session), row_counts(session)) == before


def test_policy_is_recorded_only_when_its_text_changes(session: Session, period: ExamPeriod) -> None:
    assert active_policy(session) is None
    run_import(session, period)
    run_import(session, period, now=LATER)
    assert session.scalar(select(func.count()).select_from(PolicyRow)) == 1

    edited = POLICY + "# rest breaks per hour\n"
    summary = run_import(session, period, now=LATER, policy=edited)
    session.commit()

    assert summary.policy_activated
    current = active_policy(session)
    assert current is not None and current.text == edited and current.name == "test"
    [entry] = audit_entries(session, entity="policy", limit=1)
    assert entry.action == "policy.activated" and entry.entity_id == current.sha256
    assert entry.before is not None and entry.before["sha256"] != current.sha256
    assert session.scalar(select(func.count()).select_from(PolicyRow)) == 2


@pytest.mark.parametrize("bad", [Fraction(1, 3), Fraction("12.3456"), Fraction(-5), Fraction(10_000)])
def test_unstorable_plan_number_is_refused_without_revealing_it(
    session: Session, period: ExamPeriod, bad: Fraction
) -> None:
    plans = dict(period.plans) | {"s777": SupportPlan("s777", extra_time_percent=bad)}

    with pytest.raises(InvalidPeriodError) as raised:
        run_import(session, dataclasses.replace(period, plans=plans))

    message = str(raised.value)
    assert "s777" not in message and str(bad) not in message and str(float(bad)) not in message
    assert not session.new and row_counts(session)["audit_log"] == 0  # refused before any write


def test_sitting_for_an_exam_outside_the_period_is_refused(session: Session, period: ExamPeriod) -> None:
    bad = dataclasses.replace(period, sittings=(*period.sittings, Sitting("NOPE9999", "s001")))
    with pytest.raises(InvalidPeriodError, match="NOPE9999"):
        run_import(session, bad)


def test_naive_start_is_refused(session: Session, period: ExamPeriod) -> None:
    naive = with_exam(period, "MATH1001", start=datetime(2025, 5, 12, 9, 0))
    with pytest.raises(InvalidPeriodError, match="MATH1001"):
        run_import(session, naive)
