"""24-hour exams: due_24h (next_exam_day / plus_24_hours), nottingham.24h_plan,
qmu.no_ilp_24h, the default policy's working-hours plan, and nottingham.clash.

Calendar used (ENG, May 2026): Mon 18 .. Sat 23 May; Mon 25 May is the Spring Bank Holiday.
"""

from __future__ import annotations

from datetime import timedelta

import pytest


# -- standard deadline -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "due"),
    [
        ("2026-05-18 09:00", "2026-05-19 09:00 BST"),  # Mon -> Tue
        ("2026-05-22 09:00", "2026-05-23 09:00 BST"),  # Fri -> Sat: Saturday is an exam day
        ("2026-05-16 09:00", "2026-05-18 09:00 BST"),  # a Saturday release is due Monday
        ("2026-05-23 09:00", "2026-05-26 09:00 BST"),  # Sat -> Tue: Mon 25 May is a bank holiday
        ("2026-05-21 13:30", "2026-05-22 13:30 BST"),  # the start's wall-clock time
    ],
)
def test_nottingham_due_is_next_exam_day_same_time(kit, start, due):
    w = kit.window("nottingham", kit.exam(start=start, duration=1440, delivery="quiz"))
    assert kit.wall(w.due_at) == due
    assert w.closes_at == w.due_at
    assert w.time_limit_minutes is None
    assert w.rules == ("nottingham.due_24h",)


@pytest.mark.parametrize("policy", ["qmu", "default"])
@pytest.mark.parametrize(
    ("start", "due"),
    [
        ("2026-05-18 09:00", "2026-05-19 09:00 BST"),
        ("2026-05-22 09:00", "2026-05-23 09:00 BST"),  # Friday -> Saturday, not the next exam day
        ("2026-05-24 13:30", "2026-05-25 13:30 BST"),  # into a bank holiday: plus 24 hours ignores it
    ],
)
def test_plus_24_hours_is_same_time_next_calendar_day(kit, policy, start, due):
    w = kit.window(policy, kit.exam(start=start, duration=1440))
    assert kit.wall(w.due_at) == due
    assert kit.elapsed(w) == 1440
    assert w.rules == (f"{policy}.due_24h",)


# -- nottingham.24h_plan -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "p", "due"),
    [
        ("2026-05-21 09:00", 50, "2026-05-22 14:00 BST"),  # Friday 09:00 due -> 14:00 Friday
        ("2026-05-21 09:00", 100, "2026-05-23 11:00 BST"),  # 10 h: Fri 8 h + Sat 2 h
        ("2026-05-22 09:00", 100, "2026-05-26 11:00 BST"),  # Sat 8 h, skip Sun and bank holiday Mon
        ("2026-05-21 09:00", 25, "2026-05-22 11:30 BST"),  # 2.5 working hours
        ("2026-05-21 09:00", "33.3", "2026-05-22 12:20 BST"),  # ceil(199.8) = 200 minutes
        ("2026-05-21 16:30", 50, "2026-05-23 13:30 BST"),  # 30 min Fri, 4 h 30 Sat
        ("2026-05-18 07:00", 50, "2026-05-19 14:00 BST"),  # due 07:00: counting starts at 09:00
        ("2026-05-18 18:00", 50, "2026-05-20 14:00 BST"),  # due 18:00: counting starts next day 09:00
        ("2026-05-18 17:00", 50, "2026-05-20 14:00 BST"),  # 17:00 is outside working hours
        ("2026-05-18 09:00", 300, "2026-05-22 15:00 BST"),  # 30 h: Tue 8, Wed 8, Thu 8, Fri 6
    ],
)
def test_nottingham_plan_adds_p_over_ten_working_hours_from_the_due_time(kit, start, p, due):
    w = kit.window("nottingham", kit.exam(start=start, duration=1440), kit.plan("s1", p))
    assert kit.wall(w.due_at) == due
    assert w.time_limit_minutes is None
    assert w.rules == ("nottingham.due_24h", "nottingham.24h_plan")


def test_nottingham_rest_breaks_alone_do_not_extend_a_24h_exam(kit):
    w = kit.window("nottingham", kit.exam(start="2026-05-21 09:00", duration=1440), kit.plan("s1", 0, 10))
    assert kit.wall(w.due_at) == "2026-05-22 09:00 BST"
    assert w.rules == ("nottingham.due_24h",)


# -- qmu.no_ilp_24h ------------------------------------------------------------------------
@pytest.mark.parametrize("start", ["2026-05-18 09:00", "2026-05-22 13:30", "2026-05-23 10:00"])
def test_qmu_every_candidate_has_the_standard_24h_window(kit, start):
    exam = kit.exam(start=start, duration=1440, delivery="quiz")
    plans = [kit.plan("a"), kit.plan("b", 50), kit.plan("c", 100, 10), kit.plan("d", 0, 10), kit.plan("e", 300, 30)]
    ws = kit.by_key(kit.windows("qmu", [exam], plans))
    assert {w.due_at for w in ws.values()} == {kit.at(start) + timedelta(days=1)}
    assert {w.time_limit_minutes for w in ws.values()} == {None}
    assert ws["E1", "a"].rules == ("qmu.due_24h",)
    for student in "bcde":
        assert ws["E1", student].rules == ("qmu.due_24h", "qmu.no_ilp_24h")


