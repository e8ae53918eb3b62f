"""Incidents (POLICY.md "Incidents"): qmu.incident, nottingham.incident, default.incident,
driven through services.incident_for as the CLI drives them."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest

from lms_bridge import services
from lms_bridge.domain.incidents import IncidentError, decide_incident

START = "2026-05-18 09:00"


def incident(kit, policy, exam, plans, frm, to, students=None):
    students = students or [p.student_id for p in plans]
    period = kit.period([exam], plans, [(exam.exam_id, s) for s in students])
    before = {w.student_id: w for w in kit.windows(policy, [exam], plans, [(exam.exam_id, s) for s in students])}
    frm = kit.at(frm) if isinstance(frm, str) else frm
    to = kit.at(to) if isinstance(to, str) else to
    return services.incident_for(kit.policy(policy), period, exam.exam_id, frm, to), before


# -- standard window length ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("policy", "duration", "reading", "upload", "expected"),
    [
        ("nottingham", 120, None, None, 150),  # 2 h drop-box: W + U = 150
        ("nottingham", 60, None, None, 90),
        ("nottingham", 180, None, 0, 180),
        ("qmu", 120, 5, None, 125),
        ("qmu", 120, 5, 15, 140),
        ("default", 90, None, None, 90),
        ("default", 1440, None, None, 1440),
    ],
)
def test_standard_window_is_w_plus_u_without_a_plan(kit, policy, duration, reading, upload, expected):
    exam = kit.exam(start=START, duration=duration, reading=reading, upload=upload)
    assert kit.calculator(policy).standard_window_minutes(exam) == expected


# -- qmu -------------------------------------------------------------------------------------

@pytest.fixture
def qmu_exam(kit):
    return kit.exam(start=START, duration=120, delivery="quiz")  # standard window 120 min


@pytest.fixture
def qmu_plans(kit):
    return [kit.plan("s1"), kit.plan("s2", 25, 10)]  # s2: ceil(150) + 20 = 170 min


def test_qmu_early_short_disruption_extends_everyone(kit, qmu_exam, qmu_plans):
    d, before = incident(kit, "qmu", qmu_exam, qmu_plans, "2026-05-18 10:00", "2026-05-18 10:30")
    assert (d.decision, d.rule, d.disruption_minutes) == ("extend", "qmu.incident", 30)
    assert d.fraction == Fraction(1, 2)
    assert d.affected == ("s1", "s2")
    after = {w.student_id: w for w in d.windows}
    for s in ("s1", "s2"):
        assert after[s].opens_at == before[s].opens_at
        assert after[s].due_at == before[s].due_at + timedelta(minutes=30)
        assert after[s].closes_at == before[s].closes_at + timedelta(minutes=30)
        assert after[s].time_limit_minutes == before[s].time_limit_minutes + 30
        assert after[s].rules == (*before[s].rules, "qmu.incident")
    assert kit.wall(after["s1"].due_at) == "2026-05-18 11:30 BST"
    assert after["s2"].time_limit_minutes == 200


def test_qmu_exactly_two_thirds_in_still_extends(kit, qmu_exam, qmu_plans):
    d, _ = incident(kit, "qmu", qmu_exam, qmu_plans, "2026-05-18 10:20", "2026-05-18 10:40")  # 80/120
    assert d.fraction == Fraction(2, 3)
    assert d.decision == "extend"


def test_qmu_after_two_thirds_ends_and_leaves_windows(kit, qmu_exam, qmu_plans):
    d, before = incident(kit, "qmu", qmu_exam, qmu_plans, "2026-05-18 10:21", "2026-05-18 10:40")
    assert d.fraction == Fraction(81, 120)
    assert d.decision == "end"
    assert d.affected == ("s1", "s2")
    assert {w.student_id: w for w in d.windows} == before


@pytest.mark.parametrize(
    ("frm", "to", "decision"),
    [
        ("2026-05-18 09:30", "2026-05-18 10:31", "void"),  # 61 min
        ("2026-05-18 09:30", "2026-05-18 10:30", "extend"),  # exactly 60 min is not longer than 60
        ("2026-05-18 10:50", "2026-05-18 12:00", "void"),  # void wins even late in the exam
        ("2026-05-18 09:30", "2026-05-18 10:30:01", "void"),  # 60 min 1 s rounds up to 61
    ],
)
def test_qmu_longer_than_an_hour_voids(kit, qmu_exam, qmu_plans, frm, to, decision):
    d, before = incident(kit, "qmu", qmu_exam, qmu_plans, frm, to)
    assert d.decision == decision
    if decision == "void":
        assert {w.student_id: w for w in d.windows} == before
        assert d.affected == ("s1", "s2")


# -- nottingham ------------------------------------------------------------------------------
@pytest.fixture
def nott_exam(kit):
    return kit.exam(start=START, duration=120)  # 2 h drop-box: 150 min


@pytest.mark.parametrize(
    ("frm", "fraction", "decision"),
    [
        ("2026-05-18 09:00", Fraction(0), "reschedule"),
        ("2026-05-18 10:52", Fraction(112, 150), "reschedule"),
        ("2026-05-18 10:52:30", Fraction(3, 4), "abandon"),  # exactly 75 %
        ("2026-05-18 10:53", Fraction(113, 150), "abandon"),
        ("2026-05-18 11:20", Fraction(140, 150), "abandon"),
    ],
)
def test_nottingham_reschedule_before_three_quarters_else_abandon(kit, nott_exam, frm, fraction, decision):
    plans = [kit.plan("s1"), kit.plan("s2", 50)]
    to = kit.at(frm) + timedelta(minutes=5)
    d, before = incident(kit, "nottingham", nott_exam, plans, frm, to)
    assert d.fraction == fraction
    assert (d.decision, d.rule) == (decision, "nottingham.incident")
    assert {w.student_id: w for w in d.windows} == before  # nothing moves in the LMS
    assert d.affected == ("s1", "s2")


def test_nottingham_exactly_three_quarters_in_whole_minutes(kit):
    exam = kit.exam(start=START, duration=120, upload=40)  # W + U = 160: 75 % is 120 min
    d, _ = incident(kit, "nottingham", exam, [kit.plan("s1")], "2026-05-18 11:00", "2026-05-18 11:10")
    assert (d.fraction, d.decision) == (Fraction(3, 4), "abandon")
    d, _ = incident(kit, "nottingham", exam, [kit.plan("s1")], "2026-05-18 10:59", "2026-05-18 11:10")
    assert d.decision == "reschedule"


def test_abandoning_concerns_every_candidate_even_one_already_finished(kit, nott_exam):
    # "every candidate flagged": the sitting as a whole is abandoned, so s1, whose window
    # closed at 11:30, is listed with s2 for special consideration as a group (seed 000).
    plans = [kit.plan("s1"), kit.plan("s2", 50)]  # s1 due 11:30, s2 due 12:45
    d, before = incident(kit, "nottingham", nott_exam, plans, "2026-05-18 12:00", "2026-05-18 12:10")
    assert d.decision == "abandon"
    assert d.affected == ("s1", "s2")
    assert {w.student_id: w for w in d.windows} == before


# -- default ---------------------------------------------------------------------------------
@pytest.mark.parametrize("frm", ["2026-05-18 09:05", "2026-05-18 10:20", "2026-05-18 10:29"])
def test_default_always_extends_by_the_disruption_length(kit, frm):
    exam = kit.exam(start=START, duration=90, delivery="new_quiz")
    plans = [kit.plan("s1"), kit.plan("s2", 50, 10)]  # 90 and 135 + 15 = 150 min
    to = kit.at(frm) + timedelta(minutes=17)
    d, before = incident(kit, "default", exam, plans, frm, to)
    assert (d.decision, d.rule, d.disruption_minutes) == ("extend", "default.incident", 17)
    for w in d.windows:
        old = before[w.student_id]
        assert w.due_at - old.due_at == timedelta(minutes=17)
        assert w.closes_at - old.closes_at == timedelta(minutes=17)
        assert w.time_limit_minutes == old.time_limit_minutes + 17
        assert w.rules[-1] == "default.incident"


def test_default_extend_of_a_dropbox_keeps_a_null_time_limit_and_rounds_up(kit):
    exam = kit.exam(start=START, duration=60)
    frm = kit.at("2026-05-18 09:10")
    d, before = incident(kit, "default", exam, [kit.plan("s1")], frm, frm + timedelta(minutes=4, seconds=1))
    assert d.disruption_minutes == 5
    (w,) = d.windows
    assert w.time_limit_minutes is None
    assert w.due_at == before["s1"].due_at + timedelta(minutes=5)


def test_default_extends_only_candidates_still_sitting(kit):
    """Reading of POLICY.md "extend moves every candidate's due_at": every *affected* candidate;
    one whose window closed before the disruption is not reopened (to be confirmed)."""
    exam = kit.exam(start=START, duration=60)
    plans = [kit.plan("s1"), kit.plan("s2", 100)]  # s1 due 10:00, s2 due 11:00
    d, before = incident(kit, "default", exam, plans, "2026-05-18 10:15", "2026-05-18 10:30")
    assert d.affected == ("s2",)
    after = {w.student_id: w for w in d.windows}
    assert after["s1"] == before["s1"]
    assert kit.wall(after["s2"].due_at) == "2026-05-18 11:15 BST"


def test_incident_with_late_minutes_extends_close_too(kit):
    policy = kit.variant("default", late_minutes=10)
    exam = kit.exam(start=START, duration=60)
    windows = kit.windows(policy, [exam], [kit.plan("s1")])
    d = decide_incident(
        policy, exam, windows, Fraction(60), kit.at("2026-05-18 09:30"), kit.at("2026-05-18 09:45")
    )
    (w,) = d.windows
    assert kit.wall(w.due_at) == "2026-05-18 10:15 BST"
    assert kit.wall(w.closes_at) == "2026-05-18 10:25 BST"


# -- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("frm", "to", "message"),
    [
        ("2026-05-18 10:00", "2026-05-18 09:30", "end after it starts"),
        ("2026-05-18 10:00", "2026-05-18 10:00", "end after it starts"),
        ("2026-05-18 08:50", "2026-05-18 09:10", "before the exam opens"),
        ("2026-05-18 12:00", "2026-05-18 12:10", "after every candidate's window has closed"),
    ],
)
def test_incident_errors(kit, frm, to, message):
    exam = kit.exam(start=START, duration=60)
    with pytest.raises(IncidentError, match=message):
        incident(kit, "qmu", exam, [kit.plan("s1")], frm, to)


def test_incident_for_an_unknown_exam(kit):
    exam = kit.exam(start=START, duration=60)
    period = kit.period([exam], [kit.plan("s1")], [("E1", "s1")])
    with pytest.raises(IncidentError, match="'E9' is not in the timetable"):
        services.incident_for(kit.policy("qmu"), period, "E9", kit.at("2026-05-18 09:10"), kit.at("2026-05-18 09:20"))


def test_incident_for_an_exam_without_candidates(kit):
    exams = [kit.exam("E1", START, 60), kit.exam("E2", START, 60)]
    period = kit.period(exams, [kit.plan("s1")], [("E1", "s1")])
    with pytest.raises(IncidentError, match="no candidates"):
        services.incident_for(kit.policy("qmu"), period, "E2", kit.at("2026-05-18 09:10"), kit.at("2026-05-18 09:20"))
