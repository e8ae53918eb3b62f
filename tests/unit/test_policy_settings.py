"""The three shipped policy files say what POLICY.md's tables say, and a policy file is
validated (every number is a setting; a bad setting is an error naming its key)."""

from __future__ import annotations

from datetime import time
from fractions import Fraction

import pytest

from lms_bridge.domain.policy import PolicyError, parse_policy
from lms_bridge.policies import load_policy, policy_names


def test_the_three_policies_are_shipped():
    assert {"nottingham", "qmu", "default"} <= set(policy_names())


def test_nottingham_settings(nottingham):
    cal = nottingham.calendar
    assert (cal.timezone, cal.country, cal.subdivision) == ("Europe/London", "GB", "ENG")
    assert cal.exam_weekdays == ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
    assert cal.working_hours == (time(9), time(17))
    assert nottingham.durations.short_max_minutes == 180
    assert set(nottingham.durations.short_allowed_minutes) == {60, 120, 180}
    assert (nottingham.defaults.upload_minutes, nottingham.defaults.reading_minutes) == (30, 0)
    assert nottingham.short.extend_upload is True
    assert nottingham.short.rest_breaks == "ignored"
    t = nottingham.twenty_four_hour
    assert (t.due, t.plan, t.working_hours_per_percent, t.clash) == ("next_exam_day", "working_hours", Fraction(1, 10), True)
    i = nottingham.incident
    assert (i.void_after_minutes, i.threshold, i.threshold_inclusive, i.early, i.late) == (
        None, Fraction(3, 4), False, "reschedule", "abandon")
    assert nottingham.late_minutes == 0
    assert nottingham.lint.max_short_exams_per_day == 2
    assert set(nottingham.staggering.shift_minutes) == {15, 30}


def test_qmu_settings(qmu):
    cal = qmu.calendar
    assert (cal.timezone, cal.country, cal.subdivision) == ("Europe/London", "GB", "SCT")
    assert cal.exam_weekdays == ("Mon", "Tue", "Wed", "Thu", "Fri")
    assert qmu.durations.short_max_minutes == 1439 and qmu.durations.short_allowed_minutes == ()
    assert (qmu.defaults.upload_minutes, qmu.defaults.reading_minutes) == (0, 0)
    assert qmu.short.extend_upload is False
    assert (qmu.short.rest_breaks, qmu.short.rest_break_period_minutes) == ("per_started_period", 30)
    assert (qmu.twenty_four_hour.due, qmu.twenty_four_hour.plan, qmu.twenty_four_hour.clash) == ("plus_24_hours", "none", False)
    i = qmu.incident
    assert (i.void_after_minutes, i.threshold, i.threshold_inclusive, i.early, i.late) == (60, Fraction(2, 3), True, "extend", "end")


def test_default_settings(default):
    cal = default.calendar
    assert (cal.timezone, cal.country, cal.subdivision) == ("Europe/London", "GB", "ENG")
    assert cal.exam_weekdays == ("Mon", "Tue", "Wed", "Thu", "Fri")
    assert (default.defaults.upload_minutes, default.defaults.reading_minutes) == (0, 0)
    assert default.short.extend_upload is False
    assert (default.short.rest_breaks, default.short.rest_break_period_minutes) == ("per_started_period", 30)
    t = default.twenty_four_hour
    assert (t.due, t.plan, t.working_hours_per_percent, t.clash) == ("plus_24_hours", "working_hours", Fraction(1, 10), False)
    assert {default.incident.early, default.incident.late} == {"extend"}
    assert default.incident.void_after_minutes is None


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"late_minutes": -1}, "late_minutes"),
        ({"calendar": {"timezone": "Mars/Olympus"}}, "calendar.timezone"),
        ({"calendar": {"exam_weekdays": []}}, "calendar.exam_weekdays"),
        ({"calendar": {"working_hours": ["17:00", "09:00"]}}, "calendar.working_hours"),
        ({"twenty_four_hour": {"due": "whenever"}}, "twenty_four_hour.due"),
        ({"incident": {"threshold": "two thirds"}}, "incident.threshold"),
        ({"staggering": {"shift_minutes": [15, 45]}}, "staggering.shift_minutes"),
        ({"durations": {"short_allowed_minutes": [60, 240]}}, "durations"),
        ({"unknown_setting": 1}, "unknown_setting"),
    ],
)
def test_a_bad_setting_is_an_error_naming_its_key(kit, overrides, key):
    with pytest.raises(PolicyError) as caught:
        kit.variant("default", **overrides)
    assert key in str(caught.value)


def test_exact_fractions_in_policy_files(kit):
    assert kit.variant("qmu", incident={"threshold": "2/3"}).incident.threshold == Fraction(2, 3)
    assert kit.variant("qmu", incident={"threshold": 0.75}).incident.threshold == Fraction(3, 4)


def test_a_policy_needs_a_valid_name():
    with pytest.raises(PolicyError, match="name"):
        parse_policy({"name": "Not A Name!"})


def test_unknown_policy_name_lists_the_known_ones():
    with pytest.raises(PolicyError, match="known policies: default, nottingham, qmu"):
        load_policy("nonesuch")
