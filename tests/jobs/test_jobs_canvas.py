"""The jobs against the Canvas simulator over real HTTP, one process, SQLite store: apply at
T-24h, verify at T-30min, drift alerted and repaired, a plan or roster change re-applied,
`incident --apply` and `stagger --apply` in Canvas, a clarification posted once, and no plan
data in any log line or stored job text."""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms_bridge import services
from lms_bridge.cli import main
from lms_bridge.domain.model import ExamPeriod, Sitting
from lms_bridge.inputs import read_period
from lms_bridge.jobs import kinds, office, queue
from lms_bridge.jobs.alerts import list_alerts
from lms_bridge.jobs.converge import load_state
from lms_bridge.jobs.status import exam_statuses
from lms_bridge.policies import load_policy
from lms_bridge.store.job_models import AlertRow, ExamStatusRow, IncidentRow, ReleaseShiftRow, WorkItemRow
from lms_bridge.store.models import AuditRow
from tests.jobs.conftest import PLAN_BREAKS, PLAN_PERCENT, PLANS, Period, soon
from tests.support.workers import node_for, run_until_idle

POLICY = "qmu"
LONDON_FMT = "%Y-%m-%d %H:%M"


# -- helpers ---------------------------------------------------------------------------------------------


def do_import(url: str, period: Period, policy: str = POLICY) -> str:
    result = CliRunner().invoke(main, ["import", "--policy", policy, "--timetable", str(period.timetable),
                                       "--plans", str(period.plans), "--candidates", str(period.candidates),
                                       "--database", url])
    assert result.exit_code == 0, result.output
    return result.output


def api(server) -> httpx.Client:  # noqa: ANN001
    return httpx.Client(base_url=server.api_url, headers={"Authorization": f"Bearer {server.token}"})


