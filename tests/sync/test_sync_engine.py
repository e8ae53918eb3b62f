"""plan_sync + apply_sync against the fake LMS: convergence, idempotence, isolation of failing
courses, crash recovery, the audit trail, and no support-plan data in anything recorded."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace

import pytest

from lms_bridge.domain.model import ExamSetup
from lms_bridge.lms import CourseTarget
from lms_bridge.sync.desired import Paper
from lms_bridge.sync.engine import apply_sync
from lms_bridge.sync.operations import Action
from tests.sync.builders import (
    RecordingAudit,
    exam,
    period,
    plan,
    plan_now,
    policy,
    ref,
    roster,
    run,
    sync_once,
    uid,
    wall,
)
from tests.sync.fake_lms import FakeLms

NOTT = policy("nottingham")
C1, C2, C3 = ref("canvas:1"), ref("canvas:2"), ref("canvas:3")
M1 = ref("moodle:7")


def two_course_setup(**fake_kw):
    """canvas:1 holds a quiz with a paper and a practice, canvas:2 a drop-box; s1 and s2 in both."""
    q = exam("Q1", "2026-05-18 09:00", 60, "quiz", course="canvas:1", setup=ExamSetup(practice_days_before=2))
    d = exam("D2", "2026-05-19 13:30", 120, "dropbox", course="canvas:2")
    per = period([q, d], [plan("s1", 50), plan("s2", 100)])
    fake = FakeLms("canvas", **fake_kw)
    fake.add_course(C1, roster("s0", "s1", "s2"))
    fake.add_course(C2, roster("s1", "s2", "s3"))
    return per, fake, {"Q1": Paper(".pdf", b"%PDF-1.7")}


def by_course(sync_plan):
    return {str(c.course): c for c in sync_plan.courses}


# -- convergence and idempotence --------------------------------------------------------------


def test_apply_converges_and_a_second_run_writes_nothing():
    per, fake, papers = two_course_setup()
    first = sync_once(NOTT, per, {"canvas": fake}, papers)
    assert not any(c.failed for c in first.courses)
    assert all(c.applied == len(c.operations) > 0 for c in first.courses)
    writes = fake.write_count
    assert writes == len(first.operations)

    again = plan_now(NOTT, per, {"canvas": fake}, papers)
    assert again.operations == []
    run(apply_sync(again, {"canvas": fake}))
    assert fake.write_count == writes  # the second apply makes zero writes
    assert fake.reads["course"] == 4  # but it did read every course back

    # what the LMS now holds is every student's window
    assert wall(fake.effective_dates(C1, "Q1", uid("s1")).due_at) == "2026-05-18 11:15 BST"
    assert fake.effective_time_limit(C1, "Q1", uid("s1")) == 90
    assert fake.effective_time_limit(C1, "Q1", uid("s0")) == 60
    assert wall(fake.effective_dates(C1, "Q1", uid("s2"), "practice").due_at) == "2026-05-16 12:00 BST"
    assert wall(fake.effective_dates(C2, "D2", uid("s3")).due_at) == "2026-05-19 16:00 BST"
    assert wall(fake.effective_dates(C2, "D2", uid("s2")).due_at) == "2026-05-19 18:30 BST"
    for course, exam_id, practice in ((C1, "Q1", 1), (C2, "D2", 0)):
        paper = 1 if exam_id == "Q1" else 0
        assert fake.tagged(course, exam_id) == {"module": 1, "page": 1, "paper": paper, "assessment": 1, "practice": practice}


def test_drift_is_detected_and_repaired_by_the_next_run():
    per, fake, papers = two_course_setup()
    sync_once(NOTT, per, {"canvas": fake}, papers)
    fake.set_due(C2, "D2", fake.assessment(C2, "D2").dates.due_at.replace(hour=20))
    fake.delete_override(C1, "Q1", uid("s2"))
    fake.unpublish_module(C1, "Q1")
    fake.remove_extra_time(C1, "Q1", uid("s1"))
    drift = plan_now(NOTT, per, {"canvas": fake}, papers)
    assert sorted((str(c.course), op.action.name) for c in drift.courses for op in c.operations) == [
        ("canvas:1", "SET_EXTRA_TIME"),
        ("canvas:1", "SET_OVERRIDES"),
        ("canvas:1", "UPDATE_MODULE"),
        ("canvas:2", "UPDATE_ASSESSMENT"),
    ]
    run(apply_sync(drift, {"canvas": fake}))
    assert plan_now(NOTT, per, {"canvas": fake}, papers).operations == []


def test_plan_change_since_last_apply_is_converged():
    per, fake, papers = two_course_setup()
    sync_once(NOTT, per, {"canvas": fake}, papers)
    changed = period(per.exams, [plan("s1", 50), plan("s3", 50)])  # s2 left, s3 joined
    sync_once(NOTT, changed, {"canvas": fake}, papers)
    assert plan_now(NOTT, changed, {"canvas": fake}, papers).operations == []
    assert uid("s2") not in fake.assessment(C1, "Q1").extra_minutes
    assert fake.effective_dates(C1, "Q1", uid("s2")) == fake.assessment(C1, "Q1").dates
    assert wall(fake.effective_dates(C2, "D2", uid("s3")).due_at) == "2026-05-19 17:15 BST"


def test_windows_are_period_wide_across_two_lms():
    # s1's 24-hour exam is in Canvas, their short exam the day it falls due in Moodle
    a24 = exam("A24", "2026-05-13 09:00", 1440, course="canvas:1")
    b1 = exam("B1", "2026-05-14 09:00", 60, "quiz", course="moodle:7")
    per = period([a24, b1], [plan("s1", 50), plan("s2", 50)])
    canvas, moodle = FakeLms("canvas"), FakeLms("moodle")
    canvas.add_course(C1, roster("s1", "s2"))
    moodle.add_course(M1, roster("s1"))
    adapters = {"canvas": canvas, "moodle": moodle}
    sync_once(NOTT, per, adapters)
    assert plan_now(NOTT, per, adapters).operations == []
    assert wall(canvas.effective_dates(C1, "A24", uid("s1")).due_at) == "2026-05-15 14:00 BST"  # nottingham.clash
    assert wall(canvas.effective_dates(C1, "A24", uid("s2")).due_at) == "2026-05-14 14:00 BST"
    assert moodle.effective_time_limit(M1, "B1", uid("s1")) == 90
    assert {w.course for w in canvas.writes} == {C1} and {w.course for w in moodle.writes} == {M1}


def test_progress_is_reported_for_every_operation():
    per, fake, papers = two_course_setup()
    planned = plan_now(NOTT, per, {"canvas": fake}, papers)
    seen = []
    run(apply_sync(planned, {"canvas": fake}, progress=lambda op, ok: seen.append((op.action, ok))))
    assert len(seen) == len(planned.operations) and all(ok for _, ok in seen)


def test_adjust_target_is_used_for_planning():
    # an LMS that rewrites page HTML on save never matches the raw target: the adapter's
    # adjust_target says what it will hold, and the course converges
    def sanitise(html: str) -> str:
        return html.replace(' scope="row"', "")

    per, fake, papers = two_course_setup(html_filter=sanitise)
    sync_once(NOTT, per, {"canvas": fake}, papers)
    assert plan_now(NOTT, per, {"canvas": fake}, papers).operations == []
    assert all(' scope="row"' not in p.html for p in fake.course(C1).pages)


def test_adjust_target_seen_by_the_planner_is_the_adjusted_one():
    seen: list[CourseTarget] = []

    def record(target: CourseTarget) -> CourseTarget:
        seen.append(target)
        return target

    per, fake, papers = two_course_setup(adjust=record)
    plan_now(NOTT, per, {"canvas": fake}, papers)
    assert sorted(str(t.course) for t in seen) == ["canvas:1", "canvas:2"]


# -- one course failing ----------------------------------------------------------------------


def test_roster_read_failure_is_reported_and_the_other_courses_go_on():
    per, fake, papers = two_course_setup()
    fake.fail_reads(C2, "roster")
    planned = plan_now(NOTT, per, {"canvas": fake}, papers)
    courses = by_course(planned)
    assert courses["canvas:2"].error == "canvas answered 503 reading canvas:2"
    assert courses["canvas:2"].operations == [] and courses["canvas:2"].failed
    assert courses["canvas:1"].error is None and courses["canvas:1"].operations
    run(apply_sync(planned, {"canvas": fake}))
    assert {w.course for w in fake.writes} == {C1}
    assert courses["canvas:1"].applied == len(courses["canvas:1"].operations)
    assert fake.course(C2).modules == []


def test_course_read_failure_is_reported_and_the_other_courses_go_on():
    per, fake, papers = two_course_setup()
    fake.fail_reads(C1, "course")
    planned = plan_now(NOTT, per, {"canvas": fake}, papers)
    courses = by_course(planned)
    assert courses["canvas:1"].error == "canvas answered 503 reading canvas:1"
    assert courses["canvas:2"].operations
    run(apply_sync(planned, {"canvas": fake}))
    assert {w.course for w in fake.writes} == {C2}


def test_course_that_does_not_exist_and_lms_without_adapter_are_reported():
    per, fake, papers = two_course_setup()
    lost = exam("X3", "2026-05-20 09:00", 60, course="canvas:3")  # not in the fake
    moodle = exam("M7", "2026-05-20 09:00", 60, course="moodle:7")  # no moodle adapter
    per = period(per.exams + (lost, moodle), per.plans.values())
    planned = run(apply_sync(plan_now(NOTT, per, {"canvas": fake}, papers), {"canvas": fake}))
    courses = by_course(planned)
    assert courses["canvas:3"].error == "canvas course 3 does not exist"
    assert courses["moodle:7"].error == "no moodle connection is configured"
    assert not courses["canvas:1"].failed and not courses["canvas:2"].failed
    assert courses["canvas:1"].applied and courses["canvas:2"].applied


def test_a_write_failing_stops_only_its_own_course():
    per, fake, papers = two_course_setup()
    fake.inject("fail", 3, course=C1)
    audit = RecordingAudit()
    planned = run(apply_sync(plan_now(NOTT, per, {"canvas": fake}, papers), {"canvas": fake}, audit))
    courses = by_course(planned)
    c1 = courses["canvas:1"]
    assert c1.applied == 2
    third = c1.operations[2]
    assert c1.failed_at == f"{third.action.value} {third.subject}: canvas refused {third.action.value} (injected)"
    assert courses["canvas:2"].applied == len(courses["canvas:2"].operations)
    failed = [e for e in audit.entries if str(e["action"]).endswith(".failed")]
    assert [e["entity_id"] for e in failed] == ["canvas:1/Q1"]
    # a rerun finishes the job
    sync_once(NOTT, per, {"canvas": fake}, papers)
    assert plan_now(NOTT, per, {"canvas": fake}, papers).operations == []


def test_adjust_target_failing_for_one_course_does_not_stop_the_others():
    def refuse_c2(target: CourseTarget) -> CourseTarget:
        if target.course == C2:
            raise ValueError("this LMS cannot hold a drop-box of this kind")
        return target

    per, fake, papers = two_course_setup(adjust=refuse_c2)
    planned = plan_now(NOTT, per, {"canvas": fake}, papers)
    courses = by_course(planned)
    assert courses["canvas:2"].error
    assert courses["canvas:1"].operations


def test_an_unreadable_course_does_not_change_windows_in_the_others():
    a24 = exam("A24", "2026-05-13 09:00", 1440, course="canvas:1")
    b1 = exam("B1", "2026-05-14 09:00", 60, course="canvas:2")
    per = period([a24, b1], [plan("s1", 50)])
    fake = FakeLms("canvas")
    fake.add_course(C1, roster("s1"))
    fake.add_course(C2, roster("s1"))
    sync_once(NOTT, per, {"canvas": fake})
    assert wall(fake.effective_dates(C1, "A24", uid("s1")).due_at) == "2026-05-15 14:00 BST"  # clash
    fake.fail_reads(C2, "roster")
    a = by_course(plan_now(NOTT, per, {"canvas": fake}))["canvas:1"]
    # right: leave A alone (or refuse to plan it), never move s1's deadline back to 14 May
    assert a.operations == [] or a.error


# -- crash mid-apply -----------------------------------------------------------------------------


def _writes_for_a_first_sync() -> int:
    per, fake, papers = two_course_setup()
    return len(by_course(plan_now(NOTT, per, {"canvas": fake}, papers))["canvas:1"].operations)


@pytest.mark.parametrize("nth", range(1, _writes_for_a_first_sync() + 1))
def test_crash_after_a_write_then_rerun_converges_without_duplicates(nth: int):
    per, fake, papers = two_course_setup()
    fake.inject("crash", nth, course=C1)
    audit = RecordingAudit()
    planned = plan_now(NOTT, per, {"canvas": fake}, papers)
    crashed_op = by_course(planned)["canvas:1"].operations[nth - 1]
    run(apply_sync(planned, {"canvas": fake}, audit))

    c1 = by_course(planned)["canvas:1"]
    assert c1.applied == nth - 1
    assert c1.failed_at is not None and c1.failed_at.startswith(crashed_op.action.value)
    assert [w.action for w in fake.writes if w.outcome == "crashed"] == [crashed_op.action]
    # an intent entry for every attempted write, and an outcome for each
    attempted = len(fake.writes)
    assert len(audit.actions(".requested")) == attempted
    assert len(audit.actions(".done")) == attempted - 1
    assert [e["entity_id"] for e in audit.entries if str(e["action"]).endswith(".failed")] == ["canvas:1/Q1"]
    assert f"canvas.{crashed_op.action.name.lower()}.failed" in audit.actions(".failed")

    # the next run re-reads, finishes the job and duplicates nothing
    rerun_audit = RecordingAudit()
    rerun = sync_once(NOTT, per, {"canvas": fake}, papers, rerun_audit)
    assert not any(c.failed for c in rerun.courses)
    # what the crashed write did is seen by the re-read: it is not done again
    redone = [(op.action, op.role) for op in rerun.operations]
    if crashed_op.action.name.startswith(("CREATE", "UPLOAD")):
        assert (crashed_op.action, crashed_op.role) not in redone
    assert (Action.CREATE_MODULE, "exam") not in redone
    assert plan_now(NOTT, per, {"canvas": fake}, papers).operations == []
    assert fake.tagged(C1, "Q1") == {"module": 1, "page": 1, "paper": 1, "assessment": 1, "practice": 1}
    assert len(fake.assessment(C1, "Q1").overrides) == 2
    assert len(fake.assessment(C1, "Q1", "practice").overrides) == 2
    assert len(fake.module(C1, "Q1").items) == 4


def test_failure_before_the_write_then_rerun_converges():
    per, fake, papers = two_course_setup()
    fake.inject("fail", 1, action=Action.SET_OVERRIDES)
    sync_once(NOTT, per, {"canvas": fake}, papers)
    assert fake.assessment(C1, "Q1").overrides == []
    sync_once(NOTT, per, {"canvas": fake}, papers)
    assert plan_now(NOTT, per, {"canvas": fake}, papers).operations == []


def test_reapplying_a_stale_plan_through_a_guarded_adapter_duplicates_nothing():
    # the port: "every write is idempotent or guarded by a read"; the engine applies what it is
    # given, so a retried job re-applying its plan relies on that
    per, fake, papers = two_course_setup(guarded=True)
    planned = plan_now(NOTT, per, {"canvas": fake}, papers)
    run(apply_sync(planned, {"canvas": fake}))
    again = run(apply_sync(planned, {"canvas": fake}))
    assert not any(c.failed_at for c in again.courses), [c.failed_at for c in again.courses]
    assert fake.tagged(C1, "Q1") == {"module": 1, "page": 1, "paper": 1, "assessment": 1, "practice": 1}
    assert plan_now(NOTT, per, {"canvas": fake}, papers).operations == []


def test_audit_entries_name_course_exam_and_action():
    per, fake, papers = two_course_setup()
    audit = RecordingAudit()
    planned = sync_once(NOTT, per, {"canvas": fake}, papers, audit)
    requested = [e for e in audit.entries if str(e["action"]).endswith(".requested")]
    assert len(requested) == len(planned.operations) == len(audit.actions(".done"))
    first = requested[0]
    assert first["action"] == "canvas.create_module.requested"
    assert first["entity"] == "exam" and first["entity_id"] in ("canvas:1/Q1", "canvas:2/D2")
    assert first["reason"] == "missing"
    # requested precedes done for every write of a course
    for course in ("canvas:1/Q1", "canvas:2/D2"):
        kinds = [str(e["action"]).rsplit(".", 1)[1] for e in audit.entries if e["entity_id"] == course]
        assert kinds == ["requested", "done"] * (len(kinds) // 2)


# -- no support-plan data anywhere recorded -------------------------------------------------------


LEAK = re.compile(r"37\.5|75/2|\b13\b|%")


def _rendered(sync_plan, audit, caplog) -> list[str]:
    texts = [json.dumps(e, default=str) for e in audit.entries]
    for c in sync_plan.courses:
        texts += [str(c.error), str(c.failed_at)]
        for op in c.operations:
            texts += [op.subject, *op.reasons, *(f"{ch.field} {ch.before} {ch.after}" for ch in op.changes)]
    texts += [r.getMessage() for r in caplog.records]
    return texts


@pytest.mark.parametrize("policy_name, start", [("nottingham", "2026-06-08 09:00"), ("qmu", "2026-12-02 09:30")])
def test_support_plan_numbers_never_reach_audit_subjects_or_reasons(policy_name, start, caplog):
    caplog.set_level(logging.DEBUG)
    pol = policy(policy_name)
    q = exam("Q1", start, 60, "quiz", course="canvas:1")
    d24 = exam("D24", start, 1440, "dropbox", course="canvas:1")
    # distinctive plan numbers: 37.5% extra time, 13 minutes/hour rest breaks
    per = period([q, d24], [plan("s1", "37.5"), plan("s2", 0, 13), plan("s3", "37.5", 13)])
    fake = FakeLms("canvas")
    fake.add_course(C1, roster("s0", "s1", "s2", "s3"))
    fake.inject("crash", 2, course=C1)  # early, so work remains for the rerun; the failure path is recorded too
    audit = RecordingAudit()
    runs = [sync_once(pol, per, {"canvas": fake}, audit=audit)]  # crashes part-way
    runs.append(sync_once(pol, per, {"canvas": fake}, audit=audit))  # finishes the job
    # drift: a student's override deleted and extra time removed by hand
    fake.delete_override(C1, "Q1", uid("s1"))
    fake.remove_extra_time(C1, "Q1", uid("s3"))
    runs.append(sync_once(pol, per, {"canvas": fake}, audit=audit))
    # s3 leaves the plans: membership removal and extra time set to 0 are recorded too
    fewer = period(per.exams, [plan("s1", "37.5"), plan("s2", 0, 13)])
    runs.append(sync_once(pol, fewer, {"canvas": fake}, audit=audit))
    assert plan_now(pol, fewer, {"canvas": fake}).operations == []
    assert [len(r.operations) > 0 for r in runs] == [True] * 4
    assert {op.action for r in runs[2:] for op in r.operations} >= {Action.SET_OVERRIDES, Action.SET_EXTRA_TIME}

    # the check is meaningful: the plans did reach the LMS
    extra = fake.assessment(C1, "Q1").extra_minutes
    assert extra[uid("s1")] == 23  # ceil(60 x 1.375) - 60
    if policy_name == "qmu":
        assert extra[uid("s2")] == 13  # (13/2) x ceil(60/30): the plan's own number
    assert audit.actions(".failed")

    if policy_name == "qmu":
        assert LEAK.search(json.dumps(extra))  # the detector would see the LMS-side number
    texts = [t for r in runs for t in _rendered(r, audit, caplog)]
    leaks = [t for t in texts if LEAK.search(t)]
    assert leaks == []
    for t in texts:
        for sid in ("s1", "s2", "s3"):
            assert uid(sid) not in t  # no student named either


# -- renamed exams -----------------------------------------------------------------------------


def test_title_change_renames_instead_of_duplicating():
    per, fake, papers = two_course_setup()
    sync_once(NOTT, per, {"canvas": fake}, papers)
    renamed = [replace(e, title="D2 Paper (resit)") if e.exam_id == "D2" else e for e in per.exams]
    per2 = period(renamed, per.plans.values())
    sync_once(NOTT, per2, {"canvas": fake}, papers)
    assert fake.tagged(C2, "D2") == {"module": 1, "page": 1, "paper": 0, "assessment": 1, "practice": 0}
    assert fake.assessment(C2, "D2").name == "D2 Paper (resit) [D2]"
