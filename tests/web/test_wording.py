"""Plain words for times, lengths and a student's own adjustments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from lms_bridge.domain.model import Delivery, Exam, Sitting, SupportPlan
from lms_bridge.domain.windows import WindowCalculator, compute_windows
from lms_bridge.policies import load_policy
from lms_bridge.web.pages import wording

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(("minutes", "text"), [
    (0, "0 min"), (45, "45 min"), (60, "1 h"), (90, "1 h 30 min"), (1440, "1 day"), (1740, "1 day 5 h"),
    (None, "no limit"),
])
def test_duration(minutes, text) -> None:  # noqa: ANN001
    assert wording.duration(minutes) == text


def test_times_are_local_with_the_zone() -> None:
    winter = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    summer = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    assert wording.when(winter, LONDON) == "Tuesday 1 December 2026, 09:30 GMT"
    assert wording.when(summer, LONDON) == "Monday 1 June 2026, 09:00 BST"
    assert wording.local_input(summer, LONDON) == "2026-06-01T09:00"
    assert wording.clock(summer + timedelta(days=1), LONDON, on_day_of=summer) == "09:00 on Tuesday 2 June"


def test_plan_summary_for_staff() -> None:
    assert wording.plan_summary(None) == "none"
    assert wording.plan_summary(SupportPlan("s", Fraction(333, 10), Fraction(10))) == \
        "33.3% extra time, rest breaks 10 min an hour"


def _student(policy_name: str, exam: Exam, plan: SupportPlan | None):  # noqa: ANN202
    policy, _ = load_policy(policy_name)
    plans = {plan.student_id: plan} if plan else {}
    (window,) = compute_windows(policy, [exam], plans, [Sitting(exam.exam_id, "s1")])
    standard = WindowCalculator(policy).timing(exam)
    return wording.for_student(exam, window, standard, policy.calendar.zone)


def test_quiz_with_extra_time_in_plain_words() -> None:
    # POLICY.md's QMU example: D = 120, R = 5, p = 25, b = 10 -> time limit 177 min
    exam = Exam("E", "Stats", Delivery.QUIZ, datetime(2026, 12, 1, 9, 30, tzinfo=UTC), 120, 5)
    view = _student("qmu", exam, SupportPlan("s1", Fraction(25), Fraction(10)))
    assert view.sentences[0] == "You have 52 min extra time: your time limit is 2 h 57 min instead of the standard 2 h 5 min."
    assert view.sentences[1] == "The quiz closes at 12:27."
    assert view.adjustments == ("Support-plan extra time on the working time", "Rest-break time added on top of extra time")


def test_dropbox_with_upload_and_extra_time() -> None:
    # Nottingham: 1 h at 09:00 with 50% -> W 90 + U' 45 = 2 h 15 ... due 11:15
    exam = Exam("E", "Essay", Delivery.DROPBOX, datetime(2026, 12, 1, 9, 0, tzinfo=UTC), 60)
    view = _student("nottingham", exam, SupportPlan("s1", Fraction(50)))
    assert view.sentences == (
        "You have 45 min extra time: 2 h 15 min to complete and upload your work instead of the standard 1 h 30 min.",
        "The drop-box closes at 11:15.",
    )


def test_no_plan_means_standard_time() -> None:
    exam = Exam("E", "Essay", Delivery.DROPBOX, datetime(2026, 12, 1, 9, 0, tzinfo=UTC), 60)
    view = _student("nottingham", exam, None)
    assert view.sentences[0] == "You have 1 h 30 min to complete and upload your work."
    assert view.adjustments == ()


def test_24_hour_deadline_moved_later() -> None:
    # Nottingham 24h plan: 50% -> 5 working hours later; released Thu 09:00, due Fri 09:00 -> Fri 14:00
    exam = Exam("E", "Take-home", Delivery.DROPBOX, datetime(2026, 12, 3, 9, 0, tzinfo=UTC), 1440)
    view = _student("nottingham", exam, SupportPlan("s1", Fraction(50)))
    assert view.sentences == (
        "This is a 24-hour exam. Your deadline is 14:00 on Friday 4 December.",
        "That is 5 h later than the standard deadline (09:00 on Friday 4 December).",
    )
    assert "Support-plan working hours added to a 24-hour deadline" in view.adjustments
