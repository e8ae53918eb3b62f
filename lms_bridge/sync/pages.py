"""The exam information page: the academic-integrity statement and the exam's rubric (seed 002
§5.1, §6.3). It describes the exam, never a student: no support-plan data goes into the LMS."""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from ..domain.model import Exam

INTEGRITY_STATEMENT = (
    "By starting this examination you confirm that the work you submit is entirely your own, "
    "that you will not communicate with anyone about the examination while it is open, and that "
    "you will use only the materials the rubric allows. Suspected breaches are dealt with under "
    "the academic misconduct procedure."
)


def exam_page_html(exam: Exam, institution: str, due_at: datetime, reading: int, zone: ZoneInfo) -> str:
    s = exam.setup
    local = exam.start.astimezone(zone)
    duration = "24 hours" if exam.is_24_hour else f"{exam.duration_minutes} minutes"
    if reading:
        duration += f" (plus {reading} minutes of reading time)"
    rows = [
        ("Institution", institution),
        ("Division", s.division),
        ("Programme(s)", s.programmes),
        ("Level", s.level),
        ("Module", exam.title),
        ("Module code", s.module_code),
        ("Academic session", s.session),
        ("Date and release time", f"{local:%A %d %B %Y, %H:%M %Z}"),
        ("Duration", duration),
        ("Standard deadline", f"{due_at.astimezone(zone):%A %d %B %Y, %H:%M %Z}"),
        ("Instructions to candidates", s.instructions),
        ("Paper setter", s.paper_setter),
    ]
    table = "".join(f"<tr><th scope=\"row\">{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows if v)
    return (
        f"<h2>{escape(exam.title)}</h2>"
        f"<table class=\"exam-rubric\">{table}</table>"
        "<h3>Academic integrity</h3>"
        f"<p>{escape(INTEGRITY_STATEMENT)}</p>"
        "<p>If your support plan gives you extra time, your own deadline is shown on the exam itself.</p>"
    )