# -- default: plus 24 hours, then working hours ------------------------------------------
@pytest.mark.parametrize(
    ("start", "p", "due"),
    [
        ("2026-05-18 09:00", 50, "2026-05-19 14:00 BST"),
        ("2026-05-18 09:00", 100, "2026-05-20 11:00 BST"),
        ("2026-05-21 09:00", 50, "2026-05-22 14:00 BST"),
        ("2026-05-22 09:00", 50, "2026-05-26 14:00 BST"),  # due Sat: Sat, Sun off, Mon bank holiday
        ("2026-05-20 16:30", 50, "2026-05-22 13:30 BST"),
    ],
)
def test_default_plan_is_working_hours_on_monday_to_friday(kit, start, p, due):
    w = kit.window("default", kit.exam(start=start, duration=1440), kit.plan("s1", p))
    assert kit.wall(w.due_at) == due
    assert w.rules == ("default.due_24h", "default.24h_plan")


def test_default_has_no_clash_rule(kit):
    exams = [kit.exam("L", "2026-05-18 09:00", 1440), kit.exam("S", "2026-05-19 09:00", 60)]
    ws = kit.by_key(kit.windows("default", exams, [kit.plan("s1", 50)]))
    assert kit.wall(ws["L", "s1"].due_at) == "2026-05-19 14:00 BST"
    assert "default.clash" not in ws["L", "s1"].rules


# -- nottingham.clash ----------------------------------------------------------------------
THU, FRI, SAT = "2026-05-21", "2026-05-22", "2026-05-23"


def test_clash_seed_001_example_friday_due_moves_to_saturday_14_00(kit):
    """4.7: normal deadline 09:00 Friday, 14:00 with the plan, multiple deadlines that day -> 14:00 Saturday."""
    exams = [kit.exam("L", f"{THU} 09:00", 1440), kit.exam("S", f"{FRI} 13:30", 120)]
    ws = kit.by_key(kit.windows("nottingham", exams, [kit.plan("s1", 50)]))
    assert kit.wall(ws["L", "s1"].due_at) == "2026-05-23 14:00 BST"
    assert ws["L", "s1"].closes_at == ws["L", "s1"].due_at
    assert ws["L", "s1"].rules == ("nottingham.due_24h", "nottingham.24h_plan", "nottingham.clash")
    assert kit.wall(ws["S", "s1"].due_at) == "2026-05-22 17:15 BST"  # the short exam is untouched
    assert "nottingham.clash" not in ws["S", "s1"].rules


def test_clash_with_another_24h_deadline_moves_both(kit):
    exams = [kit.exam("A", f"{THU} 09:00", 1440), kit.exam("B", f"{THU} 13:30", 1440)]
    ws = kit.by_key(kit.windows("nottingham", exams, [kit.plan("s1", 25)]))
    # plan-extended: A Fri 11:30, B Fri 16:00 -> both Friday -> both one exam day later
    assert kit.wall(ws["A", "s1"].due_at) == "2026-05-23 11:30 BST"
    assert kit.wall(ws["B", "s1"].due_at) == "2026-05-23 16:00 BST"
    assert all(w.rules[-1] == "nottingham.clash" for w in ws.values())


def test_clash_is_on_plan_extended_dates(kit):
    """Standard deadlines both Friday, but the plan pushes B into Saturday: no clash for either."""
    exams = [kit.exam("A", f"{THU} 09:00", 1440), kit.exam("B", f"{THU} 13:30", 1440)]
    ws = kit.by_key(kit.windows("nottingham", exams, [kit.plan("s1", 50)]))
    assert kit.wall(ws["A", "s1"].due_at) == "2026-05-22 14:00 BST"
    assert kit.wall(ws["B", "s1"].due_at) == "2026-05-23 10:30 BST"  # 3 h 30 Fri + 1 h 30 Sat
    assert not any("nottingham.clash" in w.rules for w in ws.values())


def test_no_cascade_a_saturday_clash_after_moving_does_not_move_again(kit):
    exams = [
        kit.exam("L1", f"{THU} 09:00", 1440),  # plan -> Fri 14:00, clashes with S -> Sat 14:00
        kit.exam("S", f"{FRI} 09:00", 60),
        kit.exam("L2", f"{FRI} 09:00", 1440),  # plan -> Sat 14:00: no clash on the plan-extended dates
    ]
    ws = kit.by_key(kit.windows("nottingham", exams, [kit.plan("s1", 50)]))
    assert kit.wall(ws["L1", "s1"].due_at) == "2026-05-23 14:00 BST"
    assert kit.wall(ws["L2", "s1"].due_at) == "2026-05-23 14:00 BST"
    assert ws["L1", "s1"].rules.count("nottingham.clash") == 1
    assert "nottingham.clash" not in ws["L2", "s1"].rules


