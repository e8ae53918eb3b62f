"""Times, lengths and adjustments in plain words, as people read them on the pages.

Everything here is pure: instants in, sentences out, in the policy's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from ...domain.model import Delivery, Exam, SupportPlan, Window
from ...domain.rules import describe
from ...domain.windows import Timing


def when(instant: datetime | None, zone: ZoneInfo) -> str:
    """`Tuesday 1 December 2026, 09:30 GMT`."""
    if instant is None:
        return "not set"
    local = instant.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M %Z}"


def when_short(instant: datetime | None, zone: ZoneInfo) -> str:
    """`Tue 1 Dec 2026, 09:30`."""
    if instant is None:
        return "not set"
    local = instant.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def clock(instant: datetime, zone: ZoneInfo, *, on_day_of: datetime | None = None) -> str:
    """`12:07`, or `12:07 on Wednesday 2 December` when the day differs from `on_day_of`."""
    local = instant.astimezone(zone)
    if on_day_of is not None and on_day_of.astimezone(zone).date() == local.date():
        return f"{local:%H:%M}"
    return f"{local:%H:%M} on {local:%A} {local.day} {local:%B}"


def local_input(instant: datetime, zone: ZoneInfo) -> str:
    """The value of an `<input type="datetime-local">`: `2026-12-01T09:30`."""
    return instant.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def duration(minutes: int | float | None) -> str:
    """`45 min`, `2 h`, `1 h 30 min`, `1 day 5 h`."""
    if minutes is None:
        return "no limit"
    total = int(round(minutes))
    if total == 0:
        return "0 min"
    days, rest = divmod(abs(total), 1440)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if mins:
        parts.append(f"{mins} min")
    return ("minus " if total < 0 else "") + " ".join(parts)


def minutes_between(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


DELIVERY_NAMES = {Delivery.DROPBOX: "drop-box", Delivery.QUIZ: "quiz", Delivery.NEW_QUIZ: "New Quiz"}
DELIVERY_LABELS = {
    Delivery.DROPBOX: "Drop-box (an assignment with a file upload)",
    Delivery.QUIZ: "Quiz (Canvas Classic Quiz or Moodle quiz)",
    Delivery.NEW_QUIZ: "New Quiz (Canvas New Quizzes)",
}


def delivery_name(delivery: Delivery) -> str:
    return DELIVERY_NAMES[Delivery(delivery)]


def rule_words(rule_id: str) -> str:
    """A rule id's plain words, capitalised: `Support-plan extra time on the working time`."""
    text = describe(rule_id)
    return text[:1].upper() + text[1:]


def plan_summary(plan: SupportPlan | None) -> str:
    """A support plan's numbers, for staff only: `50% extra time, rest breaks 10 min an hour`."""
    if plan is None or plan.is_empty:
        return "none"
    parts = []
    if plan.extra_time_percent:
        parts.append(f"{_number(plan.extra_time_percent)}% extra time")
    if plan.rest_break_minutes_per_hour:
        parts.append(f"rest breaks {_number(plan.rest_break_minutes_per_hour)} min an hour")
    return ", ".join(parts)


def _number(value: object) -> str:
    from fractions import Fraction

    f = Fraction(value)  # type: ignore[arg-type]
    if f.denominator == 1:
        return str(f.numerator)
    return f"{float(f):.3f}".rstrip("0").rstrip(".")


def status(standard: Timing, now: datetime) -> str:
    """Upcoming, open now, or finished (by the standard window)."""
    if now < standard.opens_at:
        return "Upcoming"
    if now < standard.closes_at:
        return "Open now"
    return "Finished"


@dataclass(frozen=True, slots=True)
class StudentExam:
    """What a student reads about one of their exams."""

    exam: Exam
    window: Window
    opens: str
    sentences: tuple[str, ...]
    adjustments: tuple[str, ...]  # plain words of the rules that changed their window


def for_student(exam: Exam, window: Window, standard: Timing, zone: ZoneInfo) -> StudentExam:
    """The student's own window in sentences: when it opens, how long they have, when the
    drop-box or quiz closes, and what was adjusted compared with the standard window."""
    what = delivery_name(exam.delivery)
    sentences: list[str] = []
    own = minutes_between(window.opens_at, window.due_at)
    std = minutes_between(standard.opens_at, standard.due_at)
    if exam.is_24_hour:
        sentences.append(f"This is a 24-hour exam. Your deadline is {clock(window.due_at, zone)}.")
        later = minutes_between(standard.due_at, window.due_at)
        if later > 0:
            sentences.append(f"That is {duration(later)} later than the standard deadline "
                             f"({clock(standard.due_at, zone)}).")
    elif window.time_limit_minutes is not None:
        extra = window.time_limit_minutes - (standard.time_limit_minutes or 0)
        if extra > 0:
            sentences.append(f"You have {duration(extra)} extra time: your time limit is "
                             f"{duration(window.time_limit_minutes)} instead of the standard "
                             f"{duration(standard.time_limit_minutes)}.")
        else:
            sentences.append(f"Once you start, you have {duration(window.time_limit_minutes)} to complete the {what}.")
    elif own > std:
        sentences.append(f"You have {duration(own - std)} extra time: {duration(own)} to complete and upload "
                         f"your work instead of the standard {duration(std)}.")
    else:
        sentences.append(f"You have {duration(own)} to complete and upload your work.")
    closes = clock(window.closes_at, zone, on_day_of=window.opens_at)
    if window.closes_at > window.due_at:
        sentences.append(f"Submit by {clock(window.due_at, zone, on_day_of=window.opens_at)}. Work submitted "
                         f"after that counts as late; the {what} closes at {closes}.")
    elif not exam.is_24_hour:
        sentences.append(f"The {what} closes at {closes}.")
    changed = [r for r in window.rules if r not in standard.rules]
    adjustments = tuple(rule_words(r) for r in changed)
    return StudentExam(exam, window, when(window.opens_at, zone), tuple(sentences), adjustments)
