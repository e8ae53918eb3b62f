"""The exam form checks a field exactly as the timetable reader checks its cell."""

from __future__ import annotations

from datetime import UTC, datetime

from lms_bridge.domain.model import Delivery
from lms_bridge.policies import load_policy
from lms_bridge.web.pages import exam_form

NOTTINGHAM, _ = load_policy("nottingham")
GOOD = {"exam_id": "E9", "title": "Anatomy", "delivery": "quiz", "start": "2026-12-01T09:30",
        "duration_minutes": "120", "reading_minutes": "", "upload_minutes": "15"}


def test_a_good_form_makes_the_exam_in_the_launch_course() -> None:
    form = exam_form.validate(GOOD, NOTTINGHAM, "canvas:101")
    assert form.ok and not form.errors
    exam = form.exam
    assert exam.exam_id == "E9" and exam.delivery is Delivery.QUIZ and exam.course == "canvas:101"
    assert exam.start == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert (exam.duration_minutes, exam.reading_minutes, exam.upload_minutes) == (120, None, 15)


def test_every_bad_field_gets_its_own_message_and_no_exam() -> None:
    bad = {"exam_id": "", "title": "", "delivery": "essay", "start": "2026-03-29T01:30",
           "duration_minutes": "240", "reading_minutes": "-1", "upload_minutes": "x"}
    form = exam_form.validate(bad, NOTTINGHAM, "canvas:101")
    assert form.exam is None
    assert set(form.errors) == set(exam_form.FIELDS)
    assert form.errors["exam_id"] == "An exam id is required."
    assert form.errors["title"] == "A title is required."
    assert "Unknown delivery 'essay'" in form.errors["delivery"]
    assert "does not exist in Europe/London" in form.errors["start"]
    assert "must be a 24-hour exam" in form.errors["duration_minutes"]
    assert "below the minimum" in form.errors["reading_minutes"]
    assert "not a whole number" in form.errors["upload_minutes"]
    assert form.values["delivery"] == "essay"  # shown back as typed


def test_editing_keeps_the_id() -> None:
    form = exam_form.validate(GOOD | {"exam_id": "HACK"}, NOTTINGHAM, "canvas:101", exam_id="E1")
    assert form.exam.exam_id == "E1"


def test_duration_hint_names_the_allowed_durations() -> None:
    assert exam_form.duration_hint(NOTTINGHAM) == "Under the nottingham policy: 60, 120, 180, or 1440 for a 24-hour exam."
