"""Short exams (D < 1440): POLICY.md "Short exams", nottingham.upload / extra_time,
qmu.reading / extra_time / rest_breaks, the default policy, rounding, late minutes, rule ids."""

from __future__ import annotations

import pytest

from lms_bridge.policies import config_dir, load_policy

MON = "2026-05-18 09:00"  # Monday 18 May 2026, BST: 08:00Z


# -- nottingham.upload -------------------------------------------------------------------
def test_nottingham_upload_one_hour_at_nine_is_due_ten_thirty(kit):
    w = kit.window("nottingham", kit.exam(start=MON, duration=60))
    assert kit.wall(w.opens_at) == "2026-05-18 09:00 BST"
    assert kit.wall(w.due_at) == "2026-05-18 10:30 BST"
    assert w.closes_at == w.due_at
    assert w.time_limit_minutes is None
    assert w.rules == ("nottingham.upload",)


@pytest.mark.parametrize("delivery", ["quiz", "new_quiz"])
def test_nottingham_quiz_window_includes_upload_but_time_limit_does_not(kit, delivery):
    w = kit.window("nottingham", kit.exam(start=MON, duration=60, delivery=delivery))
    assert w.time_limit_minutes == 60
    assert kit.elapsed(w) == 90
    assert w.rules == ("nottingham.upload",)


def test_nottingham_timetable_upload_column_overrides_default(kit):
    w = kit.window("nottingham", kit.exam(start=MON, duration=60, upload=0, delivery="quiz"))
    assert kit.elapsed(w) == 60 and w.time_limit_minutes == 60
    assert w.rules == ()
    w = kit.window("nottingham", kit.exam(start=MON, duration=60, upload=45), kit.plan("s1", 50))
    assert kit.elapsed(w) == 90 + 68  # U' = ceil(45 x 1.5) = ceil(67.5)


# -- nottingham.extra_time ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("duration", "allowed", "window", "due"),
    [
        (60, 90, 135, "2026-05-18 11:15 BST"),  # 1 h -> 2 h 15
        (120, 180, 225, "2026-05-18 12:45 BST"),  # 2 h -> 3 h 45
        (180, 270, 315, "2026-05-18 14:15 BST"),  # 3 h -> 5 h 15
    ],
)
@pytest.mark.parametrize("delivery", ["dropbox", "quiz", "new_quiz"])
def test_nottingham_fifty_percent_applies_to_working_time_and_upload(kit, duration, allowed, window, due, delivery):
    w = kit.window("nottingham", kit.exam(start=MON, duration=duration, delivery=delivery), kit.plan("s1", 50))
    assert kit.elapsed(w) == window
    assert kit.wall(w.due_at) == due
    assert w.time_limit_minutes == (None if delivery == "dropbox" else allowed)
    assert w.rules == ("nottingham.upload", "nottingham.extra_time")  # INTERFACES.md order


def test_nottingham_ignores_rest_breaks(kit):
    exam = kit.exam(start=MON, duration=120, delivery="quiz")
    with_breaks = kit.window("nottingham", exam, kit.plan("s1", 50, 10))
    without = kit.window("nottingham", exam, kit.plan("s1", 50))
    assert (with_breaks.due_at, with_breaks.time_limit_minutes) == (without.due_at, without.time_limit_minutes)
    assert "nottingham.rest_breaks" not in with_breaks.rules
    only_breaks = kit.window("nottingham", exam, kit.plan("s2", 0, 10))
    assert kit.elapsed(only_breaks) == 150 and only_breaks.time_limit_minutes == 120
    assert only_breaks.rules == ("nottingham.upload",)


# -- qmu ---------------------------------------------------------------------------------
def test_qmu_worked_example_quiz_120_reading_5_p25_b10(kit):
    """W = 125, ceil(156.25) = 157, breaks 20, A = 177."""
    w = kit.window("qmu", kit.exam(start=MON, duration=120, reading=5, delivery="quiz"), kit.plan("s1", 25, 10))
    assert w.time_limit_minutes == 177
    assert kit.elapsed(w) == 177
    assert kit.wall(w.due_at) == "2026-05-18 11:57 BST"
    assert w.rules == ("qmu.reading", "qmu.extra_time", "qmu.rest_breaks")


def test_qmu_reading_time_is_working_time_and_extended(kit):
    exam = kit.exam(start=MON, duration=60, reading=5, delivery="quiz")
    plain = kit.window("qmu", exam)
    assert (kit.elapsed(plain), plain.time_limit_minutes, plain.rules) == (65, 65, ("qmu.reading",))
    doubled = kit.window("qmu", exam, kit.plan("s1", 100))
    assert (kit.elapsed(doubled), doubled.time_limit_minutes) == (130, 130)
    assert doubled.rules == ("qmu.reading", "qmu.extra_time")


def test_qmu_reading_defaults_to_zero(kit):
    w = kit.window("qmu", kit.exam(start=MON, duration=60, delivery="quiz"))
    assert (kit.elapsed(w), w.time_limit_minutes, w.rules) == (60, 60, ())


_BREAKS = [
    (75, 10, 15),  # POLICY.md: 75-minute exam, b = 10 -> 15 minutes
    (30, 10, 5),
    (31, 10, 10),  # a started half hour counts
    (60, 10, 10),
    (120, 10, 20),
    (180, 10, 30),
    (75, 5, 8),  # 2.5 x 3 = 7.5 -> 8 (rounded up)
    (61, 7, 11),  # 3.5 x 3 = 10.5 -> 11
]


