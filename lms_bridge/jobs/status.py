"""Every exam's status in its LMS and what the last read of the LMS found.

    planned   in the timetable, nothing applied by a job yet (no row)
    applied   the last apply converged it (or a read found nothing to change)
    verified  a verify read it back and every candidate's window matched the plan
    drifted   a verify found differences (an alert was raised; a repair may be queued)
    failed    the last apply or verify could not finish (it is retried; alerted when it gives up)

Written by the jobs in their completion transaction; read by the exams office's pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store.job_models import ExamStatusRow
from ..store.models import ExamRow
from ..store.types import require_aware

PLANNED, APPLIED, VERIFIED, DRIFTED, FAILED = "planned", "applied", "verified", "drifted", "failed"


@dataclass(frozen=True, slots=True)
class ExamStatus:
    exam_id: str
    title: str | None
    course: str | None
    start: datetime | None  # the timetable's start (a staggered release is shown by the pages from the shift)
    state: str
    last_read_at: datetime | None = None
    last_read_operations: int | None = None  # changes the last read found needed
    last_read_differing: int | None = None  # candidates whose windows differed then
    applied_at: datetime | None = None
    verified_at: datetime | None = None
    message: str | None = None
    updated_at: datetime | None = None


def record_status(
    session: Session,
    exam_id: str,
    *,
    state: str,
    now: datetime,
    course: str | None = None,
    operations: int | None = None,
    differing: int | None = None,
    message: str | None = None,
    keep_verified: bool = False,
) -> None:
    """Upsert the exam's status in the caller's transaction. `operations`/`differing` given:
    this was an LMS read (its time becomes `last_read_at`). `keep_verified`: an apply that
    changed nothing leaves a verified exam verified."""
    require_aware(now, "now")
    row = session.get(ExamStatusRow, exam_id, with_for_update=True)
    if row is None:
        row = ExamStatusRow(exam_id=exam_id, state=state, updated_at=now)
        session.add(row)
    elif keep_verified and row.state == VERIFIED and state == APPLIED:
        state = VERIFIED
    row.state = state
    row.updated_at = now
    if course is not None:
        row.course = course
    if operations is not None:
        row.last_read_at = now
        row.last_read_operations = operations
        row.last_read_differing = differing
    if state == APPLIED:
        row.applied_at = now
    if state == VERIFIED and not (keep_verified and row.verified_at is not None):
        row.verified_at = now
    row.message = message


def exam_statuses(session: Session, *, course: str | None = None) -> list[ExamStatus]:
    """Every exam of the timetable with its status (`planned` when no job has touched it),
    plus any status whose exam has since left the timetable; by start, then id."""
    exams = {r.exam_id: r for r in session.scalars(select(ExamRow))}
    rows = {r.exam_id: r for r in session.scalars(select(ExamStatusRow))}
    out = []
    for exam_id in exams.keys() | rows.keys():
        exam, row = exams.get(exam_id), rows.get(exam_id)
        where = exam.course if exam is not None else row.course if row is not None else None
        if course is not None and where != course:
            continue
        base = {"exam_id": exam_id, "title": exam.title if exam else None, "course": where,
                "start": exam.start_at if exam else None}
        if row is None:
            out.append(ExamStatus(state=PLANNED, **base))
        else:
            out.append(ExamStatus(
                state=row.state, last_read_at=row.last_read_at, last_read_operations=row.last_read_operations,
                last_read_differing=row.last_read_differing, applied_at=row.applied_at,
                verified_at=row.verified_at, message=row.message, updated_at=row.updated_at, **base,
            ))
    far = datetime.max.replace(tzinfo=None)
    return sorted(out, key=lambda s: (s.start.replace(tzinfo=None) if s.start else far, s.exam_id))


def exam_status(session: Session, exam_id: str) -> ExamStatus | None:
    found = [s for s in exam_statuses(session) if s.exam_id == exam_id]
    return found[0] if found else None
