"""The exams office's services (for its pages): exam statuses, audit filters, incident preview
and record with the affected candidates' export, clarifications queued, alerts, the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms_bridge.cli import main
from lms_bridge.domain.incidents import IncidentError
from lms_bridge.jobs import kinds, office
from lms_bridge.jobs.alerts import AlertSink
from lms_bridge.jobs.converge import JobError
from lms_bridge.jobs.status import APPLIED, record_status
from lms_bridge.store.job_models import WorkItemRow
from lms_bridge.store.repositories import load_period
from tests.jobs.conftest import Period


@pytest.fixture
def stored(db_url, engine_for, period: Period):  # noqa: ANN001, ANN201
    result = CliRunner().invoke(main, ["import", "--policy", "qmu", "--timetable", str(period.timetable),
                                       "--plans", str(period.plans), "--candidates", str(period.candidates),
                                       "--database", db_url, "--actor", "importer"])
    assert result.exit_code == 0, result.output
    return engine_for(db_url)


def test_exam_statuses_start_planned_and_show_the_last_read(stored, period):
    now = datetime.now(UTC)
    with Session(stored) as session, session.begin():
        assert [(s.exam_id, s.state) for s in office.exam_statuses(session)] == [
            ("E1", "planned"), ("E3", "planned"), ("E2", "planned")]  # by start
        record_status(session, "E1", state=APPLIED, now=now, course="canvas:101", operations=4, differing=2)
    with Session(stored) as session:
        s = office.exam_status(session, "E1")
        assert (s.state, s.last_read_operations, s.last_read_differing, s.course) == ("applied", 4, 2, "canvas:101")
        assert s.last_read_at is not None and s.title == "Anatomy"
        assert [x.exam_id for x in office.exam_statuses(session, course="canvas:102")] == ["E3"]


def test_audit_log_filters(stored):
    with Session(stored) as session:
        everything = office.audit_log(session, office.AuditFilter(limit=1000))
        assert everything and everything == sorted(everything, key=lambda r: (r.at, r.id), reverse=True)
        exams = office.audit_log(session, office.AuditFilter(entity="exam"))
        assert {r.action for r in exams} == {"exam.created"}
        assert [r.entity_id for r in office.audit_log(session, office.AuditFilter(action="sitting.*", entity_id="E3/*"))] \
            and all(r.entity_id.startswith("E3/") for r in office.audit_log(session, office.AuditFilter(entity_id="E3/*")))
        assert office.audit_log(session, office.AuditFilter(actor="nobody")) == []
        assert len(office.audit_log(session, office.AuditFilter(actor="importer", limit=2))) == 2
        page2 = office.audit_log(session, office.AuditFilter(limit=2, offset=2))
        assert page2 == everything[2:4]
        future = datetime.now(UTC) + timedelta(days=1)
        assert office.audit_log(session, office.AuditFilter(since=future)) == []
        assert len(office.audit_log(session, office.AuditFilter(until=future, limit=1000))) == len(everything)
        assert {r.entity for r in office.audit_log(session, office.AuditFilter(text="e3/s4"))} == {"sitting"}
        choices = office.audit_filter_choices(session)
        assert "exam" in choices["entity"] and "importer" in choices["actor"] and "plan.created" in choices["action"]


def test_incident_preview_record_and_export(stored, period):
    start = period.starts["E1"]
    with Session(stored) as session, session.begin():
        preview = office.preview_incident(session, "E1", start + timedelta(minutes=10), start + timedelta(minutes=40))
        assert preview.decision == "extend" and preview.rule == "qmu.incident" and preview.changes_lms
        assert preview.affected == tuple(f"s{i}" for i in range(1, 7))
        assert preview.disruption_minutes == 30 and preview.course == "canvas:101"
        long = office.preview_incident(session, "E1", start + timedelta(minutes=10), start + timedelta(minutes=95))
        assert long.decision == "void" and not long.changes_lms
        ident = office.record_incident(session, preview, actor="officer", now=datetime.now(UTC))
    with Session(stored) as session:
        (item,) = session.scalars(select(WorkItemRow).where(WorkItemRow.kind == kinds.APPLY_INCIDENT)).all()
        assert item.args == {"incident_id": ident}  # ids only: the decision and the students stay in the store
        (record,) = office.list_incidents(session, exam_id="E1")
        assert record.state == "recorded" and record.affected == preview.affected
        lines = office.incident_affected_csv(session, ident).splitlines()
        assert lines[0] == ("incident_id,exam_id,student_id,decision,rule,disruption_from,disruption_to,"
                            "disruption_minutes")
        assert [line.split(",")[2] for line in lines[1:]] == list(preview.affected)


def test_incident_preview_with_candidates_from_a_roster_and_its_errors(stored, period):
    start = period.starts["E3"]
    with Session(stored) as session:
        preview = office.preview_incident(session, "E3", start + timedelta(minutes=5), start + timedelta(minutes=15),
                                          candidates=["s4", "s99"])
        assert preview.affected == ("s4", "s99")
        with pytest.raises(JobError):
            office.preview_incident(session, "NOPE", start, start + timedelta(minutes=5))
        with pytest.raises(IncidentError):
            office.preview_incident(session, "E3", start - timedelta(hours=1), start - timedelta(minutes=5))


def test_a_clarification_is_stored_audited_and_queued_by_id(stored):
    with Session(stored) as session, session.begin():
        ident = office.create_clarification(session, "E1", "Q2", "Read 'mg' as 'g'.", actor="officer",
                                            now=datetime.now(UTC))
        with pytest.raises(ValueError):
            office.create_clarification(session, "E1", " ", "x", actor="officer", now=datetime.now(UTC))
    with Session(stored) as session:
        (item,) = session.scalars(select(WorkItemRow).where(WorkItemRow.kind == kinds.SEND_CLARIFICATION)).all()
        assert item.args == {"clarification_id": ident}
        (entry,) = office.audit_log(session, office.AuditFilter(entity="clarification"))
        assert entry.actor == "officer" and entry.after == {"exam_id": "E1", "subject": "Q2", "body": "Read 'mg' as 'g'."}


def test_alerts_for_the_dashboard(stored):
    sink = AlertSink()
    now = datetime.now(UTC)
    with Session(stored) as session, session.begin():
        first = sink.raise_(session, kind="drift", message="exam E1 drifted", at=now, exam_id="E1")
        sink.raise_(session, kind="failed", message="reconcile gave up", at=now + timedelta(seconds=1))
    sink.flush(session)
    with Session(stored) as session, session.begin():
        assert [a.kind for a in office.list_alerts(session, open_only=True)] == ["failed", "drift"]
        assert office.acknowledge_alert(session, first.id, actor="officer", now=now)
        assert not office.acknowledge_alert(session, first.id, actor="officer", now=now)
    with Session(stored) as session:
        assert [a.kind for a in office.list_alerts(session, open_only=True)] == ["failed"]
        assert office.list_alerts(session, exam_id="E1")[0].acknowledged_by == "officer"


def test_import_queues_reconciles_only_for_changed_courses_with_exams_ahead(stored, period, db_url):
    with Session(stored) as session:
        queued = {tuple(sorted(i.args.items())) for i in office.list_work(session, kind=kinds.RECONCILE_COURSE)}
    assert queued == {(("course", "canvas:101"),), (("course", "canvas:102"),)}
    again = CliRunner().invoke(main, ["import", "--policy", "qmu", "--timetable", str(period.timetable),
                                      "--plans", str(period.plans), "--candidates", str(period.candidates),
                                      "--database", db_url])
    assert "is queued for the workers" not in again.output  # nothing changed: nothing queued
    with Session(stored) as session:
        assert len(office.list_work(session)) == 2


def test_affected_courses_is_pure_and_precise(stored):
    with Session(stored) as session:
        before = load_period(session)
    now = datetime.now(UTC)
    e1 = before.exam("E1")
    moved = type(before)(tuple(e if e.exam_id != "E1" else type(e1)(**{**{f: getattr(e1, f) for f in e1.__dataclass_fields__},
                                                                      "start": e1.start + timedelta(minutes=15)})
                               for e in before.exams), before.plans, before.sittings)
    assert office.affected_courses(before, moved, now=now) == ["canvas:101"]
    assert office.affected_courses(before, before, now=now) == []
    assert office.affected_courses(before, before, now=now, everything=True) == ["canvas:101", "canvas:102"]
    later = now + timedelta(days=90)  # every exam is long past
    assert office.affected_courses(before, moved, now=later) == []
    new_plan = type(before)(before.exams, {k: v for k, v in before.plans.items() if k != "s5"}, before.sittings)
    assert office.affected_courses(before, new_plan, now=now) == ["canvas:101", "canvas:102"]  # s5 sits in both


def test_enqueue_reconcile_coalesces_a_course_already_waiting(stored):
    now = datetime.now(UTC)
    with Session(stored) as session, session.begin():
        assert office.enqueue_reconcile(session, ["canvas:101", "canvas:9"], reason="web", actor="t", now=now) == 1
