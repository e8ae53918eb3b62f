"""Property tests: what must hold for every exam, plan and start time (2026-2027, weighted
towards clock changes and bank holidays), checked against POLICY.md's formulas directly."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from hypothesis import event, given, settings
from hypothesis import strategies as st

from lms_bridge.domain.model import Delivery, Exam, Sitting, SupportPlan
from lms_bridge.domain.windows import WindowCalculator, compute_windows

LONDON = ZoneInfo("Europe/London")
FAST = settings(max_examples=200, derandomize=True, deadline=None, database=None)
SLOW = settings(max_examples=80, derandomize=True, deadline=None, database=None)

# Days around which things go wrong: clock changes, Easter, Christmas, Scottish holidays.
AWKWARD_DAYS = [
    date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31),
    date(2026, 4, 3), date(2026, 4, 6), date(2027, 3, 26), date(2027, 3, 29),
    date(2026, 12, 25), date(2027, 12, 25), date(2026, 11, 30), date(2026, 6, 15),
    date(2026, 5, 25), date(2027, 5, 31),
]
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

instants = st.one_of(
    st.builds(
        lambda d, m: datetime.combine(d, time(0), tzinfo=UTC) + timedelta(minutes=m),
        st.sampled_from(AWKWARD_DAYS),
        st.integers(-4 * 1440, 2 * 1440),
    ),
    st.integers(0, 2 * 365 * 1440).map(lambda m: _EPOCH + timedelta(minutes=m)),
)
DURATIONS = {
    "nottingham": st.sampled_from([60, 120, 180]),
    "qmu": st.integers(1, 1439),
    "default": st.integers(1, 180),
}
percents = st.one_of(st.integers(0, 300).map(Fraction), st.integers(0, 3000).map(lambda x: Fraction(x, 10)))
breaks = st.one_of(st.just(Fraction(0)), st.integers(0, 30).map(Fraction), st.integers(0, 60).map(lambda x: Fraction(x, 2)))
deliveries = st.sampled_from(list(Delivery))
policy_names = st.sampled_from(["nottingham", "qmu", "default"])


@st.composite
def short_exams(draw, policy: str) -> Exam:
    return Exam(
        "E1", "Exam", draw(deliveries), draw(instants), draw(DURATIONS[policy]),
        reading_minutes=draw(st.none() | st.integers(0, 60)),
        upload_minutes=draw(st.none() | st.integers(0, 240)),
    )


@st.composite
def any_exams(draw, policy: str) -> Exam:
    if draw(st.booleans()):
        return Exam("E1", "Exam", draw(deliveries), draw(instants), 1440)
    return draw(short_exams(policy))


@st.composite
def policy_and_exam(draw, kind=any_exams):
    name = draw(policy_names)
    return name, draw(kind(name))


def plan(p: Fraction = Fraction(0), b: Fraction = Fraction(0), student: str = "s1") -> SupportPlan:
    return SupportPlan(student, p, b)


def expected_short(name: str, exam: Exam, p: Fraction, b: Fraction) -> tuple[int, int]:
    """(A, A + U') from POLICY.md, written out per policy."""
    reading_default, upload_default, extend_upload, has_breaks = {
        "nottingham": (0, 30, True, False),
        "qmu": (0, 0, False, True),
        "default": (0, 0, False, True),
    }[name]
    r = reading_default if exam.reading_minutes is None else exam.reading_minutes
    u = upload_default if exam.upload_minutes is None else exam.upload_minutes
    factor = 1 + p / 100
    rest = math.ceil(b / 2 * math.ceil(Fraction(exam.duration_minutes, 30))) if has_breaks else 0
    allowed = math.ceil((r + exam.duration_minutes) * factor) + rest
    return allowed, allowed + (math.ceil(u * factor) if extend_upload else u)


def wall_clock(day: date, clock: time) -> datetime:
    """The later instant showing `clock` on `day` in London (a deadline in the student's favour)."""
    naive = datetime.combine(day, clock.replace(fold=0))
    return max(naive.replace(tzinfo=LONDON, fold=f).astimezone(UTC) for f in (0, 1))


# -- short exams: exactly the formula, whatever the clocks do ----------------------------------
@FAST
@given(pe=policy_and_exam(short_exams), p=percents, b=breaks)
def test_short_window_is_exactly_a_plus_u_elapsed(kit, pe, p, b):
    name, exam = pe
    w = kit.window(name, exam, plan(p, b))
    allowed, window = expected_short(name, exam, p, b)
    assert w.opens_at == exam.start
    assert w.due_at - w.opens_at == timedelta(minutes=window)
    assert w.closes_at == w.due_at
    assert w.time_limit_minutes == (allowed if exam.delivery is not Delivery.DROPBOX else None)


# -- 24-hour exams ---------------------------------------------------------------------------
@FAST
@given(name=policy_names, start=instants, delivery=deliveries)
def test_standard_24h_deadline(kit, name, start, delivery):
    exam = Exam("E1", "Exam", delivery, start, 1440)
    w = kit.window(name, exam)
    local = start.astimezone(LONDON)
    if name == "nottingham":
        due_day = kit.calendar(name).next_exam_day(local.date())
    else:
        due_day = local.date() + timedelta(days=1)
    assert w.due_at == max(wall_clock(due_day, local.time()), start + timedelta(hours=24))
    assert w.due_at - w.opens_at >= timedelta(hours=24)
    assert w.time_limit_minutes is None
    assert ("time.clock_change" in w.rules) == (wall_clock(due_day, local.time()) < start + timedelta(hours=24))


@FAST
@given(name=policy_names, start=instants, p=percents, b=breaks)
def test_24h_window_never_shorter_than_24_hours_and_plan_lands_in_working_hours(kit, name, start, p, b):
    exam = Exam("E1", "Exam", Delivery.DROPBOX, start, 1440)
    standard = kit.window(name, exam)
    w = kit.window(name, exam, plan(p, b))
    assert w.due_at - w.opens_at >= timedelta(hours=24)
    assert w.time_limit_minutes is None
    if name == "qmu" or p == 0:
        assert w.due_at == standard.due_at
        return
    # p/10 working hours: at least that much real time later, ending inside working hours on an exam day
    assert w.due_at - standard.due_at >= timedelta(minutes=math.ceil(p * 6))
    local = w.due_at.astimezone(LONDON)
    assert kit.calendar(name).is_exam_day(local.date())
    assert time(9) < local.time() <= time(17)


# -- monotonicity ----------------------------------------------------------------------------
@FAST
@given(pe=policy_and_exam(), p=percents, b=breaks)
def test_a_plan_never_shortens_a_window(kit, pe, p, b):
    name, exam = pe
    without = kit.window(name, exam)
    with_plan = kit.window(name, exam, plan(p, b))
    assert with_plan.opens_at == without.opens_at
    assert with_plan.due_at >= without.due_at
    assert with_plan.closes_at >= without.closes_at
    if without.time_limit_minutes is not None:
        assert with_plan.time_limit_minutes >= without.time_limit_minutes


@FAST
@given(pe=policy_and_exam(), p1=percents, p2=percents, b1=breaks, b2=breaks)
def test_more_extra_time_or_breaks_never_closes_earlier_for_one_exam(kit, pe, p1, p2, b1, b2):
    """One exam per student, so the clash rule is not involved (see the clash observation in
    test_24h_exams.py: across exams, more extra time can close earlier)."""
    name, exam = pe
    (p1, p2), (b1, b2) = sorted((p1, p2)), sorted((b1, b2))
    low, high = kit.window(name, exam, plan(p1, b1)), kit.window(name, exam, plan(p2, b2))
    assert low.due_at <= high.due_at
    assert low.closes_at <= high.closes_at
    if low.time_limit_minutes is not None:
        assert low.time_limit_minutes <= high.time_limit_minutes


@SLOW
@given(start=instants, p1=percents, p2=percents)
def test_more_extra_time_never_closes_earlier_without_clash(kit, start, p1, p2):
    """Nottingham with the clash rule switched off: monotone across a student's exams too."""
    policy = kit.variant("nottingham", twenty_four_hour={"clash": False})
    exams = [Exam("L", "L", Delivery.DROPBOX, start, 1440), Exam("S", "S", Delivery.DROPBOX, start + timedelta(days=1), 60)]
    p1, p2 = sorted((p1, p2))
    lows = kit.by_key(kit.windows(policy, exams, [plan(p1, student="a"), plan(p2, student="b")]))
    for e in ("L", "S"):
        assert lows[e, "a"].due_at <= lows[e, "b"].due_at


# -- determinism -----------------------------------------------------------------------------
@SLOW
@given(
    name=policy_names,
    starts=st.lists(instants, min_size=1, max_size=5),
    long=st.lists(st.booleans(), min_size=5, max_size=5),
    ps=st.lists(percents, min_size=1, max_size=4),
    seed=st.integers(0, 1000),
)
def test_windows_are_deterministic(kit, name, starts, long, ps, seed):
    policy = kit.policy(name)
    exams = [
        Exam(f"E{i}", "t", Delivery.QUIZ, s, 1440 if long[i] else 60) for i, s in enumerate(starts)
    ]
    plans = {f"s{i}": plan(p, Fraction(10), f"s{i}") for i, p in enumerate(ps)}
    sittings = [Sitting(e.exam_id, s) for e in exams for s in [*plans, "nobody-planned"]]
    first = compute_windows(policy, exams, plans, sittings)
    shuffled = list(sittings)
    random.Random(seed).shuffle(shuffled)
    again = compute_windows(policy, list(reversed(exams)), dict(reversed(plans.items())), shuffled, WindowCalculator(policy))
    assert first == again
    assert len(first) == len(sittings)
    assert [(w.opens_at, w.exam_id, w.student_id) for w in first] == sorted((w.opens_at, w.exam_id, w.student_id) for w in first)


# -- the clash rule ----------------------------------------------------------------------------
@st.composite
def student_schedules(draw):
    """A few 24-hour and short exams (nottingham release slots) within about three weeks."""
    base = draw(st.sampled_from([date(2026, 3, 23), date(2026, 5, 18), date(2026, 10, 19),
                                 date(2026, 12, 21), date(2027, 3, 22), date(2027, 10, 25)]))
    exams = []
    for i in range(draw(st.integers(1, 4))):
        day = base + timedelta(days=draw(st.integers(0, 12)))
        clock = draw(st.sampled_from([time(9), time(13, 30), time(16, 30)]))
        exams.append(Exam(f"L{i}", "t", Delivery.DROPBOX, wall_clock(day, clock), 1440))
    for i in range(draw(st.integers(0, 4))):
        day = base + timedelta(days=draw(st.integers(0, 14)))
        clock = draw(st.sampled_from([time(9), time(13, 30), time(16, 30)]))
        exams.append(Exam(f"S{i}", "t", Delivery.QUIZ, wall_clock(day, clock), draw(st.sampled_from([60, 120, 180]))))
    return exams


@SLOW
@given(exams=student_schedules(), p=st.integers(1, 300).map(Fraction))
def test_clash_moves_exactly_one_exam_day_and_never_twice(kit, exams, p):
    policy = kit.policy("nottingham")
    calendar = kit.calendar(policy)
    calc = WindowCalculator(policy)
    the_plan = plan(p, student="s1")
    extended = {e.exam_id: calc.timing(e, the_plan) for e in exams}  # plan-extended, before the clash rule
    after = kit.by_key(kit.windows(policy, exams, [the_plan]))

    def day(instant):
        return instant.astimezone(LONDON).date()

    short_days = {day(e.start) for e in exams if not e.is_24_hour}
    for e in exams:
        w, before = after[e.exam_id, "s1"], extended[e.exam_id]
        if not e.is_24_hour:
            assert w.due_at == before.due_at
            continue
        others = {day(extended[o.exam_id].due_at) for o in exams if o.is_24_hour and o is not e}
        if day(before.due_at) in short_days | others:
            target = calendar.next_exam_day(day(before.due_at))
            clock = before.due_at.astimezone(LONDON).time()
            assert w.due_at == max(wall_clock(target, clock), before.due_at + timedelta(hours=24))
            assert day(w.due_at) == target  # one exam day, not two
            assert w.rules.count("nottingham.clash") == 1
            event("clash")
        else:
            assert w.due_at == before.due_at
            assert "nottingham.clash" not in w.rules
            event("no clash")

    # without extra time nobody moves
    plain = kit.by_key(kit.windows(policy, exams, [plan(Fraction(0), Fraction(10), "s1")]))
    for e in exams:
        assert plain[e.exam_id, "s1"].due_at == calc.timing(e).due_at


# -- time limits -------------------------------------------------------------------------------
@FAST
@given(pe=policy_and_exam(), p=percents, b=breaks)
def test_time_limit_is_null_for_dropbox_and_24h(kit, pe, p, b):
    name, exam = pe
    w = kit.window(name, exam, plan(p, b))
    if exam.delivery is Delivery.DROPBOX or exam.is_24_hour:
        assert w.time_limit_minutes is None
    else:
        assert isinstance(w.time_limit_minutes, int) and w.time_limit_minutes >= exam.duration_minutes


def test_property_strategies_reach_clock_changes():
    """Sanity check on the generators: the awkward days are really clock-change days."""
    for d in AWKWARD_DAYS[:4]:
        before = datetime.combine(d, time(0), tzinfo=UTC).astimezone(LONDON).utcoffset()
        after = datetime.combine(d, time(3), tzinfo=UTC).astimezone(LONDON).utcoffset()
        assert before != after