def utc(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def assignment(client: httpx.Client, course: int, exam_id: str) -> dict:
    rows = client.get(f"/courses/{course}/assignments", params={"include[]": "overrides", "per_page": 100,
                                                                "override_assignment_dates": "false"}).json()
    (found,) = [a for a in rows if a["name"].endswith(f"[{exam_id}]") and not a["name"].startswith("Practice")]
    return found


def windows_in_canvas(client: httpx.Client, course: int, exam_id: str) -> dict[str, tuple]:
    """Every enrolled student's (opens, due, closes) for the exam, as Canvas holds it."""
    sis = {r["user_id"]: r["user"].get("sis_user_id")
           for r in client.get(f"/courses/{course}/enrollments", params={"per_page": 100}).json()
           if r["type"] == "StudentEnrollment"}
    a = assignment(client, course, exam_id)
    out = {s: (utc(a["unlock_at"]), utc(a["due_at"]), utc(a["lock_at"])) for s in sis.values()}
    for o in a.get("overrides") or ():
        for uid in o["student_ids"]:
            out[sis[uid]] = (utc(o["unlock_at"]), utc(o["due_at"]), utc(o["lock_at"]))
    return out


def expected(period: Period, policy: str = POLICY) -> dict[tuple[str, str], tuple]:
    pol, _ = load_policy(policy)
    per = read_period(pol, period.timetable, period.plans, period.candidates)
    return {(w.exam_id, w.student_id): (w.opens_at, w.due_at, w.closes_at)
            for w in services.windows_for(pol, per).windows}


def work(engine, **where) -> list[WorkItemRow]:  # noqa: ANN001, ANN003
    with Session(engine) as session:
        query = select(WorkItemRow).order_by(WorkItemRow.id)
        for k, v in where.items():
            query = query.where(getattr(WorkItemRow, k) == v)
        return list(session.scalars(query))


def states(engine) -> dict[str, str]:  # noqa: ANN001
    with Session(engine) as session:
        return {s.exam_id: s.state for s in exam_statuses(session)}


# -- apply at T-24h, verify at T-30min --------------------------------------------------------------------


def test_exams_within_24h_are_applied_and_verified_and_canvas_holds_every_window(sqlite_url, engine_for, period,
                                                                                  canvas):
    engine = engine_for(sqlite_url)
    output = do_import(sqlite_url, period)
    assert "a reconcile of 2 changed courses is queued" in output
    # the import's reconciles are not what this test is about: leave only the schedule's work
    with Session(engine) as session, session.begin():
        for item in session.scalars(select(WorkItemRow)):
            item.state = "done"
    node = node_for(engine, canvas)
    assert states(engine) == {"E1": "planned", "E2": "planned", "E3": "planned"}

    node.lead_once()
    applies = {i.args["exam_id"] for i in work(engine, kind=kinds.APPLY_EXAM)}
    assert applies == {"E1", "E3"}  # E2 is three days away: not yet (the nightly reconcile covers its course)
    nightly = {i.args["course"] for i in work(engine, kind=kinds.RECONCILE_COURSE, state="pending")}
    assert nightly == {"canvas:101", "canvas:102"}
    assert not work(engine, kind=kinds.VERIFY_EXAM)  # nothing is 30 minutes away
    run_until_idle(node)
    assert states(engine)["E1"] == states(engine)["E3"] == "applied"

    want = expected(period)
    with api(canvas) as client:
        for course, exam_id in ((101, "E1"), (102, "E3")):
            got = windows_in_canvas(client, course, exam_id)
            assert got == {s: w for (e, s), w in want.items() if e == exam_id}

    # T-30min: verify (here the verify offset is widened so "now" is inside it)
    verifier = node_for(engine, canvas, verify_before_minutes=24 * 60)
    verifier.lead_once()
    assert {i.args["exam_id"] for i in work(engine, kind=kinds.VERIFY_EXAM)} == {"E1", "E3"}
    run_until_idle(verifier)
    assert states(engine) == {"E1": "verified", "E2": "applied", "E3": "verified"}  # E2: by the nightly reconcile
    with Session(engine) as session:
        row = session.get(ExamStatusRow, "E1")
        assert row.last_read_at is not None and row.last_read_operations == 0 and row.last_read_differing == 0
    # a second tick adds nothing: each due job is enqueued once
    before = len(work(engine))
    verifier.lead_once()
    assert len(work(engine)) == before


def test_drift_is_alerted_with_counts_only_and_repaired(sqlite_url, engine_for, period, canvas):
    engine = engine_for(sqlite_url)
    do_import(sqlite_url, period)
    node = node_for(engine, canvas)
    node.lead_once()
    run_until_idle(node)
    with api(canvas) as client:  # by hand: the exam's close moved, one student's override deleted
        a = assignment(client, 101, "E1")
        client.put(f"/courses/101/assignments/{a['id']}",
                   json={"assignment": {"lock_at": (utc(a["lock_at"]) - timedelta(minutes=20)).isoformat()}})
        client.delete(f"/courses/101/assignments/{a['id']}/overrides/{a['overrides'][0]['id']}")
    with Session(engine) as session, session.begin():
        queue.enqueue(session, kind=kinds.VERIFY_EXAM, args={"exam_id": "E1"}, dedupe_key="verify:E1:by-test",
                      enqueued_by="test")
    (verify,) = node.worker.claim(1)
    assert node.worker.run_claim(verify) == "done"
    assert states(engine)["E1"] == "drifted"
    with Session(engine) as session:
        (alert,) = [a for a in list_alerts(session) if a.kind == "drift"]
    assert alert.exam_id == "E1" and alert.course == "canvas:101"
    assert alert.message.startswith("exam E1 in canvas:101 drifted: 6 candidates' windows differ")
    assert PLAN_PERCENT not in alert.message and "%" not in alert.message
    # the repair and the re-check were queued; they converge Canvas and verify it
    run_until_idle(node)
    assert states(engine)["E1"] == "verified"
    want = expected(period)
    with api(canvas) as client:
        assert windows_in_canvas(client, 101, "E1") == {s: w for (e, s), w in want.items() if e == "E1"}


# -- re-apply on a plan or roster change -------------------------------------------------------------------


def test_a_new_plan_imported_is_reapplied_in_its_courses(sqlite_url, engine_for, period, canvas):
    engine = engine_for(sqlite_url)
    do_import(sqlite_url, period)
    node = node_for(engine, canvas)
    run_until_idle(node)
    period.plans.write_text(PLANS + f"s3,{PLAN_PERCENT},0\n", encoding="utf-8")  # s3 sits E1 and E2 in 101
    output = do_import(sqlite_url, period)
    assert "a reconcile of 1 changed courses is queued" in output
    (queued,) = work(engine, state="pending")
    assert queued.kind == kinds.RECONCILE_COURSE and queued.args == {"course": "canvas:101"}
    run_until_idle(node)
    want = expected(period)
    with api(canvas) as client:
        got = windows_in_canvas(client, 101, "E1")
    assert got["s3"] == want[("E1", "s3")] != want[("E1", "s4")]


def test_a_late_enrolment_gets_its_window_from_the_roster_check(sqlite_url, engine_for, period, canvas):
    engine = engine_for(sqlite_url)
    period.plans.write_text(PLANS + f"s11,{PLAN_PERCENT},0\n", encoding="utf-8")  # on no roster yet
    do_import(sqlite_url, period)
    node = node_for(engine, canvas, roster_check_minutes=0.02)  # every 1.2 s
    node.lead_once()
    run_until_idle(node)
    user = canvas.sim.create_user("Student s11", "s11")
    canvas.sim.enroll(101, user.id)  # a late enrolment, in Canvas only
    time.sleep(1.3)
    assert node.lead_once() >= 1  # the next roster check of canvas:101
    run_until_idle(node)
    pol, _ = load_policy(POLICY)
    per = read_period(pol, period.timetable, period.plans)
    (w,) = services.windows_for(pol, ExamPeriod(per.exams, per.plans, (Sitting("E1", "s11"),))).windows
    with api(canvas) as client:
        got = windows_in_canvas(client, 101, "E1")
    assert got["s11"] == (w.opens_at, w.due_at, w.closes_at) != got["s3"]


# -- incidents and staggered releases ----------------------------------------------------------------------


def local(instant: datetime) -> str:
    from zoneinfo import ZoneInfo

    return instant.astimezone(ZoneInfo("Europe/London")).strftime(LONDON_FMT)


def test_incident_apply_extends_the_affected_candidates_closes_in_canvas(sqlite_url, engine_for, period, canvas):
    engine = engine_for(sqlite_url)
    do_import(sqlite_url, period)
    node = node_for(engine, canvas)
    run_until_idle(node)  # E1 is in Canvas
    start = period.starts["E1"]
    args = ["incident", "--policy", POLICY, "--timetable", str(period.timetable), "--plans", str(period.plans),
            "--candidates", str(period.candidates), "--exam", "E1", "--from", local(start + timedelta(minutes=10)),
            "--to", local(start + timedelta(minutes=40)), "--format", "json"]
    dry = CliRunner().invoke(main, args)
    assert dry.exit_code == 0, dry.output
    with api(canvas) as client:
        before = windows_in_canvas(client, 101, "E1")

    applied = CliRunner().invoke(main, [*args, "--apply", "--database", sqlite_url, "--canvas-url", canvas.base_url,
                                        "--canvas-token", canvas.token, "--actor", "officer"])
    assert applied.exit_code == 0, applied.output
    assert applied.stdout == dry.stdout  # the JSON of INTERFACES.md, unchanged
    decision = json.loads(applied.stdout)
    assert decision["decision"] == "extend" and decision["affected"] == [f"s{i}" for i in range(1, 7)]
    assert "changes made in the LMS" in applied.stderr

    with api(canvas) as client:
        after = windows_in_canvas(client, 101, "E1")
    for student in decision["affected"]:
        assert after[student][0] == before[student][0]  # opens as before
        assert after[student][1] - before[student][1] == timedelta(minutes=30)
        assert after[student][2] - before[student][2] == timedelta(minutes=30)
    with Session(engine) as session:
        (incident,) = session.scalars(select(IncidentRow)).all()
        assert (incident.state, incident.recorded_by, incident.disruption_minutes) == ("applied", "officer", 30)
        actions = session.scalars(select(AuditRow.action).where(AuditRow.entity == "incident")).all()
    assert actions == ["incident.recorded", "incident.applied"]
    # later syncs from the store keep the extension: nothing to change, nothing reverted
    with Session(engine) as session, session.begin():
        queue.enqueue(session, kind=kinds.RECONCILE_COURSE, args={"course": "canvas:101"}, dedupe_key="r:after",
                      enqueued_by="test")
    run_until_idle(node)
    (item,) = work(engine, dedupe_key="r:after")
    assert "0 changes needed" in item.result
    # ... and so does an apply from the files, which reads the store's extensions
    from_files = ["--policy", POLICY, "--timetable", str(period.timetable), "--plans", str(period.plans),
                  "--database", sqlite_url, "--canvas-url", canvas.base_url, "--canvas-token", canvas.token,
                  "--format", "json"]
    replanned = CliRunner().invoke(main, ["apply", *from_files])
    assert replanned.exit_code == 0, replanned.output
    assert json.loads(replanned.stdout.strip().splitlines()[-1])["writes"] == 0
    with api(canvas) as client:
        assert windows_in_canvas(client, 101, "E1") == after
    # the affected candidates, for special consideration
    with Session(engine) as session:
        csv_text = office.incident_affected_csv(session, incident.id)
    assert csv_text.splitlines()[0].startswith("incident_id,exam_id,student_id")
    assert len(csv_text.splitlines()) == 7


def test_stagger_apply_moves_release_times_in_the_store_and_canvas(sqlite_url, engine_for, period, canvas, tmp_path):
    policy_file = tmp_path / "qmu_small.toml"
    text = (Path(__file__).resolve().parents[2] / "config" / "policies" / "qmu.toml").read_text(encoding="utf-8")
    policy_file.write_text(text.replace('name = "qmu"', 'name = "qmu_small"')
                           .replace("max_concurrent_starts = 1500", "max_concurrent_starts = 8"), encoding="utf-8")
    slot = soon(20)
    period.write_timetable({"E1": ("Anatomy", "dropbox", slot, 90, "canvas:101"),
                            "E2": ("Statistics", "quiz", soon(72), 60, "canvas:101"),
                            "E3": ("Ethics", "dropbox", slot, 60, "canvas:102")})
    engine = engine_for(sqlite_url)
    do_import(sqlite_url, period, str(policy_file))
    node = node_for(engine, canvas)
    run_until_idle(node)  # both in Canvas, releasing together: 12 candidates against a limit of 8

    result = CliRunner().invoke(main, ["stagger", "--policy", str(policy_file), "--timetable", str(period.timetable),
                                       "--candidates", str(period.candidates), "--plans", str(period.plans),
                                       "--format", "json", "--apply", "--database", sqlite_url,
                                       "--canvas-url", canvas.base_url, "--canvas-token", canvas.token])
    assert result.exit_code == 0, result.output
    (shift,) = json.loads(result.stdout)["shifts"]
    moved = shift["exam_id"]
    new_start = slot + timedelta(minutes=shift["minutes"])
    assert shift["minutes"] in (15, 30)
    with Session(engine) as session:
        row = session.get(ReleaseShiftRow, moved)
        assert row.new_start == new_start and row.applied_at is not None
        assert load_state(session).exam(moved).start == new_start  # the store's effective release
    course = 101 if moved == "E1" else 102
    with api(canvas) as client:
        a = assignment(client, course, moved)
        assert utc(a["unlock_at"]) == new_start
        assert {w[0] for w in windows_in_canvas(client, course, moved).values()} == {new_start}
        other = "E3" if moved == "E1" else "E1"
        assert utc(assignment(client, 203 - course, other)["unlock_at"]) == slot
    # a re-import of the same timetable keeps the shift; the next reconcile changes nothing
    do_import(sqlite_url, period, str(policy_file))
    with Session(engine) as session, session.begin():
        queue.enqueue(session, kind=kinds.RECONCILE_COURSE, args={"course": f"canvas:{course}"},
                      dedupe_key="r:after", enqueued_by="test")
    run_until_idle(node)
    assert "0 changes needed" in work(engine, dedupe_key="r:after")[0].result


def test_stagger_apply_needs_the_plans(sqlite_url, period):
    result = CliRunner().invoke(main, ["stagger", "--policy", POLICY, "--timetable", str(period.timetable),
                                       "--candidates", str(period.candidates), "--apply", "--database", sqlite_url])
    assert result.exit_code == 2 and "--apply needs --plans" in result.output


# -- clarifications ---------------------------------------------------------------------------------------


def test_a_clarification_is_announced_once_in_the_exams_course_and_audited(sqlite_url, engine_for, period, canvas):
    engine = engine_for(sqlite_url)
    do_import(sqlite_url, period)
    node = node_for(engine, canvas)
    with Session(engine) as session, session.begin():
        ident = office.create_clarification(session, "E3", "Question 4", "In question 4, read 'litres' as 'millilitres'.",
                                            actor="officer", now=datetime.now(UTC))
    run_until_idle(node)
    with api(canvas) as client:
        posts = client.get("/courses/102/discussion_topics", params={"only_announcements": "true"}).json()
    (post,) = [p for p in posts if p["title"].endswith(f"[E3/{ident}]")]
    assert post["is_announcement"] is True and "millilitres" in post["message"]
    # a rerun (say the worker died after posting) finds it and does not post again
    with Session(engine) as session, session.begin():
        queue.enqueue(session, kind=kinds.SEND_CLARIFICATION, args={"clarification_id": ident},
                      dedupe_key="again", enqueued_by="test")
    run_until_idle(node)
    with api(canvas) as client:
        posts = client.get("/courses/102/discussion_topics", params={"only_announcements": "true"}).json()
    assert len([p for p in posts if p["title"].endswith(f"[E3/{ident}]")]) == 1
    with Session(engine) as session:
        actions = session.scalars(select(AuditRow.action).where(AuditRow.entity == "clarification")
                                  .order_by(AuditRow.id)).all()
    assert actions == ["clarification.created", "clarification.posted", "clarification.found"]


# -- no plan data in logs ---------------------------------------------------------------------------------


PLAN_WORDS = ("extra_time_percent", "rest_break_minutes_per_hour", "extra time percent", "rest break", "percent")
# the plan numbers standing alone (a header such as X-Rate-Limit-Remaining: 537.512 is not one)
PLAN_NUMBERS = re.compile(rf"(?<![\d.])({re.escape(PLAN_PERCENT)}|{re.escape(PLAN_BREAKS)})(?![\d])")


def test_no_plan_data_in_any_log_record_or_stored_job_text(sqlite_url, engine_for, period, canvas, caplog):
    caplog.set_level(logging.DEBUG)
    engine = engine_for(sqlite_url)
    do_import(sqlite_url, period)
    node = node_for(engine, canvas, verify_before_minutes=24 * 60, max_attempts=2)
    node.lead_once()
    run_until_idle(node)
    with api(canvas) as client:  # drift, so alerts and repairs run too
        a = assignment(client, 101, "E1")
        client.delete(f"/courses/101/assignments/{a['id']}/overrides/{a['overrides'][0]['id']}")
    with Session(engine) as session, session.begin():
        queue.enqueue(session, kind=kinds.VERIFY_EXAM, args={"exam_id": "E1"}, dedupe_key="v:grep",
                      enqueued_by="test")
    canvas.faults.fail_next(3, "GET", r"/courses/102/", status=500)  # failures and retries too
    with Session(engine) as session, session.begin():
        queue.enqueue(session, kind=kinds.RECONCILE_COURSE, args={"course": "canvas:102"}, dedupe_key="r:grep",
                      enqueued_by="test")
    run_until_idle(node)
    assert any(r.name.startswith("lms_bridge") for r in caplog.records)

    logged = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records)
    with Session(engine) as session:
        stored = [f"{i.args} {i.result} {i.error}" for i in session.scalars(select(WorkItemRow))]
        stored += [a.message for a in session.scalars(select(AlertRow))]
        stored += [f"{s.message}" for s in session.scalars(select(ExamStatusRow))]
    for text in (logged, "\n".join(stored)):
        for word in PLAN_WORDS:
            assert word not in text.lower(), word
        assert not PLAN_NUMBERS.search(text), PLAN_NUMBERS.search(text)
    assert states(engine)["E1"] in ("verified", "applied")
