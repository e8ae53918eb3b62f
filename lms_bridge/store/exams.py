"""Course-scoped reads and writes of exams, for the tool's pages.

An exam setter launched from one course sees and edits that course's exams only: an exam of
another course is "not found" here, never readable or writable through it. Every change is
audited like an import's (`exam.created` / `exam.updated`, the same JSON form), with the
person who made it as actor. Nothing commits; the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain.model import Exam
from .audit import append_audit
from .errors import NotFoundError, StoreError
from .models import AuditRow, ExamRow

# The import's own JSON form and row mapping: one shape for every exam entry in the audit log.
from .repositories import exam_from_row, exam_json, exam_row_json, set_exam_row
from .types import require_aware

EDIT_REASON = "edited in the LTI tool"
Saved = Literal["created", "updated", "unchanged"]


class ExamIdTakenError(StoreError, ValueError):
    """The exam id is already used (in this course or another); nothing was written."""


class WrongCourseError(StoreError, ValueError):
    """The exam names a different course from the one it is saved through."""


def course_exams(session: Session, course: str) -> list[Exam]:
    """The course's exams, by start then id (ordered in Python, as `load_period` does)."""
    rows = session.scalars(select(ExamRow).where(ExamRow.course == course))
    return sorted((exam_from_row(r) for r in rows), key=lambda e: (e.start, e.exam_id))


def course_exam(session: Session, course: str, exam_id: str) -> Exam | None:
    """One exam of the course, or None (also when the id belongs to another course)."""
    row = _row(session, course, exam_id)
    return None if row is None else exam_from_row(row)


def _row(session: Session, course: str, exam_id: str) -> ExamRow | None:
    return session.scalars(select(ExamRow).where(ExamRow.exam_id == exam_id, ExamRow.course == course)).first()


def exam_id_in_use(session: Session, exam_id: str) -> bool:
    return session.scalar(select(func.count()).select_from(ExamRow).where(ExamRow.exam_id == exam_id)) > 0


def save_course_exam(
    session: Session,
    course: str,
    exam: Exam,
    *,
    create: bool,
    actor: str,
    now: datetime,
    reason: str = EDIT_REASON,
) -> Saved:
    """Create (`create=True`) or update one exam of `course`, audited; flushes, never commits.

    Creating refuses an id in use anywhere (ExamIdTakenError); updating refuses an exam the
    course does not hold (NotFoundError). The exam's setup fields are not stored (the store
    keeps timing only), so they are not compared either.
    """
    require_aware(now, "now")
    if exam.course != course:
        raise WrongCourseError(f"exam {exam.exam_id!r} names course {exam.course!r}, not {course!r}")
    after = exam_json(exam)
    if create:
        if exam_id_in_use(session, exam.exam_id):
            raise ExamIdTakenError(f"exam id {exam.exam_id} is already in use")
        row = ExamRow()
        set_exam_row(row, after, now)
        session.add(row)
        _audit(session, "exam.created", exam.exam_id, None, after, actor, now, reason)
        session.flush()
        return "created"
    row = _row(session, course, exam.exam_id)
    if row is None:
        raise NotFoundError(f"exam {exam.exam_id!r} is not an exam of {course}")
    before = exam_row_json(row)
    if before == after:
        return "unchanged"
    set_exam_row(row, after, now)
    _audit(session, "exam.updated", exam.exam_id, before, after, actor, now, reason)
    session.flush()
    return "updated"


def _audit(session: Session, action: str, exam_id: str, before, after, actor: str, now: datetime, reason: str) -> None:  # noqa: ANN001
    append_audit(session, actor=actor, action=action, entity="exam", entity_id=exam_id,
                 before=before, after=after, reason=reason, at=now)


def last_applied(session: Session, course: str) -> dict[str, datetime]:
    """When each exam of the course last had a change written to its LMS (exam id -> time),
    from the apply engine's `<lms>.<action>.done` audit entries (entity id `<course>/<exam id>`)."""
    prefix = f"{course}/"
    query = (
        select(AuditRow.entity_id, func.max(AuditRow.at))
        .where(AuditRow.entity == "exam", AuditRow.entity_id.startswith(prefix, autoescape=True),
               AuditRow.action.endswith(".done"))
        .group_by(AuditRow.entity_id)
    )
    return {entity_id[len(prefix):]: at for entity_id, at in session.execute(query)}
