"""course_targets: what every course should hold, from the timetable, the plans and the rosters."""

from __future__ import annotations

import hashlib

import re
from datetime import timedelta

import pytest

from lms_bridge.domain.model import ExamSetup
from lms_bridge.lms import Student
from lms_bridge.sync import naming
from lms_bridge.sync.desired import Paper, course_targets
from lms_bridge.sync.pages import INTEGRITY_STATEMENT
from tests.sync.builders import exam, period, plan, policy, ref, roster, uid, wall

NOTT = "nottingham"


def only_target(report, course="canvas:1"):
    (target,) = [t for t in report.targets if str(t.course) == course]
    return target


def exam_target(report, exam_id, course="canvas:1"):
    (found,) = [e for e in only_target(report, course).exams if e.exam_id == exam_id]
    return found


def overrides_by_due(assessment):
    return {wall(o.dates.due_at): sorted(o.lms_user_ids) for o in assessment.overrides}


# -- the standard window ------------------------------------------------------------------------


def test_dropbox_carries_the_standard_window_nottingham_1h_0900_due_1030():
    e = exam("E1", "2026-05-18 09:00", 60)
    report = course_targets(policy(NOTT), period([e]), {ref("canvas:1"): roster("s0")})
    a = exam_target(report, "E1").assessment
    assert wall(a.dates.opens_at) == "2026-05-18 09:00 BST"
    assert wall(a.dates.due_at) == "2026-05-18 10:30 BST"  # nottingham.upload: 60 + 30
    assert a.dates.closes_at == a.dates.due_at  # late_minutes = 0
    assert a.time_limit_minutes is None  # a drop-box has no time limit
    assert a.name == naming.assessment_name(e.title, "E1")
    assert a.overrides == ()
    assert a.extra_minutes == {}


def test_quiz_standard_time_limit_and_window_nottingham_2h():
    e = exam("Q2", "2026-05-18 09:00", 120, "quiz")
    a = exam_target(course_targets(policy(NOTT), period([e]), {ref("canvas:1"): roster("s0")}), "Q2").assessment
    assert a.time_limit_minutes == 120
    assert wall(a.dates.due_at) == "2026-05-18 11:30 BST"  # window A + U = 150


def test_qmu_quiz_with_reading_time_matches_the_policy_example():
    # POLICY.md: quiz, D = 120, R = 5, p = 25, b = 10 -> time limit 177, due 2 h 57 after the start
    e = exam("Q", "2026-12-01 09:30", 120, "quiz", reading=5)
    report = course_targets(policy("qmu"), period([e], [plan("s1", 25, 10)]), {ref("canvas:1"): roster("s0", "s1")})
    a = exam_target(report, "Q").assessment
    assert a.time_limit_minutes == 125
    assert a.extra_minutes == {uid("s1"): 177 - 125}
    (o,) = a.overrides
    assert o.dates.due_at - e.start == timedelta(minutes=177)
    assert o.lms_user_ids == {uid("s1")}


# -- overrides --------------------------------------------------------------------------------


def test_students_with_identical_windows_share_one_override_and_others_get_none():
    e = exam("E1", "2026-05-18 09:00", 60)
    per = period([e], [plan("s1", 50), plan("s2", 50)])
    report = course_targets(policy(NOTT), per, {ref("canvas:1"): roster("s0", "s1", "s2", "s3")})
    a = exam_target(report, "E1").assessment
    (o,) = a.overrides
    assert o.lms_user_ids == {uid("s1"), uid("s2")}
    assert wall(o.dates.due_at) == "2026-05-18 11:15 BST"  # 90 + 45 = 2 h 15
    assert o.dates.opens_at == a.dates.opens_at  # everyone starts with the cohort
    assert "nottingham.extra_time" in o.rules
    everyone_in_overrides = set().union(*(x.lms_user_ids for x in a.overrides))
    assert uid("s0") not in everyone_in_overrides and uid("s3") not in everyone_in_overrides


