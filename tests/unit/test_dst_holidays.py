"""Clock changes and public holidays, 2026 and 2027 (POLICY.md time semantics 2-6).

BST: 2026 from Sun 29 Mar to Sun 25 Oct; 2027 from Sun 28 Mar to Sun 31 Oct.
Holidays (holidays 0.108): ENG 2026 Good Friday 3 Apr, Easter Monday 6 Apr, Christmas Fri 25 Dec,
Boxing Day Sat 26 Dec, substitute Mon 28 Dec; ENG 2027 Good Friday 26 Mar, Easter Monday 29 Mar.
SCT has no Easter Monday, but St Andrew's Day (Mon 30 Nov 2026, Tue 30 Nov 2027) and a one-off
Mon 15 Jun 2026.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lms_bridge.domain.timeutil import LocalTimeError, strict_local_to_utc
from lms_bridge.inputs.timetable import read_timetable
from lms_bridge.policies import config_dir, load_policy

# -- the calendars themselves ------------------------------------------------------------
@pytest.mark.parametrize(
    ("policy", "day", "exam_day"),
    [
        ("nottingham", date(2026, 4, 3), False),  # Good Friday
        ("nottingham", date(2026, 4, 4), True),  # Easter Saturday: a Saturday exam day
        ("nottingham", date(2026, 4, 6), False),  # Easter Monday (ENG)
        ("qmu", date(2026, 4, 6), True),  # no Easter Monday in Scotland
        ("nottingham", date(2027, 3, 26), False),
        ("nottingham", date(2027, 3, 29), False),
        ("qmu", date(2027, 3, 29), True),
        ("nottingham", date(2026, 12, 26), False),  # Boxing Day on a Saturday
        ("nottingham", date(2026, 12, 28), False),  # substitute day
        ("default", date(2026, 12, 28), False),
        ("qmu", date(2026, 11, 30), False),  # St Andrew's Day
        ("default", date(2026, 11, 30), True),
        ("qmu", date(2027, 11, 30), False),
        ("qmu", date(2026, 6, 15), False),  # the 2026 one-off
        ("nottingham", date(2026, 6, 15), True),
        ("qmu", date(2027, 1, 4), False),  # New Year holiday (observed), SCT only
        ("default", date(2027, 1, 4), True),
        ("nottingham", date(2026, 5, 23), True),  # Saturday
        ("default", date(2026, 5, 23), False),
        ("nottingham", date(2026, 5, 24), False),  # Sunday
    ],
)
def test_exam_days(kit, policy, day, exam_day):
    assert kit.calendar(policy).is_exam_day(day) is exam_day


@pytest.mark.parametrize(
    ("policy", "after", "expected"),
    [
        ("nottingham", date(2026, 12, 24), date(2026, 12, 29)),
        ("default", date(2026, 12, 24), date(2026, 12, 29)),
        ("nottingham", date(2027, 12, 24), date(2027, 12, 29)),  # 25, 26, 27 (obs), 28 (obs)
        ("qmu", date(2026, 11, 27), date(2026, 12, 1)),
        ("default", date(2026, 11, 27), date(2026, 11, 30)),
        ("nottingham", date(2027, 3, 25), date(2027, 3, 27)),
        ("default", date(2027, 3, 25), date(2027, 3, 30)),
        ("qmu", date(2027, 3, 25), date(2027, 3, 29)),
    ],
)
def test_next_exam_day(kit, policy, after, expected):
    assert kit.calendar(policy).next_exam_day(after) == expected


# -- 24-hour exams across a clock change ---------------------------------------------------
@pytest.mark.parametrize("policy", ["default", "qmu"])
@pytest.mark.parametrize(
    ("start", "due"),
    [
        ("2026-03-28 16:30", "2026-03-29 17:30 BST"),  # 16:30 BST would be 23 h
        ("2027-03-27 16:30", "2027-03-28 17:30 BST"),
        ("2026-03-28 23:30", "2026-03-30 00:30 BST"),
    ],
)
def test_plus_24_hours_across_spring_forward_is_never_shorter_than_24h(kit, policy, start, due):
    w = kit.window(policy, kit.exam(start=start, duration=1440))
    assert kit.wall(w.due_at) == due
    assert kit.elapsed(w) == 1440
    assert w.rules == (f"{policy}.due_24h", "time.clock_change")


@pytest.mark.parametrize("policy", ["default", "qmu"])
@pytest.mark.parametrize(
    ("start", "due", "elapsed"),
    [
        ("2026-10-24 09:00", "2026-10-25 09:00 GMT", 1500),  # the wall-clock rule gives 25 h
        ("2027-10-30 09:00", "2027-10-31 09:00 GMT", 1500),
        ("2026-10-24 01:30", "2026-10-25 01:30 GMT", 1500),  # the later of the two 01:30s
    ],
)
def test_plus_24_hours_across_autumn_back_keeps_the_wall_clock(kit, policy, start, due, elapsed):
    w = kit.window(policy, kit.exam(start=start, duration=1440))
    assert kit.wall(w.due_at) == due
    assert kit.elapsed(w) == elapsed
    assert w.rules == (f"{policy}.due_24h",)


def test_plus_24_hours_into_the_spring_gap(kit):
    """Sun 29 Mar 2026 01:30 does not exist; 24 h elapsed is 02:30 BST."""
    w = kit.window("default", kit.exam(start="2026-03-28 01:30", duration=1440))
    assert kit.wall(w.due_at) == "2026-03-29 02:30 BST"
    assert kit.elapsed(w) == 1440


@pytest.mark.parametrize(
    ("start", "due", "elapsed"),
    [
        ("2026-03-27 09:00", "2026-03-28 09:00 GMT", 1440),
        ("2026-03-28 09:00", "2026-03-30 09:00 BST", 47 * 60),  # Saturday release -> Monday
        ("2027-03-27 09:00", "2027-03-30 09:00 BST", 71 * 60),  # and Easter Monday 2027 is a holiday
        ("2026-10-24 09:00", "2026-10-26 09:00 GMT", 49 * 60),
        ("2027-10-30 09:00", "2027-11-01 09:00 GMT", 49 * 60),
    ],
)
def test_nottingham_next_exam_day_across_clock_changes(kit, start, due, elapsed):
    w = kit.window("nottingham", kit.exam(start=start, duration=1440))
    assert kit.wall(w.due_at) == due
    assert kit.elapsed(w) == elapsed


def test_next_exam_day_guard_when_sunday_is_an_exam_day(kit):
    """Wall-clock Sun 09:00 BST is only 23 h after Sat 09:00 GMT: the student gets 24 h."""
    seven_days = kit.variant("nottingham", calendar={"exam_weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]})
    w = kit.window(seven_days, kit.exam(start="2026-03-28 09:00", duration=1440))
    assert kit.wall(w.due_at) == "2026-03-29 10:00 BST"
    assert kit.elapsed(w) == 1440
    assert "time.clock_change" in w.rules
    autumn = kit.window(seven_days, kit.exam(start="2026-10-24 09:00", duration=1440))
    assert kit.wall(autumn.due_at) == "2026-10-25 09:00 GMT"
    assert kit.elapsed(autumn) == 1500


# -- working hours across clock changes and holidays --------------------------------------
@pytest.mark.parametrize(
    ("policy", "start", "p", "due"),
    [
        # reference 3.2: due Sat 28 Mar 2026 16:30 GMT + 5 working hours -> Mon 30 Mar 14:00 BST
        ("default", "2026-03-27 16:30", 50, "2026-03-30 14:00 BST"),
        # due Fri 23 Oct 2026 16:30 BST + 5 h -> Mon 26 Oct 13:30 GMT
        ("default", "2026-10-22 16:30", 50, "2026-10-26 13:30 GMT"),
        ("nottingham", "2026-10-23 16:30", 50, "2026-10-26 13:30 GMT"),  # due Sat 24 Oct 16:30 BST
        ("nottingham", "2026-03-27 09:00", 100, "2026-03-30 11:00 BST"),  # Sat 8 h, Mon 2 h
    ],
)
def test_working_hours_plan_across_clock_changes(kit, policy, start, p, due):
    w = kit.window(policy, kit.exam(start=start, duration=1440), kit.plan("s1", p))
    assert kit.wall(w.due_at) == due


@pytest.mark.parametrize(
    ("subdivision", "start", "due"),
    [
        # due Good Friday 3 Apr 2026 13:30 + 5 working hours
        ("ENG", "2026-04-02 13:30", "2026-04-07 14:00 BST"),
        ("SCT", "2026-04-02 13:30", "2026-04-06 14:00 BST"),  # Scotland works Easter Monday
        # due Good Friday 26 Mar 2027 13:30 GMT; the clocks change on Easter Sunday
        ("ENG", "2027-03-25 13:30", "2027-03-30 14:00 BST"),
        ("SCT", "2027-03-25 13:30", "2027-03-29 14:00 BST"),
    ],
)
def test_default_plan_over_easter(kit, subdivision, start, due):
    policy = kit.variant("default", calendar={"subdivision": subdivision})
    w = kit.window(policy, kit.exam(start=start, duration=1440), kit.plan("s1", 50))
    assert kit.wall(w.due_at) == due


@pytest.mark.parametrize(
    ("start", "p", "due"),
    [
        ("2026-04-02 09:00", 0, "2026-04-04 09:00 BST"),  # Good Friday skipped, Saturday works
        ("2026-04-02 09:00", 50, "2026-04-04 14:00 BST"),
        ("2026-04-02 09:00", 100, "2026-04-07 11:00 BST"),  # Sat 8 h, Easter Monday skipped
        ("2027-03-25 09:00", 0, "2027-03-27 09:00 GMT"),
        ("2027-03-25 09:00", 100, "2027-03-30 11:00 BST"),  # Sat 8 h GMT, Sun + Mon skipped, 2 h BST
    ],
)
def test_nottingham_over_easter(kit, start, p, due):
    w = kit.window("nottingham", kit.exam(start=start, duration=1440), kit.plan("s1", p))
    assert kit.wall(w.due_at) == due


@pytest.mark.parametrize(
    ("policy", "start", "p", "due"),
    [
        ("nottingham", "2026-12-24 09:00", 0, "2026-12-29 09:00 GMT"),  # Fri 25, Sat 26, Mon 28 off
        ("nottingham", "2026-12-23 09:00", 100, "2026-12-29 11:00 GMT"),  # Thu 8 h, Tue 2 h
        ("default", "2026-12-23 16:30", 50, "2026-12-29 13:30 GMT"),  # Thu 30 min, Tue 4 h 30
        ("nottingham", "2027-12-23 09:00", 100, "2027-12-29 11:00 GMT"),  # 2027: Mon 27 + Tue 28 off
    ],
)
def test_christmas(kit, policy, start, p, due):
    w = kit.window(policy, kit.exam(start=start, duration=1440), kit.plan("s1", p))
    assert kit.wall(w.due_at) == due


def test_christmas_clash_moves_to_the_next_exam_day(kit):
    exams = [kit.exam("L", "2026-12-23 09:00", 1440), kit.exam("S", "2026-12-24 13:30", 60)]
    ws = kit.by_key(kit.windows("nottingham", exams, [kit.plan("s1", 50)]))
    assert kit.wall(ws["L", "s1"].due_at) == "2026-12-29 14:00 GMT"


@pytest.mark.parametrize(
    ("subdivision", "start", "due"),
    [
        ("SCT", "2026-11-26 16:00", "2026-12-01 13:00 GMT"),  # St Andrew's Day, Mon 30 Nov 2026
        ("ENG", "2026-11-26 16:00", "2026-11-30 13:00 GMT"),
        ("SCT", "2027-11-29 16:00", "2027-12-01 14:00 GMT"),  # due on Tue 30 Nov 2027 itself: counting starts Wed
        ("ENG", "2027-11-29 16:00", "2027-12-01 13:00 GMT"),  # due Tue 16:00: 1 h Tue, 4 h Wed
        ("SCT", "2026-06-11 16:00", "2026-06-16 13:00 BST"),  # the Mon 15 Jun 2026 one-off
        ("ENG", "2026-06-11 16:00", "2026-06-15 13:00 BST"),
    ],
)
def test_scottish_holidays_with_a_working_hours_plan(kit, subdivision, start, due):
    """qmu gives no ILP time on 24-hour exams, so its calendar is exercised through a variant
    that does (and through the default policy moved to Scotland)."""
    for policy in (
        kit.variant("qmu", calendar={"subdivision": subdivision}, twenty_four_hour={"plan": "working_hours"}),
        kit.variant("default", calendar={"subdivision": subdivision}),
    ):
        w = kit.window(policy, kit.exam(start=start, duration=1440), kit.plan("s1", 50))
        assert kit.wall(w.due_at) == due


def test_qmu_24h_over_st_andrews_day_is_exactly_24_hours(kit):
    exam = kit.exam(start="2026-11-29 09:00", duration=1440)
    for plan in (None, kit.plan("s1", 50, 10)):
        w = kit.window("qmu", exam, plan)
        assert kit.wall(w.due_at) == "2026-11-30 09:00 GMT"


def test_qmu_next_exam_day_variant_skips_st_andrews_day(kit):
    policy = kit.variant("qmu", twenty_four_hour={"due": "next_exam_day"})
    w = kit.window(policy, kit.exam(start="2026-11-27 09:00", duration=1440))
    assert kit.wall(w.due_at) == "2026-12-01 09:00 GMT"


# -- short exams across a clock change: elapsed minutes -----------------------------------
@pytest.mark.parametrize(
    ("policy", "start", "duration", "reading", "plan", "limit", "window", "due"),
    [
        # 3 h + 50 % (+ 45 min upload) from 00:15 GMT: 5 h 15 elapsed, not 4 h 15
        ("nottingham", "2026-03-29 00:15", 180, None, (50, 0), 270, 315, "2026-03-29 06:30 BST"),
        ("nottingham", "2027-03-28 00:15", 180, None, (50, 0), 270, 315, "2027-03-28 06:30 BST"),
        # 2 h from 00:45 BST on 25 Oct: ends 01:45 GMT (the second 01:45)
        ("qmu", "2026-10-25 00:45", 120, None, (0, 0), 120, 120, "2026-10-25 01:45 GMT"),
        ("qmu", "2027-10-31 00:45", 120, None, (0, 0), 120, 120, "2027-10-31 01:45 GMT"),
        # qmu quiz, D 90 + R 5, p 25, b 10: ceil(118.75) + 15 = 134 minutes
        ("qmu", "2027-03-28 00:30", 90, 5, (25, 10), 134, 134, "2027-03-28 03:44 BST"),
        ("default", "2026-10-25 00:30", 180, None, (100, 10), 390, 390, "2026-10-25 06:00 GMT"),
    ],
)
def test_short_exam_spanning_a_clock_change_counts_elapsed_minutes(
    kit, policy, start, duration, reading, plan, limit, window, due
):
    exam = kit.exam(start=start, duration=duration, reading=reading, delivery="quiz")
    w = kit.window(policy, exam, kit.plan("s1", *plan))
    assert w.time_limit_minutes == limit
    assert w.due_at - w.opens_at == timedelta(minutes=window)
    assert kit.wall(w.due_at) == due


# -- closure dates --------------------------------------------------------------------------
def test_closures_from_a_policy_file(kit, write_file):
    text = (config_dir() / "policies" / "nottingham.toml").read_text(encoding="utf-8")
    text = text.replace('name = "nottingham"', 'name = "closed"')
    text = text.replace("closures = []", 'closures = ["2026-05-19", "2026-05-20"]')
    policy, _ = load_policy(str(write_file("closed.toml", text)))
    assert kit.wall(kit.window(policy, kit.exam(start="2026-05-18 09:00", duration=1440)).due_at) == "2026-05-21 09:00 BST"
    planned = kit.window(policy, kit.exam(start="2026-05-17 16:00", duration=1440), kit.plan("s1", 50))
    # due Mon 18 May 16:00: 1 h on Monday, Tue and Wed closed, 4 h on Thursday
    assert kit.wall(planned.due_at) == "2026-05-21 13:00 BST"


def test_closures_move_a_clash(kit):
    policy = kit.variant("nottingham", calendar={"closures": ["2026-05-23"]})
    exams = [kit.exam("L", "2026-05-21 09:00", 1440), kit.exam("S", "2026-05-22 09:00", 60)]
    ws = kit.by_key(kit.windows(policy, exams, [kit.plan("s1", 50)]))
    assert kit.wall(ws["L", "s1"].due_at) == "2026-05-26 14:00 BST"  # Sat closed, Sun, Mon holiday


# -- local times that name no instant or two ----------------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-03-29 01:30", "2026-03-29 01:30 does not exist in Europe/London (clocks go forward)"),
        ("2026-03-29 01:00", "2026-03-29 01:00 does not exist in Europe/London (clocks go forward)"),
        ("2027-03-28 01:59", "2027-03-28 01:59 does not exist in Europe/London (clocks go forward)"),
        ("2026-10-25 01:30", "2026-10-25 01:30 is ambiguous in Europe/London (clocks go back; it happens twice)"),
        ("2026-10-25 01:00", "2026-10-25 01:00 is ambiguous in Europe/London (clocks go back; it happens twice)"),
        ("2027-10-31 01:30", "2027-10-31 01:30 is ambiguous in Europe/London (clocks go back; it happens twice)"),
    ],
)
def test_timetable_rejects_nonexistent_and_ambiguous_local_times(kit, tmp_path, monkeypatch, text, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "timetable.csv").write_text(
        "exam_id,title,delivery,start,duration_minutes\n"
        "E0,Fine,dropbox,2026-05-18 09:00,60\n"
        f"E1,Maths,dropbox,{text},60\n",
        encoding="utf-8",
    )
    exams, table = read_timetable("timetable.csv", kit.policy("nottingham"))
    assert [e.exam_id for e in exams] == ["E0"]
    assert [str(p) for p in table.problems] == [f"timetable.csv row 3, column start: {message}"]


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-03-29 00:59", "2026-03-29 00:59"),
        ("2026-03-29 02:00", "2026-03-29 01:00"),
        ("2026-10-25 00:59", "2026-10-24 23:59"),
        ("2026-10-25 02:00", "2026-10-25 02:00"),
    ],
)
def test_local_times_next_to_a_clock_change_are_fine(kit, text, utc):
    assert strict_local_to_utc(datetime.fromisoformat(text), ZoneInfo("Europe/London")) == kit.utc(utc)


def test_an_iso_instant_with_offset_inside_the_gap_is_accepted(kit, write_file):
    path = write_file(
        "timetable.csv",
        "exam_id,title,delivery,start,duration_minutes\nE1,Maths,dropbox,2026-03-29T01:30:00+00:00,60\n",
    )
    exams, table = read_timetable(path, kit.policy("nottingham"))
    assert table.problems == []
    assert exams[0].start == kit.utc("2026-03-29 01:30")


def test_strict_local_to_utc_raises_local_time_error():
    with pytest.raises(LocalTimeError):
        strict_local_to_utc(datetime(2026, 3, 29, 1, 30), ZoneInfo("Europe/London"))
    with pytest.raises(LocalTimeError):
        strict_local_to_utc(datetime(2026, 10, 25, 1, 30), ZoneInfo("Europe/London"))