@pytest.mark.parametrize(
    ("policy", "duration", "b", "breaks"),
    [(pol, *case) for pol in ("qmu", "default") for case in _BREAKS]
    + [("qmu", 300, 10, 50), ("qmu", 1439, 10, 240)],  # QMU: any D < 1440 is a short exam
)
def test_rest_breaks_are_half_b_per_started_half_hour_of_d(kit, policy, duration, b, breaks):
    exam = kit.exam(start=MON, duration=duration, delivery="quiz")
    w = kit.window(policy, exam, kit.plan("s1", 0, b))
    assert w.time_limit_minutes == duration + breaks
    assert kit.elapsed(w) == duration + breaks
    assert w.rules == (f"{policy}.rest_breaks",)


def test_qmu_rest_breaks_come_on_top_of_extra_time_and_ignore_reading(kit):
    """A = ceil(W x 1.5) + (b/2) x ceil(D/30): reading time does not earn breaks."""
    w = kit.window("qmu", kit.exam(start=MON, duration=60, reading=10, delivery="quiz"), kit.plan("s1", 50, 10))
    assert w.time_limit_minutes == 105 + 10


def test_qmu_upload_is_not_extended(kit):
    w = kit.window("qmu", kit.exam(start=MON, duration=60, upload=20, delivery="quiz"), kit.plan("s1", 50))
    assert w.time_limit_minutes == 90
    assert kit.elapsed(w) == 110
    assert w.rules == ("qmu.upload", "qmu.extra_time")


# -- default -----------------------------------------------------------------------------
def test_default_short_exam_has_no_reading_or_upload_and_breaks_as_qmu(kit):
    exam = kit.exam(start=MON, duration=90, delivery="new_quiz")
    assert kit.elapsed(kit.window("default", exam)) == 90
    w = kit.window("default", exam, kit.plan("s1", 25, 10))
    assert w.time_limit_minutes == 113 + 15  # ceil(112.5) + 5 x 3
    assert kit.elapsed(w) == 128
    assert w.rules == ("default.extra_time", "default.rest_breaks")


def test_default_upload_column_is_not_extended(kit):
    w = kit.window("default", kit.exam(start=MON, duration=60, upload=30), kit.plan("s1", 50))
    assert kit.elapsed(w) == 90 + 30
    assert w.rules == ("default.upload", "default.extra_time")


# -- rounding ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("policy", "duration", "reading", "p", "limit", "window"),
    [
        ("nottingham", 60, None, "33.3", 80, 120),  # 79.98 -> 80; U' 39.99 -> 40
        ("nottingham", 120, None, "12.5", 135, 135 + 34),  # 33.75 -> 34
        ("qmu", 60, 5, "33.3", 87, 87),  # 86.645 -> 87
        ("qmu", 60, None, "12.5", 68, 68),  # 67.5 -> 68
        ("default", 45, None, "0.1", 46, 46),  # 45.045 -> 46
        ("default", 100, None, "10", 110, 110),  # exact: no rounding
    ],
)
def test_fractional_minutes_are_rounded_up(kit, policy, duration, reading, p, limit, window):
    w = kit.window(policy, kit.exam(start=MON, duration=duration, reading=reading, delivery="quiz"), kit.plan("s1", p))
    assert w.time_limit_minutes == limit
    assert kit.elapsed(w) == window


# -- opens_at, closes_at, late minutes ---------------------------------------------------
def test_everyone_opens_with_the_cohort(kit):
    exam = kit.exam(start="2026-05-18 13:30", duration=120)
    plans = [kit.plan("a", 0), kit.plan("b", 50), kit.plan("c", 300, 30)]
    ws = kit.windows("nottingham", [exam], plans)
    assert {w.opens_at for w in ws} == {kit.at("2026-05-18 13:30")}


def test_late_minutes_from_a_policy_file(kit, write_file):
    text = (config_dir() / "policies" / "nottingham.toml").read_text(encoding="utf-8")
    text = text.replace('name = "nottingham"', 'name = "latecollege"').replace("late_minutes = 0", "late_minutes = 15")
    policy, _ = load_policy(str(write_file("late.toml", text)))
    assert policy.late_minutes == 15

    short = kit.window(policy, kit.exam(start=MON, duration=60), kit.plan("s1", 50))
    assert kit.wall(short.due_at) == "2026-05-18 11:15 BST"
    assert kit.wall(short.closes_at) == "2026-05-18 11:30 BST"
    assert short.rules == ("latecollege.upload", "latecollege.extra_time", "latecollege.late")

    long = kit.window(policy, kit.exam(start=MON, duration=1440))
    assert kit.wall(long.due_at) == "2026-05-19 09:00 BST"
    assert kit.wall(long.closes_at) == "2026-05-19 09:15 BST"
    assert long.rules == ("latecollege.due_24h", "latecollege.late")


def test_no_late_rule_without_late_minutes(kit, policies):
    for name in policies:
        w = kit.window(name, kit.exam(start=MON, duration=60), kit.plan("s1", 50))
        assert w.closes_at == w.due_at
        assert f"{name}.late" not in w.rules


# -- rule ids ------------------------------------------------------------------------------
def test_every_rule_id_names_its_policy(kit, policies):
    for name in policies:
        exams = [kit.exam("S", MON, 60, "quiz", reading=5, upload=10), kit.exam("L", "2026-05-19 09:00", 1440)]
        for w in kit.windows(name, exams, [kit.plan("s1", 50, 10), kit.plan("s2")]):
            assert w.rules, w
            for rule in w.rules:
                assert rule.startswith(f"{name}.") or rule == "time.clock_change", rule