def test_different_windows_get_different_overrides_and_no_student_is_in_two():
    e = exam("E1", "2026-05-18 09:00", 60)
    per = period([e], [plan("s1", 50), plan("s2", 100), plan("s3", 50)])
    report = course_targets(policy(NOTT), per, {ref("canvas:1"): roster("s0", "s1", "s2", "s3")})
    a = exam_target(report, "E1").assessment
    assert overrides_by_due(a) == {
        "2026-05-18 11:15 BST": [uid("s1"), uid("s3")],
        "2026-05-18 12:00 BST": [uid("s2")],  # 120 + 60
    }
    members = [u for o in a.overrides for u in o.lms_user_ids]
    assert len(members) == len(set(members))


def test_a_plan_with_no_effect_under_the_policy_gets_no_override():
    # nottingham ignores rest breaks: a breaks-only plan leaves the standard window
    e = exam("E1", "2026-05-18 09:00", 60, "quiz")
    report = course_targets(policy(NOTT), period([e], [plan("s1", 0, 10)]), {ref("canvas:1"): roster("s1")})
    a = exam_target(report, "E1").assessment
    assert a.overrides == ()
    assert a.extra_minutes == {}


def test_quiz_extra_minutes_are_the_difference_and_always_come_with_an_override():
    e = exam("Q1", "2026-05-18 09:00", 60, "quiz")
    per = period([e], [plan("s1", 50), plan("s2", 100), plan("s3", "37.5")])
    report = course_targets(policy(NOTT), per, {ref("canvas:1"): roster("s0", "s1", "s2", "s3")})
    a = exam_target(report, "Q1").assessment
    assert a.time_limit_minutes == 60
    assert a.extra_minutes == {uid("s1"): 30, uid("s2"): 60, uid("s3"): 23}  # ceil(82.5) = 83
    in_override = {u: o for o in a.overrides for u in o.lms_user_ids}
    for user, extra in a.extra_minutes.items():
        # extra time alone never moves the close: the override must close late enough
        o = in_override[user]
        assert o.dates.closes_at >= a.dates.opens_at + timedelta(minutes=a.time_limit_minutes + extra)
        assert o.dates.closes_at > a.dates.closes_at
    assert uid("s0") not in a.extra_minutes


def test_24_hour_exams_get_no_extra_minutes_even_as_quizzes():
    e = exam("Q24", "2026-05-18 09:00", 1440, "quiz")
    per = period([e], [plan("s1", 50)])
    a = exam_target(course_targets(policy(NOTT), per, {ref("canvas:1"): roster("s0", "s1")}), "Q24").assessment
    assert a.time_limit_minutes is None
    assert a.extra_minutes == {}
    (o,) = a.overrides  # the plan still moves the deadline: +5 working hours
    assert wall(a.dates.due_at) == "2026-05-19 09:00 BST"
    assert wall(o.dates.due_at) == "2026-05-19 14:00 BST"


# -- windows are period-wide -------------------------------------------------------------------


def test_clash_rule_looks_across_courses():
    # s1 sits a 24-hour exam in course 1 and a short exam in course 2 on the day it falls due
    a24 = exam("A24", "2026-05-13 09:00", 1440, course="canvas:1")
    b1 = exam("B1", "2026-05-14 09:00", 60, course="canvas:2")
    per = period([a24, b1], [plan("s1", 50), plan("s2", 50)])
    rosters = {ref("canvas:1"): roster("s1", "s2"), ref("canvas:2"): roster("s1")}
    report = course_targets(policy(NOTT), per, rosters)
    a = exam_target(report, "A24").assessment
    assert wall(a.dates.due_at) == "2026-05-14 09:00 BST"
    assert overrides_by_due(a) == {
        "2026-05-14 14:00 BST": [uid("s2")],  # plan-extended only
        "2026-05-15 14:00 BST": [uid("s1")],  # nottingham.clash: next exam day, same time
    }
    clash = next(o for o in a.overrides if uid("s1") in o.lms_user_ids)
    assert "nottingham.clash" in clash.rules
    # the short exam is unaffected by the clash
    (b_override,) = exam_target(report, "B1", "canvas:2").assessment.overrides
    assert wall(b_override.dates.due_at) == "2026-05-14 11:15 BST"


def test_clash_with_an_exam_that_has_no_lms_course():
    a24 = exam("A24", "2026-05-13 09:00", 1440, course="canvas:1")
    paper = exam("P1", "2026-05-14 09:00", 60, course=None)
    per = period([a24, paper], [plan("s1", 50)], [("A24", "s1"), ("P1", "s1")])
    report = course_targets(policy(NOTT), per, {ref("canvas:1"): roster("s1")})
    (o,) = exam_target(report, "A24").assessment.overrides
    assert wall(o.dates.due_at) == "2026-05-15 14:00 BST"


