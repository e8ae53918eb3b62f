"""Plan and apply: read every course back, decide, and converge it through its adapter.

Courses are independent: one failing (an LMS error, a course that does not exist) is reported
and the others go on. Each write is preceded by an audit entry of intent and followed by one of
its outcome, each in its own transaction, so a crash mid-apply loses no record of what may have
been written, and the next run, which always re-reads the LMS first, finishes the job without
duplicating anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..domain.model import ExamPeriod
from ..domain.policy import Policy
from ..lms import CourseRef, CourseTarget, LmsAdapter, ObservedCourse, Student
from .desired import Extension, Paper, TargetReport, course_targets
from .operations import ManualStep, Operation
from .plan import plan_course

log = logging.getLogger("lms_bridge.sync")
COURSES_AT_ONCE = 16  # reads in flight at most; the adapters' clients pace to the LMS's throttle
EXAMS_AT_ONCE = 32  # exams applied side by side; likewise paced by the clients


class AuditSink(Protocol):
    def record(self, *, action: str, entity: str, entity_id: str, before: object, after: object, reason: str) -> None: ...


class NullAudit:
    def record(self, **_: object) -> None:
        return None


@dataclass
class CoursePlan:
    course: CourseRef
    operations: list[Operation] = field(default_factory=list)
    error: str | None = None  # the course could not be read or planned
    applied: int = 0
    failed_at: str | None = None  # the operation that failed during apply, with the error
    manual: list[ManualStep] = field(default_factory=list)  # what the adapter leaves to people
    roster_size: int | None = None  # students read from the LMS (None: the roster was not read)

    @property
    def failed(self) -> bool:
        return self.error is not None or self.failed_at is not None


@dataclass
class SyncPlan:
    courses: list[CoursePlan]
    report: TargetReport

    @property
    def operations(self) -> list[Operation]:
        return [op for c in self.courses for op in c.operations]

    @property
    def manual(self) -> list[ManualStep]:
        return [step for c in self.courses for step in c.manual]


async def plan_sync(
    policy: Policy,
    period: ExamPeriod,
    adapters: Mapping[str, LmsAdapter],
    papers: Mapping[str, Paper] | None = None,
    *,
    courses: Iterable[CourseRef] | None = None,
    extensions: Sequence[Extension] = (),
) -> SyncPlan:
    """Read courses back and plan the operations that converge them: every course of the
    timetable, or only `courses` (a job about one exam). `extensions` are applied incidents'."""
    every = sorted({CourseRef.parse(e.course) for e in period.exams if e.course}, key=str)
    wanted = every if courses is None else sorted(set(courses), key=str)
    needed = set(wanted)
    if policy.twenty_four_hour.clash and any(
        e.is_24_hour for e in period.exams if e.course and CourseRef.parse(e.course) in needed
    ):
        needed |= set(every)  # the clash rule looks at every deadline of the student
    plans = {c: CoursePlan(c) for c in wanted}
    limit = asyncio.Semaphore(COURSES_AT_ONCE)

    async def roster(course: CourseRef) -> tuple[CourseRef, tuple[Student, ...] | None, str | None]:
        adapter = adapters.get(course.lms)
        if adapter is None:
            return course, None, f"no {course.lms} connection is configured"
        async with limit:
            try:
                return course, await adapter.read_roster(course), None
            except Exception as exc:  # noqa: BLE001 - one course's failure is reported, not fatal
                return course, None, _why(exc)

    read = await asyncio.gather(*(roster(c) for c in sorted(needed, key=str)))
    rosters = {c: r for c, r, _ in read if r is not None}
    for course, r, error in read:
        if course in plans:
            plans[course].error = error
            plans[course].roster_size = None if r is None else len(r)
    report = course_targets(policy, period, rosters, papers, extensions)
    unread = [str(c) for c, r, _ in read if r is None]
    if unread and policy.twenty_four_hour.clash:
        # The clash rule reads a student's deadlines in every course: without a roster some are
        # unknown, and a 24-hour deadline planned now could be a day early. Those wait.
        for target in report.targets:
            if target.course in plans and any(_is_24_hour(period, e.exam_id) for e in target.exams):
                plans[target.course].error = plans[target.course].error or (
                    f"not planned: {', '.join(unread)} could not be read, and the clash rule needs "
                    "every deadline of a student with a 24-hour exam here"
                )

    async def observe(target: CourseTarget) -> None:
        adapter = adapters[target.course.lms]
        adjust = getattr(adapter, "adjust_target", None)
        titles = [(e.exam_id, e.title) for e in target.exams]
        async with limit:
            try:
                target = adjust(target) if adjust else target
                observed: ObservedCourse = await adapter.read_course(target.course, titles)
            except Exception as exc:  # noqa: BLE001
                plans[target.course].error = _why(exc)
                return
        operations = plan_course(target, observed)
        by_hand = getattr(adapter, "by_hand", None)
        if by_hand is not None:
            # what this LMS's API cannot do becomes steps for people (the adapter says which)
            try:
                operations, manual = by_hand(target.course, operations)
            except Exception as exc:  # noqa: BLE001
                plans[target.course].error = _why(exc)
                return
            plans[target.course].manual = list(manual)
        plans[target.course].operations = list(operations)

    await asyncio.gather(*(observe(t) for t in report.targets if t.course in plans and plans[t.course].error is None))
    return SyncPlan([plans[c] for c in wanted], report)


