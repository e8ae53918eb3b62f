"""timetable.csv: one exam a row (INTERFACES.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..domain.model import DEFAULT_SETUP, TWENTY_FOUR_HOURS, Delivery, Exam, ExamSetup
from ..domain.policy import Policy
from .csvtable import CsvTable, read_csv
from .values import parse_id, parse_instant, parse_int

T = TypeVar("T")
REQUIRED = ("exam_id", "title", "delivery", "start", "duration_minutes")
_COURSE = re.compile(r"(canvas|moodle):\d+|canvas:sis_course_id:\S+")
_DELIVERIES = {d.value: d for d in Delivery}


def read_timetable(path: str | Path, policy: Policy) -> tuple[list[Exam], CsvTable]:
    table = read_csv(path, REQUIRED)
    exams: list[Exam] = []
    first_row: dict[str, int] = {}
    zone = policy.calendar.zone
    limits = policy.limits
    for row, cells in table:
        before = len(table.problems)
        cell = lambda column, parser: table.parse(row, cells, column, parser)  # noqa: E731, B023
        exam_id = cell("exam_id", lambda t: parse_id(t, "an exam id"))
        if exam_id is not None:
            if exam_id in first_row:
                table.problem(row, "exam_id", f"exam id {exam_id} is already used on row {first_row[exam_id]}")
            else:
                first_row[exam_id] = row
        title = cell("title", required_text("a title"))
        delivery = cell("delivery", parse_delivery)
        start = cell("start", lambda t: parse_instant(required_text("a start time")(t), zone))
        duration = cell("duration_minutes", lambda t: parse_duration(t, policy))
        reading = cell("reading_minutes", _optional(lambda t: parse_int(t, low=0, high=limits.max_reading_minutes)))
        upload = cell("upload_minutes", _optional(lambda t: parse_int(t, low=0, high=limits.max_upload_minutes)))
        course = cell("course", _optional(_course))
        setup = _setup(table, row, cells)
        if len(table.problems) == before:
            exams.append(Exam(exam_id, title, delivery, start, duration, reading, upload, course, setup))
    return exams, table


def required_text(what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if not text:
            raise ValueError(f"{what} is required")
        return text

    return parse


def _optional(parse: Callable[[str], T]) -> Callable[[str], T | None]:
    return lambda text: parse(text) if text else None


def parse_delivery(text: str) -> Delivery:
    found = _DELIVERIES.get(text.lower())
    if found is None:
        shown = repr(text) if text else "nothing"
        raise ValueError(f"unknown delivery {shown} (expected dropbox, quiz or new_quiz)")
    return found


def _course(text: str) -> str:
    if not _COURSE.fullmatch(text):
        raise ValueError(f"{text!r} is not canvas:<course id>, canvas:sis_course_id:<id> or moodle:<course id>")
    return text


def parse_duration(text: str, policy: Policy) -> int:
    d = parse_int(text, low=1, high=100_000)
    rules = policy.durations
    if d == TWENTY_FOUR_HOURS:
        return d
    if d > TWENTY_FOUR_HOURS:
        raise ValueError(f"{d} minutes is longer than 24 hours: coursework, not an exam")
    if d > rules.short_max_minutes:
        raise ValueError(
            f"{d} minutes: under the {policy.name} policy an exam longer than "
            f"{rules.short_max_minutes} minutes must be a 24-hour exam ({TWENTY_FOUR_HOURS})"
        )
    if rules.short_allowed_minutes and d not in rules.short_allowed_minutes:
        allowed = ", ".join(str(m) for m in rules.short_allowed_minutes)
        raise ValueError(f"{d} minutes is not a duration the {policy.name} policy allows ({allowed} or {TWENTY_FOUR_HOURS})")
    return d


_TEXT_FIELDS = ("module_code", "division", "programmes", "level", "session", "instructions", "paper_setter", "access_code")
_YES, _NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}


def _flag(text: str) -> bool:
    if text.lower() in _YES:
        return True
    if text.lower() in _NO:
        return False
    raise ValueError(f"{text!r} is not yes or no")


def _setup(table: CsvTable, row: int, cells: dict[str, str]) -> ExamSetup:
    """The optional setup columns; absent or blank cells keep the defaults."""
    values: dict[str, object] = {f: cells[f] for f in _TEXT_FIELDS if cells.get(f)}
    parsers = {
        "attempts": lambda t: parse_int(t, low=1, high=10, what="attempts"),
        "shuffle_answers": _flag,
        "hide_results_until_close": _flag,
        "practice_days_before": lambda t: parse_int(t, low=1, high=60, what="days"),
    }
    for column, parser in parsers.items():
        if cells.get(column):
            value = table.parse(row, cells, column, parser)
            if value is not None:
                values[column] = value
    return ExamSetup(**values) if values else DEFAULT_SETUP  # type: ignore[arg-type]
