"""sync.desired with an applied incident's extension: the affected candidates' due, close and
time limit move later; the exam's own window moves when a candidate without a plan was
sitting; a practice run does not move. Pure."""

from __future__ import annotations

from datetime import timedelta

from lms_bridge.sync.desired import Extension, course_targets
from tests.sync.builders import at, exam, period, plan, policy, ref, roster, uid

QMU = "qmu"


def target(report, exam_id):  # noqa: ANN001, ANN201
    (t,) = [e for c in report.targets for e in c.exams if e.exam_id == exam_id]
    return t


def ext(exam_id: str, start: str, minutes: int, *students: str) -> Extension:
    return Extension(exam_id, at(start), minutes, "qmu.incident", frozenset(students))


def test_without_extensions_nothing_changes():
    e = exam("Q", "2026-12-01 09:30", 120, "quiz")
    per = period([e], [plan("s1", 25, 10)])
    rosters = {ref("canvas:1"): roster("s0", "s1")}
    assert course_targets(policy(QMU), per, rosters) == course_targets(policy(QMU), per, rosters, extensions=())


def test_everyone_affected_moves_the_standard_window_and_keeps_plan_differences():
    e = exam("Q", "2026-12-01 09:30", 120, "quiz")
    per = period([e], [plan("s1", 25, 10)])
    rosters = {ref("canvas:1"): roster("s0", "s1")}
    before = target(course_targets(policy(QMU), per, rosters), "Q").assessment
    after = target(course_targets(policy(QMU), per, rosters,
                                  extensions=[ext("Q", "2026-12-01 10:00", 25, "s0", "s1")]), "Q").assessment
    delay = timedelta(minutes=25)
    assert after.dates.opens_at == before.dates.opens_at
    assert after.dates.due_at == before.dates.due_at + delay
    assert after.dates.closes_at == before.dates.closes_at + delay
    assert after.time_limit_minutes == before.time_limit_minutes + 25
    assert after.extra_minutes == before.extra_minutes  # s1's extra time on top of the new limit is the same
    (o_before,), (o_after,) = before.overrides, after.overrides
    assert o_after.lms_user_ids == o_before.lms_user_ids == {uid("s1")}
    assert o_after.dates.due_at == o_before.dates.due_at + delay
    assert o_after.dates.closes_at == o_before.dates.closes_at + delay
    assert "qmu.incident" in o_after.rules


def test_a_disruption_after_the_standard_close_moves_only_the_listed_plan_holders():
    e = exam("D", "2026-12-01 09:30", 60)  # a drop-box: standard close 10:30
    per = period([e], [plan("s1", 100)])  # s1 closes 11:30
    rosters = {ref("canvas:1"): roster("s0", "s1")}
    before = target(course_targets(policy(QMU), per, rosters), "D").assessment
    after = target(course_targets(policy(QMU), per, rosters,
                                  extensions=[ext("D", "2026-12-01 10:45", 20, "s1")]), "D").assessment
    assert after.dates == before.dates  # nobody without a plan was sitting at 10:45
    (o,) = after.overrides
    assert o.lms_user_ids == {uid("s1")}
    assert o.dates.closes_at == before.overrides[0].dates.closes_at + timedelta(minutes=20)


def test_a_student_the_incident_left_out_keeps_the_old_window_and_never_gets_negative_extra_time():
    e = exam("Q", "2026-12-01 09:30", 60, "quiz")
    per = period([e])
    rosters = {ref("canvas:1"): roster("s0", "late")}  # "late" enrolled after the incident
    a = target(course_targets(policy(QMU), per, rosters,
                              extensions=[ext("Q", "2026-12-01 09:45", 15, "s0")]), "Q").assessment
    assert a.time_limit_minutes == 75
    assert a.extra_minutes == {}
    (o,) = a.overrides
    assert o.lms_user_ids == {uid("late")} and o.dates.closes_at == at("2026-12-01 10:30")


def test_two_incidents_add_up_and_other_exams_are_untouched():
    e, other = exam("D", "2026-12-01 09:30", 120), exam("X", "2026-12-01 09:30", 120, title="Other")
    per = period([e, other])
    rosters = {ref("canvas:1"): roster("s0")}
    report = course_targets(policy(QMU), per, rosters, extensions=[
        ext("D", "2026-12-01 10:00", 10, "s0"), ext("D", "2026-12-01 11:00", 15, "s0")])
    assert target(report, "D").assessment.dates.closes_at == at("2026-12-01 11:55")
    assert target(report, "X").assessment.dates.closes_at == at("2026-12-01 11:30")


def test_the_exam_page_shows_the_new_due_time_and_the_practice_run_is_not_moved():
    from lms_bridge.domain.model import ExamSetup

    e = exam("Q", "2026-12-01 09:30", 60, "quiz", setup=ExamSetup(practice_days_before=2))
    per = period([e])
    rosters = {ref("canvas:1"): roster("s0")}
    before = target(course_targets(policy(QMU), per, rosters), "Q")
    after = target(course_targets(policy(QMU), per, rosters, extensions=[ext("Q", "2026-12-01 09:40", 30, "s0")]), "Q")
    assert after.practice == before.practice
    assert after.area.page_html != before.area.page_html