def _is_24_hour(period: ExamPeriod, exam_id: str) -> bool:
    return period.exam(exam_id).is_24_hour


async def apply_sync(
    plan: SyncPlan,
    adapters: Mapping[str, LmsAdapter],
    audit: AuditSink | None = None,
    progress: Callable[[Operation, bool], None] | None = None,
) -> SyncPlan:
    """Carry out the plan. An exam's operations run in order (its module before the links to
    it); different exams, in one course or many, run side by side, and the adapter's client
    keeps the LMS's throttle full without overflowing it. A failed operation stops the rest of
    its exam, marks the course failed, and leaves everything else going."""
    audit = audit or NullAudit()
    limit = asyncio.Semaphore(EXAMS_AT_ONCE)

    async def run(course_plan: CoursePlan, ops: list[Operation]) -> None:
        adapter = adapters[course_plan.course.lms]
        async with limit:
            for op in ops:
                entity_id = f"{course_plan.course}/{op.exam_id}"
                action = f"{course_plan.course.lms}.{op.action.name.lower()}"
                audit.record(action=f"{action}.requested", entity="exam", entity_id=entity_id,
                             before=_changes(op, "before"), after=_changes(op, "after"), reason=_reason(op))
                try:
                    await adapter.apply(course_plan.course, op)
                except Exception as exc:  # noqa: BLE001 - the rest of this exam waits for a rerun
                    course_plan.failed_at = course_plan.failed_at or f"{op.action.value} {op.subject}: {_why(exc)}"
                    audit.record(action=f"{action}.failed", entity="exam", entity_id=entity_id,
                                 before=None, after=None, reason=_why(exc))
                    log.warning("course %s: %s failed (%s)", course_plan.course, op.action.value, type(exc).__name__)
                    if progress:
                        progress(op, False)
                    return
                course_plan.applied += 1
                audit.record(action=f"{action}.done", entity="exam", entity_id=entity_id,
                             before=None, after=None, reason=_reason(op))
                if progress:
                    progress(op, True)

    runs = []
    for course_plan in plan.courses:
        if course_plan.error:
            continue
        by_exam: dict[str, list[Operation]] = {}
        for op in course_plan.operations:
            by_exam.setdefault(op.exam_id, []).append(op)
        runs += [run(course_plan, ops) for ops in by_exam.values()]
    await asyncio.gather(*runs)
    return plan


def _why(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _reason(op: Operation) -> str:
    return ", ".join(op.reasons)


def _changes(op: Operation, side: str) -> dict[str, object] | None:
    if not op.changes:
        return None
    return {c.field: _plain(getattr(c, side)) for c in op.changes}


def _plain(value: object) -> object:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Sequence):
        return [_plain(v) for v in value]
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if isoformat else str(value)
