"""Release staggering (POLICY.md "Release staggering") and the nottingham lint warnings."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms_bridge import services
from lms_bridge.domain.lint import lint_timetable
from lms_bridge.domain.staggering import plan_staggering

SLOT = "2026-05-18 09:00"


def stagger(kit, policy, sizes, extra=(), limit=None):
    """Exams E0.. of the given sizes at SLOT (plus `extra` (id, start, duration, size) exams)."""
    pol = kit.policy(policy) if isinstance(policy, str) else policy
    if limit is not None:
        pol = pol.model_copy(update={"staggering": pol.staggering.model_copy(update={"max_concurrent_starts": limit})})
    exams = [kit.exam(f"E{i}", SLOT, 60) for i in range(len(sizes))]
    counts = {f"E{i}": n for i, n in enumerate(sizes)}
    for exam_id, start, duration, n in extra:
        exams.append(kit.exam(exam_id, start, duration))
        counts[exam_id] = n
    return exams, counts, list(plan_staggering(pol, exams, counts).shifts)


def loads(exams, counts, shifts):
    moved = {s.exam_id: s.new_start for s in shifts}
    out = Counter()
    for e in exams:
        out[moved.get(e.exam_id, e.start)] += counts.get(e.exam_id, 0)
    return out


# -- staggering ------------------------------------------------------------------------------
def test_over_the_limit_the_biggest_exam_stays_and_the_other_moves_15_minutes(kit):
    exams, counts, shifts = stagger(kit, "nottingham", [1000, 800])
    (s,) = shifts
    assert (s.exam_id, s.shift_minutes, s.rule) == ("E1", 15, "nottingham.stagger")
    assert s.original_start == kit.at(SLOT)
    assert s.new_start == kit.at("2026-05-18 09:15")
    assert "1800 candidates" in s.reason and "1500" in s.reason and "15 minutes" in s.reason


@pytest.mark.parametrize("sizes", [[1000, 500], [1500], [700, 700, 100], [1], []])
def test_nothing_moves_within_the_limit(kit, sizes):
    assert stagger(kit, "nottingham", sizes)[2] == []


def test_no_limit_no_staggering(kit):
    policy = kit.variant("default", staggering={"max_concurrent_starts": None})
    assert stagger(kit, policy, [5000, 5000])[2] == []


def test_a_busy_quarter_past_sends_the_exam_to_half_past(kit):
    exams, counts, shifts = stagger(kit, "nottingham", [1000, 800], extra=[("Q", "2026-05-18 09:15", 60, 1000)])
    assert [(s.exam_id, s.shift_minutes) for s in shifts] == [("E1", 30)]
    assert s_new(shifts) == [kit.at("2026-05-18 09:30")]


def s_new(shifts):
    return [s.new_start for s in shifts]


def test_shifts_are_never_more_than_30_minutes(kit):
    exams, counts, shifts = stagger(kit, "nottingham", [1400, 1400, 1400, 1400, 1400])
    assert {s.shift_minutes for s in shifts} <= {15, 30}
    for s in shifts:
        assert s.new_start - s.original_start == timedelta(minutes=s.shift_minutes)
    assert "E0" not in {s.exam_id for s in shifts}


def test_24_hour_exams_are_never_moved(kit):
    exams, counts, shifts = stagger(kit, "nottingham", [100], extra=[("L", SLOT, 1440, 2000)])
    assert "L" not in {s.exam_id for s in shifts}
    assert [(s.exam_id, s.shift_minutes) for s in shifts] == [("E0", 15)]
    exams, counts, shifts = stagger(kit, "nottingham", [], extra=[("L", SLOT, 1440, 2000), ("M", SLOT, 1440, 10)])
    assert shifts == []


def test_three_slots_bring_every_start_within_the_limit(kit):
    exams, counts, shifts = stagger(kit, "nottingham", [900, 800, 700, 600])
    after = loads(exams, counts, shifts)
    assert max(after.values()) <= 1500
    assert "E0" not in {s.exam_id for s in shifts}
    assert sorted(after) == [kit.at(SLOT), kit.at("2026-05-18 09:15"), kit.at("2026-05-18 09:30")]


def test_a_single_exam_over_the_limit_stays_put(kit):
    assert stagger(kit, "nottingham", [2000])[2] == []


def test_the_biggest_exam_stays_put_beside_a_24h_exam(kit):
    exams, counts, shifts = stagger(kit, "nottingham", [1000, 500], extra=[("L", SLOT, 1440, 600)])
    assert "E0" not in {s.exam_id for s in shifts}
    assert [(s.exam_id, s.shift_minutes) for s in shifts] == [("E1", 15)]


def _optimal_largest_slot(sizes, offsets=(0, 15, 30)):
    """Brute force: the smallest possible largest slot, the biggest exam staying put."""
    best = None
    for choice in itertools.product(offsets, repeat=len(sizes) - 1):
        load = Counter({0: sizes[0]})
        for n, o in zip(sizes[1:], choice):
            load[o] += n
        worst = max(load.values())
        best = worst if best is None else min(best, worst)
    return best


def test_largest_slot_is_minimised_greedy_counterexample(kit):
    sizes = [500, 500, 400, 400, 300, 300, 300]
    exams, counts, shifts = stagger(kit, "nottingham", sizes, limit=900)
    assert _optimal_largest_slot(sorted(sizes, reverse=True)) == 900
    assert max(loads(exams, counts, shifts).values()) == 900


@settings(max_examples=150, derandomize=True, deadline=None, database=None)
@given(sizes=st.lists(st.integers(1, 40), min_size=1, max_size=7), limit=st.integers(10, 120))
def test_staggering_properties(kit, sizes, limit):
    sizes = [n * 10 for n in sizes]
    exams, counts, shifts = stagger(kit, "nottingham", sizes, limit=limit * 10)
    total = sum(sizes)
    after = loads(exams, counts, shifts)
    assert sum(after.values()) == total
    if total <= limit * 10:
        assert shifts == []
        return
    # never more than 30 minutes, always later, each exam at most once, with a reason
    assert len({s.exam_id for s in shifts}) == len(shifts)
    for s in shifts:
        assert s.shift_minutes in (15, 30)
        assert s.new_start - s.original_start == timedelta(minutes=s.shift_minutes)
        assert s.reason and s.rule == "nottingham.stagger"
    # the exam with the most candidates stays put
    biggest = min(counts, key=lambda k: (-counts[k], k))
    assert biggest not in {s.exam_id for s in shifts}
    # staggering never makes the busiest start busier, and shifts only when it helps
    assert max(after.values()) <= total
    assert max(after.values()) < total or len(sizes) == 1


def test_staggering_through_the_service(kit):
    exams = [kit.exam("BIG", SLOT, 60), kit.exam("SMALL", SLOT, 60)]
    sittings = [("BIG", f"b{i}") for i in range(1200)] + [("SMALL", f"s{i}") for i in range(400)]
    plan = services.staggering_for(kit.policy("nottingham"), kit.period(exams, [], sittings))
    assert [(s.exam_id, s.shift_minutes) for s in plan.shifts] == [("SMALL", 15)]
    assert plan.still_crowded == ()


def test_a_slot_moved_into_is_settled_by_moving_its_own_exams(kit):
    # limit 1000. 09:00: 1000 + 800, so the 800 moves to 09:15 (the least busy), which
    # now holds 500 + 400 + 800: that slot is settled in turn, moving its own 400 on to
    # 09:45; the 500, the biggest exam released at 09:15, stays put.
    exams, counts, shifts = stagger(
        kit, "nottingham", [1000, 800],
        extra=[("P", "2026-05-18 09:15", 60, 500), ("Q", "2026-05-18 09:15", 60, 400), ("R", "2026-05-18 09:30", 60, 1000)],
        limit=1000,
    )
    moves = {s.exam_id: (kit.wall(s.new_start), s.shift_minutes) for s in shifts}
    assert moves["E1"] == ("2026-05-18 09:15 BST", 15)
    assert moves["Q"] == ("2026-05-18 09:45 BST", 30)
    assert "P" not in moves and "E0" not in moves
    assert max(loads(exams, counts, shifts).values()) < 1800


def test_what_no_shift_can_relieve_is_reported(kit):
    pol = kit.policy("nottingham")
    exams = [kit.exam("BIG", SLOT, 60), kit.exam("L", SLOT, 1440)]
    plan = plan_staggering(pol, exams, {"BIG": 1400, "L": 600})
    assert plan.shifts == ()  # the biggest short exam stays put; a 24-hour exam never moves
    assert plan.still_crowded == ((kit.at(SLOT), 2000),)


# -- lint ------------------------------------------------------------------------------------
def lint(kit, policy, exams, plans=(), sittings=None):
    pol = kit.policy(policy)
    windows = kit.windows(pol, exams, plans, sittings)
    return lint_timetable(pol, kit.calculator(pol), exams, windows)


@pytest.mark.parametrize(
    ("start", "warned"),
    [
        ("2026-05-18 09:00", False),
        ("2026-05-18 09:15", False),
        ("2026-05-18 09:30", False),
        ("2026-05-18 13:30", False),
        ("2026-05-18 13:45", False),
        ("2026-05-18 16:30", False),
        ("2026-05-18 17:00", False),
        ("2026-05-18 10:00", True),
        ("2026-05-18 09:45", True),  # 45 minutes is more than the 15-30 minute stagger
        ("2026-05-18 09:05", True),
        ("2026-05-18 14:00", False),  # 13:30 + 30
        ("2026-05-18 14:15", True),
        ("2026-05-23 09:00", False),  # short exams: any exam day
    ],
)
def test_nottingham_release_slot_short_exams(kit, start, warned):
    warnings = lint(kit, "nottingham", [kit.exam("E1", start, 60)])
    found = [w for w in warnings if w.rule == "nottingham.release_slot"]
    assert bool(found) is warned
    if warned:
        (w,) = found
        assert w.exam_id == "E1" and w.student_id is None
        assert start[-5:] in w.message


@pytest.mark.parametrize(
    ("start", "warned"),
    [
        ("2026-05-18 09:00", False),  # Monday
        ("2026-05-22 09:00", False),  # Friday
        ("2026-05-18 13:30", True),
        ("2026-05-18 09:15", True),
        ("2026-05-23 09:00", True),  # Saturday
        ("2026-05-24 09:00", True),  # Sunday
    ],
)
def test_nottingham_release_slot_24h_exams(kit, start, warned):
    warnings = lint(kit, "nottingham", [kit.exam("L", start, 1440)])
    found = [w for w in warnings if w.rule == "nottingham.release_slot"]
    assert bool(found) is warned
    if warned:
        assert found[0].exam_id == "L"


def test_three_short_exams_in_one_day(kit):
    exams = [kit.exam("A", "2026-05-18 09:00", 60), kit.exam("B", "2026-05-18 13:30", 60),
             kit.exam("C", "2026-05-18 16:30", 60), kit.exam("D", "2026-05-19 09:00", 60)]
    sittings = [(e.exam_id, "s1") for e in exams] + [("A", "s2"), ("B", "s2"), ("D", "s2")]
    warnings = lint(kit, "nottingham", exams, [kit.plan("s1"), kit.plan("s2")], sittings)
    found = [w for w in warnings if w.rule == "nottingham.max_short_per_day"]
    assert len(found) == 1
    (w,) = found
    assert w.student_id == "s1" and w.exam_id is None
    assert "A, B, C" in w.message and "18 May 2026" in w.message
    assert not [w for w in warnings if w.rule == "nottingham.release_slot"]


def test_two_short_exams_and_a_24h_exam_covering_the_day(kit):
    exams = [kit.exam("L", "2026-05-18 09:00", 1440), kit.exam("A", "2026-05-18 09:00", 60),
             kit.exam("B", "2026-05-18 13:30", 60)]
    found = [w for w in lint(kit, "nottingham", exams) if w.rule == "nottingham.max_short_per_day"]
    assert len(found) == 1
    assert "L" in found[0].message and found[0].student_id == "s0"


def test_24h_exam_from_the_day_before_counts_only_where_its_standard_window_works(kit):
    # released Mon 09:00, due Tue 09:00: it takes no working time on Tuesday ...
    exams = [kit.exam("L", "2026-05-18 09:00", 1440), kit.exam("A", "2026-05-19 09:00", 60),
             kit.exam("B", "2026-05-19 13:30", 60)]
    assert not [w for w in lint(kit, "nottingham", exams) if w.rule == "nottingham.max_short_per_day"]
    # ... and a 50 % plan (due Tue 14:00) changes nothing: the lint judges the timetable by
    # standard windows, so no warning depends on, or hints at, a support plan.
    found = lint(kit, "nottingham", exams, [kit.plan("s1", 50)])
    assert not [w for w in found if w.rule == "nottingham.max_short_per_day"]


def test_two_short_exams_a_day_are_fine(kit):
    exams = [kit.exam("A", "2026-05-18 09:00", 60), kit.exam("B", "2026-05-18 13:30", 60)]
    assert lint(kit, "nottingham", exams) == []


@pytest.mark.parametrize("policy", ["qmu", "default"])
def test_qmu_and_default_have_no_lint(kit, policy):
    exams = [kit.exam("A", "2026-05-18 10:00", 60), kit.exam("B", "2026-05-18 11:07", 60),
             kit.exam("C", "2026-05-18 15:00", 60), kit.exam("L", "2026-05-23 13:30", 1440)]
    assert lint(kit, policy, exams) == []