# -- what the targets cannot cover ------------------------------------------------------------


def test_report_counts_students_without_id_lists_unenrolled_plans_and_courseless_exams():
    e1 = exam("E1", "2026-05-18 09:00", 60, course="canvas:1")
    e2 = exam("E2", "2026-05-18 13:30", 60, course="canvas:2")
    e3 = exam("E3", "2026-05-19 09:00", 60, course=None)
    per = period([e1, e2, e3], [plan("s1", 50), plan("s7", 25), plan("s8", 100)])
    rosters = {
        ref("canvas:1"): roster("s1", extra=[Student(None, "u-guest1"), Student(None, "u-guest2")]),
        ref("canvas:2"): roster("s2", extra=[Student("", "u-blank")]),
    }
    report = course_targets(policy(NOTT), per, rosters)
    assert report.students_without_id == {"canvas:1": 2, "canvas:2": 1}
    assert report.plans_not_enrolled == ("s7", "s8")
    assert all(isinstance(s, str) for s in report.plans_not_enrolled)  # ids only, no plan data
    assert report.exams_without_course == ("E3",)
    # students without an id sit the exam with the standard window: in no override
    a = exam_target(report, "E1").assessment
    assert {u for o in a.overrides for u in o.lms_user_ids} == {uid("s1")}


def test_only_courses_with_a_roster_get_targets():
    e1 = exam("E1", "2026-05-18 09:00", 60, course="canvas:1")
    e2 = exam("E2", "2026-05-18 09:00", 60, course="canvas:2")
    report = course_targets(policy(NOTT), period([e1, e2]), {ref("canvas:1"): roster("s1")})
    assert [str(t.course) for t in report.targets] == ["canvas:1"]


def test_exams_of_a_course_are_ordered_by_start():
    late = exam("Z", "2026-05-18 09:00", 60)
    early = exam("A", "2026-05-19 09:00", 60)
    same_time = exam("M", "2026-05-18 09:00", 60)
    target = only_target(course_targets(policy(NOTT), period([early, late, same_time]), {ref("canvas:1"): roster("s1")}))
    assert [e.exam_id for e in target.exams] == ["M", "Z", "A"]


# -- the practice exam ------------------------------------------------------------------------


def test_practice_exam_is_n_days_earlier_at_the_same_wall_clock_time_with_the_same_overrides():
    setup = ExamSetup(practice_days_before=3)
    e = exam("Q1", "2026-05-18 09:00", 60, "quiz", setup=setup)
    per = period([e], [plan("s1", 50), plan("s2", 100)])
    target = exam_target(course_targets(policy(NOTT), per, {ref("canvas:1"): roster("s0", "s1", "s2")}), "Q1")
    real, practice = target.assessment, target.practice
    assert practice is not None
    assert practice.name == naming.practice_name(e.title, "Q1")
    assert naming.is_practice(practice.name) and not naming.is_practice(real.name)
    assert wall(practice.dates.opens_at) == "2026-05-15 09:00 BST"
    assert wall(practice.dates.due_at) == "2026-05-15 10:30 BST"
    assert practice.time_limit_minutes == real.time_limit_minutes
    assert practice.extra_minutes == real.extra_minutes
    assert [(wall(o.dates.due_at), o.lms_user_ids) for o in practice.overrides] == [
        ("2026-05-15 11:15 BST", frozenset({uid("s1")})),
        ("2026-05-15 12:00 BST", frozenset({uid("s2")})),
    ]
    assert [o.rules for o in practice.overrides] == [o.rules for o in real.overrides]


def test_no_practice_without_practice_days():
    e = exam("Q1", "2026-05-18 09:00", 60, "quiz")
    target = exam_target(course_targets(policy(NOTT), period([e]), {ref("canvas:1"): roster("s0")}), "Q1")
    assert target.practice is None


