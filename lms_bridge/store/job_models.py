"""Tables of the job system: the scheduler's leader lease and the work queue.

Also what the jobs learn and the exams office acts on: every exam's sync status with its last
LMS read, incidents, release shifts, clarifications and alerts. No table here has a column
for support-plan data, and work items carry ids only (`lms_bridge.jobs.kinds` checks it).

`apscheduler_jobs` is APScheduler 3's own job table (the one-node runtime keeps its fixed
interval jobs there); it is declared here, with APScheduler's exact schema, so migrations own
every table of the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, Index, LargeBinary, String, Text, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, Key, _one_of
from .types import UTCDateTime

WORK_STATES = ("pending", "running", "done", "failed")
EXAM_STATES = ("planned", "applied", "verified", "drifted", "failed")
INCIDENT_STATES = ("recorded", "applied", "failed")
CLARIFICATION_STATES = ("pending", "sent", "failed")


class LeaseRow(Base):
    """A named lease (`scheduler`): who holds it until when, by the database's clock.

    `epoch` goes up each time the lease changes hands: the fencing token a leader shows when
    it enqueues, so a leader that lost the lease without knowing it cannot write."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(Key)
    epoch: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WorkItemRow(Base):
    """One unit of work. `dedupe_key` is unique, so each due job is enqueued exactly once;
    a claim (`claimed_by`, `attempts`) is valid until `claim_expires_at` and is then re-claimed."""

    __tablename__ = "work_items"
    __table_args__ = (
        CheckConstraint(_one_of("state", WORK_STATES), name="state"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index(None, "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)  # ids only
    dedupe_key: Mapped[str] = mapped_column(Key, unique=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    claimed_by: Mapped[str | None] = mapped_column(Key)
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    enqueued_by: Mapped[str] = mapped_column(Key)
    lease_epoch: Mapped[int | None]  # the enqueuing leader's fencing token; None: not the scheduler
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[str | None] = mapped_column(Key)
    result: Mapped[str | None] = mapped_column(Text)  # ids and counts only
    error: Mapped[str | None] = mapped_column(Text)  # ids and counts only


class ExamStatusRow(Base):
    """Where an exam stands in its LMS, and what the last read of the LMS found."""

    __tablename__ = "exam_status"
    __table_args__ = (CheckConstraint(_one_of("state", EXAM_STATES), name="state"),)

    exam_id: Mapped[str] = mapped_column(Key, primary_key=True)
    course: Mapped[str | None] = mapped_column(Key)
    state: Mapped[str] = mapped_column(String(16))
    last_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_read_operations: Mapped[int | None]  # changes the last read found needed
    last_read_differing: Mapped[int | None]  # candidates whose window differed then
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IncidentRow(Base):
    """A disruption and the policy's decision. `affected`: student ids, for special
    consideration as a group; an `extend` keeps moving their windows in every later sync."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint(_one_of("state", INCIDENT_STATES), name="state"),
        CheckConstraint("disruption_minutes > 0", name="minutes_positive"),
        Index(None, "exam_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[str] = mapped_column(Key)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decision: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(Key)
    disruption_minutes: Mapped[int]
    affected: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    recorded_by: Mapped[str] = mapped_column(Key)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReleaseShiftRow(Base):
    """A staggered release: the exam opens `shift_minutes` after its timetabled start.

    Kept beside the timetable rather than written over it, so a re-import of the same
    timetable keeps the shift; once the timetable moves the exam (start no longer
    `original_start`), the shift no longer applies."""

    __tablename__ = "release_shifts"

    exam_id: Mapped[str] = mapped_column(Key, primary_key=True)
    original_start: Mapped[datetime] = mapped_column(UTCDateTime())
    new_start: Mapped[datetime] = mapped_column(UTCDateTime())
    shift_minutes: Mapped[int]
    rule: Mapped[str] = mapped_column(Key)
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(Key)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ClarificationRow(Base):
    """A message to every candidate of an exam (an announcement in each course it runs in)."""

    __tablename__ = "clarifications"
    __table_args__ = (CheckConstraint(_one_of("state", CLARIFICATION_STATES), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[str] = mapped_column(Key)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(Key)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertRow(Base):
    """Something the exams office must look at (drift, a job that gave up). The message names
    the exam and counts, never plan numbers."""

    __tablename__ = "alerts"
    __table_args__ = (Index(None, "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    exam_id: Mapped[str | None] = mapped_column(Key)
    course: Mapped[str | None] = mapped_column(Key)
    work_item_id: Mapped[int | None]
    message: Mapped[str] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(Key)


class ApschedulerJobRow(Base):
    """APScheduler 3's SQLAlchemyJobStore table, exactly as it defines it (id, next run, the
    pickled job). Only fixed jobs without arguments are stored there."""

    __tablename__ = "apscheduler_jobs"

    id: Mapped[str] = mapped_column(Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)