def test_a_24h_exam_released_that_day_is_not_a_deadline(kit):
    exams = [kit.exam("L1", f"{THU} 09:00", 1440), kit.exam("L2", f"{FRI} 09:00", 1440)]
    ws = kit.by_key(kit.windows("nottingham", exams, [kit.plan("s1", 50)]))
    assert kit.wall(ws["L1", "s1"].due_at) == "2026-05-22 14:00 BST"
    assert kit.wall(ws["L2", "s1"].due_at) == "2026-05-23 14:00 BST"


def test_clash_with_a_short_exam_starting_later_that_day(kit):
    exams = [kit.exam("L", f"{THU} 09:00", 1440), kit.exam("S", f"{FRI} 16:30", 60)]
    ws = kit.by_key(kit.windows("nottingham", exams, [kit.plan("s1", 50)]))
    assert kit.wall(ws["L", "s1"].due_at) == "2026-05-23 14:00 BST"


def test_short_exam_on_another_day_is_no_clash(kit):
    exams = [kit.exam("L", f"{THU} 09:00", 1440), kit.exam("S", f"{THU} 13:30", 60)]
    ws = kit.by_key(kit.windows("nottingham", exams, [kit.plan("s1", 50)]))
    assert kit.wall(ws["L", "s1"].due_at) == "2026-05-22 14:00 BST"
    assert "nottingham.clash" not in ws["L", "s1"].rules


def test_saturday_clash_moves_to_the_next_exam_day_over_a_bank_holiday(kit):
    exams = [kit.exam("L", f"{FRI} 09:00", 1440), kit.exam("S", f"{SAT} 09:00", 60)]
    ws = kit.by_key(kit.windows("nottingham", exams, [kit.plan("s1", 50)]))
    assert kit.wall(ws["L", "s1"].due_at) == "2026-05-26 14:00 BST"  # Sun off, Mon 25 May holiday


@pytest.mark.parametrize("plan", [None, (0, 0), (0, 10)])
def test_students_without_extra_time_never_clash_move(kit, plan):
    exams = [kit.exam("A", f"{THU} 09:00", 1440), kit.exam("B", f"{THU} 13:30", 1440), kit.exam("S", f"{FRI} 09:00", 60)]
    plans = [] if plan is None else [kit.plan("s1", *plan)]
    sittings = [(e.exam_id, "s1") for e in exams]
    ws = kit.by_key(kit.windows("nottingham", exams, plans, sittings))
    assert kit.wall(ws["A", "s1"].due_at) == "2026-05-22 09:00 BST"
    assert kit.wall(ws["B", "s1"].due_at) == "2026-05-22 13:30 BST"
    assert not any("nottingham.clash" in w.rules for w in ws.values())


def test_clash_concerns_only_that_students_own_deadlines(kit):
    exams = [kit.exam("L", f"{THU} 09:00", 1440), kit.exam("S", f"{FRI} 09:00", 60)]
    plans = [kit.plan("s1", 50), kit.plan("s2", 50)]
    ws = kit.by_key(kit.windows("nottingham", exams, plans, [("L", "s1"), ("L", "s2"), ("S", "s2")]))
    assert kit.wall(ws["L", "s1"].due_at) == "2026-05-22 14:00 BST"  # s1 does not sit S
    assert kit.wall(ws["L", "s2"].due_at) == "2026-05-23 14:00 BST"


def test_more_extra_time_can_close_earlier_across_exams_under_the_clash_rule(kit):
    """An observation the policy implies (reported, not a bug): with a short exam on Friday,
    p = 50 lands on Friday 14:00 and clashes to Saturday 14:00, while p = 100 lands on
    Saturday 11:00 without a clash."""
    exams = [kit.exam("L", f"{THU} 09:00", 1440), kit.exam("S", f"{FRI} 09:00", 60)]
    ws = kit.by_key(kit.windows("nottingham", exams, [kit.plan("p50", 50), kit.plan("p100", 100)]))
    assert kit.wall(ws["L", "p50"].due_at) == "2026-05-23 14:00 BST"
    assert kit.wall(ws["L", "p100"].due_at) == "2026-05-23 11:00 BST"


def test_late_minutes_follow_a_clash_move(kit):
    policy = kit.variant("nottingham", late_minutes=10)
    exams = [kit.exam("L", f"{THU} 09:00", 1440), kit.exam("S", f"{FRI} 09:00", 60)]
    ws = kit.by_key(kit.windows(policy, exams, [kit.plan("s1", 50)]))
    w = ws["L", "s1"]
    assert kit.wall(w.due_at) == "2026-05-23 14:00 BST"
    assert kit.wall(w.closes_at) == "2026-05-23 14:10 BST"
    assert w.rules == ("nottingham.due_24h", "nottingham.24h_plan", "nottingham.clash", "nottingham.late")
