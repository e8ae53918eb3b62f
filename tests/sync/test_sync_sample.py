"""The nottingham sample period (config/samples/nottingham) synced into a fake Moodle."""

from __future__ import annotations

from collections import defaultdict

import pytest

from lms_bridge.domain.windows import compute_windows
from lms_bridge.inputs import read_period
from lms_bridge.lms import CourseRef, Student
from lms_bridge.policies import config_dir
from lms_bridge.sync.engine import apply_sync
from tests.sync.builders import RecordingAudit, plan_now, policy, run, sync_once, wall
from tests.sync.fake_lms import FakeLms

SAMPLE = config_dir() / "samples" / "nottingham"


@pytest.fixture(scope="module")
def sample():
    pol = policy("nottingham")
    per = read_period(pol, SAMPLE / "timetable.csv", SAMPLE / "plans.csv", SAMPLE / "candidates.csv")
    fake = FakeLms("moodle")
    # each course's roster is the candidates of its exams (Moodle user ids differ from SIS ids)
    rosters: dict[CourseRef, set[str]] = defaultdict(set)
    course_of = {e.exam_id: CourseRef.parse(e.course) for e in per.exams}
    for s in per.sittings:
        rosters[course_of[s.exam_id]].add(s.student_id)
    for course, students in rosters.items():
        fake.add_course(course, [Student(sid, f"m{sid}") for sid in sorted(students)])
    audit = RecordingAudit()
    applied = sync_once(pol, per, {"moodle": fake}, audit=audit)
    return pol, per, fake, applied, audit


def test_every_course_converges_and_replan_is_empty(sample):
    pol, per, fake, applied, audit = sample
    assert len(applied.courses) == len({e.course for e in per.exams}) == 32
    for c in applied.courses:
        assert not c.failed, (c.course, c.error, c.failed_at)
        assert c.applied == len(c.operations) > 0
    assert applied.report.students_without_id == {}
    assert applied.report.exams_without_course == ()
    writes = fake.write_count
    again = plan_now(pol, per, {"moodle": fake})
    assert again.operations == []
    run(apply_sync(again, {"moodle": fake}, audit))
    assert fake.write_count == writes
    assert len(audit.actions(".requested")) == len(audit.actions(".done")) == writes
    for e in per.exams:
        assert fake.tagged(e.course, e.exam_id) == {"module": 1, "page": 1, "paper": 0, "assessment": 1, "practice": 0}


def test_what_moodle_holds_is_every_candidates_window(sample):
    pol, per, fake, _, _ = sample
    by_id = {e.exam_id: e for e in per.exams}
    windows = compute_windows(pol, per.exams, per.plans, per.sittings)
    assert len(windows) == 2201
    for w in windows:
        course = by_id[w.exam_id].course
        dates = fake.effective_dates(course, w.exam_id, f"m{w.student_id}")
        assert (dates.opens_at, dates.due_at, dates.closes_at) == (w.opens_at, w.due_at, w.closes_at), w
        assert fake.effective_time_limit(course, w.exam_id, f"m{w.student_id}") == w.time_limit_minutes, w


def test_the_placed_cases_reach_moodle(sample):
    _, _, fake, _, _ = sample
    # config/samples/README.md: the clash moves ECON3075 for 20304514 to Fri 15 May 11:30
    assert wall(fake.effective_dates("moodle:133327", "ECON3075-MAY26", "m20304514").due_at) == "2026-05-15 11:30 BST"
    # 100% over the bank holiday: Tue 26 May 11:00
    assert wall(fake.effective_dates("moodle:159108", "PSYC1020-MAY26", "m20308193").due_at) == "2026-05-26 11:00 BST"
    clash = [o for c in fake.courses.values() for a in c.assessments for o in a.overrides]
    assert clash  # overrides were written at all


def test_no_student_is_in_two_overrides_of_one_assessment(sample):
    _, _, fake, _, _ = sample
    for c in fake.courses.values():
        for a in c.assessments:
            members = [u for o in a.overrides for u in o.users]
            assert len(members) == len(set(members)), a.name
            # extra time never alone: everyone with extra minutes has an override
            assert set(a.extra_minutes) <= set(members), a.name
