"""What the jobs converge: the store's exam period as it stands (staggered releases and
incident extensions included), planned course by course against the LMS.

`plan_courses` is `sync.engine.plan_sync` scoped to some courses: a job about one exam or
one course reads that course (and, only when the policy's clash rule needs every deadline of
a student with a 24-hour exam there, the other rosters too), never the whole institution.
The result is an ordinary `SyncPlan`, so `sync.engine.apply_sync` carries it out.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.model import Exam, ExamPeriod
from ..domain.policy import Policy, parse_policy
from ..domain.windows import WindowCalculator
from ..lms import CourseRef, LmsAdapter
from ..store.job_models import IncidentRow, ReleaseShiftRow
from ..store.models import ExamRow
from ..store.repositories import active_policy, exam_from_row, load_period
from ..sync.desired import Extension, Paper
from ..sync.engine import CoursePlan, SyncPlan, plan_sync
from ..sync.operations import Action, Operation
from .schedule import ScheduledExam


class JobError(Exception):
    """Work that cannot be done as asked; the message names ids only."""


@dataclass(frozen=True, slots=True)
class StoreState:
    policy: Policy
    period: ExamPeriod  # starts are the effective (staggered) ones
    extensions: tuple[Extension, ...]

    def exam(self, exam_id: str) -> Exam:
        try:
            return self.period.exam(exam_id)
        except KeyError:
            raise JobError(f"exam {exam_id} is not in the store") from None

    def course_of(self, exam_id: str) -> CourseRef:
        exam = self.exam(exam_id)
        if not exam.course:
            raise JobError(f"exam {exam_id} has no course: it is not in any LMS")
        return CourseRef.parse(exam.course)


def policy_from_text(name: str, text: str) -> Policy:
    return parse_policy(tomllib.loads(text), source=f"stored policy {name}")


def shifted(period: ExamPeriod, shifts: Mapping[str, tuple]) -> ExamPeriod:
    """The period with each staggered release moved: (original_start, new_start) by exam id,
    applied only while the exam still starts at its original start."""
    if not shifts:
        return period
    exams = []
    for exam in period.exams:
        shift = shifts.get(exam.exam_id)
        if shift is not None and exam.start == shift[0]:
            exam = replace(exam, start=shift[1])
        exams.append(exam)
    return replace(period, exams=tuple(exams))


def load_state(session: Session) -> StoreState:
    stored = active_policy(session)
    if stored is None:
        raise JobError("the store holds no policy yet: import a timetable first")
    policy = policy_from_text(stored.name, stored.text)
    shifts = {r.exam_id: (r.original_start, r.new_start) for r in session.scalars(select(ReleaseShiftRow))}
    period = shifted(load_period(session), shifts)
    return StoreState(policy, period, stored_extensions(session))


def load_schedule_state(session: Session) -> StoreState:
    """What scheduling needs, and no more: the policy, the exams (no plans, no sittings: a tick
    runs every few seconds and must not read a whole period), shifts and extensions."""
    stored = active_policy(session)
    if stored is None:
        raise JobError("the store holds no policy yet: import a timetable first")
    policy = policy_from_text(stored.name, stored.text)
    exams = tuple(exam_from_row(r) for r in session.scalars(select(ExamRow)))
    shifts = {r.exam_id: (r.original_start, r.new_start) for r in session.scalars(select(ReleaseShiftRow))}
    return StoreState(policy, shifted(ExamPeriod(exams, {}, ()), shifts), stored_extensions(session))


def stored_extensions(session: Session) -> tuple[Extension, ...]:
    rows = session.scalars(select(IncidentRow).where(IncidentRow.decision == "extend").order_by(IncidentRow.id))
    return tuple(
        Extension(r.exam_id, r.starts_at, r.disruption_minutes, r.rule, frozenset(r.affected)) for r in rows
    )


def scheduled_exams(state: StoreState) -> list[ScheduledExam]:
    """The exams as scheduling sees them: effective start and standard close."""
    calc = WindowCalculator(state.policy)
    out = []
    for exam in state.period.exams:
        timing = calc.timing(exam)
        closes = timing.closes_at
        for ext in state.extensions:
            if ext.exam_id == exam.exam_id and timing.opens_at <= ext.starts_at < closes:
                closes += timedelta(minutes=ext.minutes)
        out.append(ScheduledExam(exam.exam_id, exam.course, exam.start, closes))
    return out


@dataclass
class CoursesPlan:
    plan: SyncPlan
    roster_sizes: dict[CourseRef, int]


async def plan_courses(
    state: StoreState,
    adapters: Mapping[str, LmsAdapter],
    courses: Iterable[CourseRef],
    papers: Mapping[str, Paper] | None = None,
) -> CoursesPlan:
    """Read `courses` back and plan the operations that converge them to the store's period."""
    plan = await plan_sync(state.policy, state.period, adapters, papers, courses=courses, extensions=state.extensions)
    return CoursesPlan(plan, {c.course: c.roster_size for c in plan.courses if c.roster_size is not None})


def only_exams(plan: SyncPlan, exam_ids: Iterable[str]) -> SyncPlan:
    """The plan with only these exams' operations (a job about one exam touches no other)."""
    keep = set(exam_ids)
    courses = []
    for c in plan.courses:
        copy = CoursePlan(c.course, [op for op in c.operations if op.exam_id in keep], c.error)
        copy.manual = [m for m in getattr(c, "manual", ()) if m.exam_id in keep]
        courses.append(copy)
    return SyncPlan(courses, plan.report)


_EVERYONE = {Action.CREATE_ASSESSMENT, Action.RETIRE_ASSESSMENT}
_WINDOW_FIELDS = {"opens", "due", "closes", "time limit", "published"}


def differing_candidates(operations: Sequence[Operation], roster_size: int) -> int:
    """How many candidates' windows the operations would change: all of them when the
    assessment itself is missing or its standard window differs, else those in the override
    and extra-time changes. A count, never whose or by how much."""
    users: set[str] = set()
    for op in operations:
        if op.action in _EVERYONE:
            return roster_size
        if op.action is Action.UPDATE_ASSESSMENT and any(c.field in _WINDOW_FIELDS for c in op.changes):
            return roster_size
        if op.action is Action.SET_OVERRIDES and op.overrides is not None:
            for obs, tgt in op.overrides.keep:
                if obs.dates != tgt.dates:
                    users |= obs.lms_user_ids | tgt.lms_user_ids
                else:
                    users |= obs.lms_user_ids ^ tgt.lms_user_ids
            for tgt in op.overrides.create:
                users |= tgt.lms_user_ids
            for obs in op.overrides.delete:
                users |= obs.lms_user_ids
        if op.action is Action.SET_EXTRA_TIME:
            users |= set(op.extra_minutes)
    return min(len(users), roster_size) if roster_size else len(users)