def test_practice_window_is_never_shorter_than_the_exam_window_across_a_clock_change():
    # qmu 24-hour exam Mon 30 Mar 2026 09:00 BST, due Tue 09:00 BST (24 h). Its practice two
    # days earlier runs Sat 28 Mar 09:00 GMT -> Sun 29 Mar 09:00 BST: 23 hours.
    e = exam("P24", "2026-03-30 09:00", 1440, setup=ExamSetup(practice_days_before=2))
    target = exam_target(course_targets(policy("qmu"), period([e]), {ref("canvas:1"): roster("s0")}), "P24")
    real, practice = target.assessment.dates, target.practice.dates
    assert practice.due_at - practice.opens_at >= real.due_at - real.opens_at


# -- the exam area ---------------------------------------------------------------------------


SETUP = ExamSetup(
    module_code="CHEM2041",
    division="School of Chemistry",
    programmes="BSc Chemistry",
    level="Level 2",
    session="2025-26",
    instructions="Answer three questions from Section A",
    paper_setter="Dr Ada Lovelace",
)


def test_exam_page_has_title_rubric_and_integrity_statement_and_no_plan_data():
    e = exam("E1", "2026-05-18 09:00", 120, "quiz", title="CHEM2041 Organic Chemistry II", setup=SETUP)
    per = period([e], [plan("s1", "37.5", 13), plan("s2", 100)])
    target = exam_target(course_targets(policy(NOTT), per, {ref("canvas:1"): roster("s1", "s2", "s3")}), "E1")
    html = target.area.page_html
    assert "CHEM2041 Organic Chemistry II" in html
    for value in ("CHEM2041", "School of Chemistry", "BSc Chemistry", "Level 2", "2025-26",
                  "Answer three questions from Section A", "Dr Ada Lovelace", "120 minutes"):
        assert value in html, value
    assert INTEGRITY_STATEMENT in html
    assert "Monday 18 May 2026, 09:00 BST" in html
    assert "Monday 18 May 2026, 11:30 BST" in html  # the standard deadline, not anyone's own
    # nothing about any student
    assert "%" not in html
    assert not re.search(r"37\.5|75/2|\b13\b|\b100\b", html)
    for sid in ("s1", "s2", "s3"):
        assert uid(sid) not in html
        assert not re.search(rf"\b{sid}\b", html)
    for o in target.assessment.overrides:
        assert wall(o.dates.due_at)[11:16] not in html  # no personal deadline either
    assert target.area.page_title == naming.page_title(e.title, "E1")
    assert target.area.module_name == naming.module_name(e.title, "E1")
    assert target.area.release_at == e.start


def test_paper_is_named_with_the_tag_and_locked_until_release():
    e = exam("E1", "2026-05-18 09:00", 60, title="Maths: Paper/1")
    report = course_targets(policy(NOTT), period([e]), {ref("canvas:1"): roster("s0")}, {"E1": Paper(".pdf", b"%PDF-1")})
    area = exam_target(report, "E1").area
    assert area.paper == b"%PDF-1"
    # a short digest of the content: a corrected paper gets a new name, which a re-read notices
    assert area.paper_name == f"Maths_ Paper_1 [E1] paper {hashlib.sha256(b'%PDF-1').hexdigest()[:8]}.pdf"
    assert area.release_at == e.start
    without = exam_target(course_targets(policy(NOTT), period([e]), {ref("canvas:1"): roster("s0")}), "E1").area
    assert without.paper is None and without.paper_name is None


def test_assessment_carries_the_setup_and_instructions_name_no_student():
    e = exam("E1", "2026-05-18 09:00", 60, "quiz", setup=SETUP)
    a = exam_target(course_targets(policy(NOTT), period([e], [plan("s1", 50)]), {ref("canvas:1"): roster("s1")}), "E1").assessment
    assert a.setup == SETUP
    assert e.title in a.instructions_html
    assert uid("s1") not in a.instructions_html and "50" not in a.instructions_html


def test_override_rules_are_rule_ids_only():
    e = exam("E1", "2026-05-18 09:00", 60, "quiz")
    per = period([e], [plan("s1", "37.5"), plan("s2", 13)])
    a = exam_target(course_targets(policy(NOTT), per, {ref("canvas:1"): roster("s1", "s2")}), "E1").assessment
    for o in a.overrides:
        for rule in o.rules:
            assert re.fullmatch(r"[a-z_]+\.[a-z0-9_]+", rule), rule
