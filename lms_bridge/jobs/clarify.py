"""Clarifications: one message to every candidate of an exam, in every course it runs in.

In Canvas it is a course announcement (POST /api/v1/courses/:id/discussion_topics with
is_announcement=true); in Moodle a discussion in the course's announcements ("news") forum
(mod_forum_add_discussion). Either way the subject carries a tag, `[<exam id>/<number>]`, and
the port looks for it before posting, so a retried job never posts twice.

An adapter takes part by providing the two methods of `AnnouncementPort` (the Canvas one is
here, over the Canvas client; the Moodle adapter, adapters.moodle.adapter.MoodleAdapter, implements
them itself over the course's Announcements forum).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from ..domain.model import Exam, ExamPeriod
from ..lms import CourseRef


@runtime_checkable
class AnnouncementPort(Protocol):
    async def find_announcement(self, course: CourseRef, tag: str) -> str | None:
        """The id of a course announcement whose subject ends with `tag`, or None."""
        ...

    async def post_announcement(self, course: CourseRef, subject: str, message_html: str) -> str:
        """Post an announcement to every student of the course; its id."""
        ...


class NoAnnouncements(Exception):
    """The course's LMS adapter cannot post announcements."""


def tag(exam_id: str, clarification_id: int) -> str:
    return f"[{exam_id}/{clarification_id}]"


def subject_line(exam: Exam, subject: str, clarification_id: int) -> str:
    return f"{subject.strip()} ({exam.title}) {tag(exam.exam_id, clarification_id)}"


def message_html(body: str) -> str:
    """Plain text as typed by the exams office, escaped, paragraphs kept."""
    paragraphs = [p.strip() for p in body.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def exam_courses(period: ExamPeriod, exam_id: str) -> list[CourseRef]:
    """Every course the exam runs in: its own, and those of exams with the same title and the
    same start (one paper sat in several courses, each with its own timetable row)."""
    exam = period.exam(exam_id)
    courses = {e.course for e in period.exams
               if e.course and (e.exam_id == exam_id or (e.title == exam.title and e.start == exam.start))}
    return sorted((CourseRef.parse(c) for c in courses), key=str)


class CanvasAnnouncements:
    """AnnouncementPort over the Canvas REST client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @staticmethod
    def _course_path(course: CourseRef) -> str:
        return f"/courses/{course.id}"

    async def find_announcement(self, course: CourseRef, tag_text: str) -> str | None:
        rows = await self.client.get_all(f"{self._course_path(course)}/discussion_topics",
                                         {"only_announcements": "true"})
        for row in rows:
            if str(row.get("title", "")).endswith(tag_text):
                return str(row["id"])
        return None

    async def post_announcement(self, course: CourseRef, subject: str, message: str) -> str:
        body = {"title": subject, "message": message, "is_announcement": True, "published": True}
        created = await self.client.post(f"{self._course_path(course)}/discussion_topics", json=body)
        return str(created["id"])


def announcement_port(adapters: Mapping[str, Any], lms: str) -> AnnouncementPort:
    """The port for one LMS: the adapter itself if it implements it (Moodle), else (Canvas) one
    over the adapter's client."""
    adapter = adapters.get(lms)
    if adapter is None:
        raise NoAnnouncements(f"no {lms} connection is configured")
    if isinstance(adapter, AnnouncementPort):
        return adapter  # MoodleAdapter: find_announcement / post_announcement in the Announcements forum
    if lms == "canvas" and getattr(adapter, "client", None) is not None:
        return CanvasAnnouncements(adapter.client)
    raise NoAnnouncements(
        f"the {lms} adapter cannot post announcements yet (it needs find_announcement and post_announcement)"
    )


async def post_clarification(port: AnnouncementPort, course: CourseRef, exam: Exam, clarification_id: int,
                             subject: str, body: str) -> tuple[str, bool]:
    """Post once: (announcement id, True if posted now / False if it was already there)."""
    found = await port.find_announcement(course, tag(exam.exam_id, clarification_id))
    if found is not None:
        return found, False
    posted = await port.post_announcement(course, subject_line(exam, subject, clarification_id), message_html(body))
    return posted, True
