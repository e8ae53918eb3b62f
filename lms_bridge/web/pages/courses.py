"""One course as the pages see it: its policy, exams, candidates, windows and sync plan.

No Flask here: the background apply (`apply_work`) runs these functions outside any request,
and a queue-backed runner can run them in a worker. Everything is scoped to one course: a
plan is made for the whole period only where the clash rule needs other courses' deadlines,
and even then only this course's operations are shown or applied.
"""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ...connections import Connections, open_connections
from ...domain.model import Exam, ExamPeriod, Sitting, Window
from ...domain.policy import Policy, parse_policy
from ...domain.windows import Timing, WindowCalculator, compute_windows
from ...lms import CourseRef
from ...policies import load_policy
from ...store.audit import StoreAuditSink
from ...store.repositories import active_policy, list_lms_connections, load_period
from ...sync.engine import SyncPlan, apply_sync, plan_sync
from ..apply_runner import ApplyWork, ProgressReporter


@dataclass(frozen=True, slots=True)
class CourseSettings:
    """What the pages need beyond the store. `connections` set explicitly wins over the store's
    LMS connections, which win over LMS_BRIDGE_CANVAS_URL and friends."""

    default_policy: str = "default"
    connections: Connections | None = None


@dataclass(frozen=True, slots=True)
class Loaded:
    policy: Policy
    period: ExamPeriod
    connections: Connections


@dataclass(frozen=True, slots=True)
class Candidates:
    """Who sits the course's exams, and where that came from."""

    student_ids: tuple[str, ...]
    source: str  # "lms": the course roster, read now; "store": the timetable's candidates list
    without_id: int = 0  # roster members the LMS shows no student number for
    error: str | None = None  # the roster could not be read (the store's list is used instead)


def policy_in_use(session: Session, fallback: str) -> Policy:
    """The policy the store has in use, else the named fallback from config/policies."""
    stored = active_policy(session)
    if stored is None:
        return load_policy(fallback)[0]
    return parse_policy(tomllib.loads(stored.text), source=f"stored policy {stored.name}")


def connections_for(session: Session, settings: CourseSettings) -> Connections:
    if settings.connections is not None:
        return settings.connections
    stored = list_lms_connections(session)
    first = {kind: next((c for c in stored if c.kind == kind), None) for kind in ("canvas", "moodle")}
    return Connections.from_options(
        canvas_url=first["canvas"].base_url if first["canvas"] else None,
        canvas_token=first["canvas"].token if first["canvas"] else None,
        moodle_url=first["moodle"].base_url if first["moodle"] else None,
        moodle_token=first["moodle"].token if first["moodle"] else None,
    )


def load(sessions: sessionmaker[Session], settings: CourseSettings) -> Loaded:
    with sessions() as session:
        return Loaded(policy_in_use(session, settings.default_policy), load_period(session),
                      connections_for(session, settings))


def has_connection(connections: Connections, course: str) -> bool:
    lms = CourseRef.parse(course).lms
    return bool(getattr(connections, f"{lms}_url") and getattr(connections, f"{lms}_token"))


def course_exams(period: ExamPeriod, course: str) -> list[Exam]:
    return [e for e in period.exams if e.course == course]


def scoped_period(policy: Policy, period: ExamPeriod, course: str) -> ExamPeriod:
    """The part of the period a plan for `course` needs: its own exams, or, under a clash
    rule (a student's deadlines in every course count), the whole period."""
    if policy.twenty_four_hour.clash:
        return period
    ids = {e.exam_id for e in course_exams(period, course)}
    return ExamPeriod(
        exams=tuple(e for e in period.exams if e.exam_id in ids),
        plans=period.plans,
        sittings=tuple(s for s in period.sittings if s.exam_id in ids),
    )


# --- candidates and windows -------------------------------------------------------------------


def candidates(loaded: Loaded, course: str) -> Candidates:
    """The course roster when an LMS connection is configured, else the stored sittings."""
    stored = tuple(sorted({s.student_id for s in loaded.period.sittings
                           if s.exam_id in {e.exam_id for e in course_exams(loaded.period, course)}}))
    if not has_connection(loaded.connections, course):
        return Candidates(stored, "store")

    async def read() -> Any:
        async with open_connections(loaded.connections, loaded.policy.calendar.zone) as conns:
            adapter = conns.adapters.get(CourseRef.parse(course).lms)
            if adapter is None:
                return None
            return await adapter.read_roster(CourseRef.parse(course))

    try:
        roster = asyncio.run(read())
    except Exception as exc:  # noqa: BLE001 - shown on the page, the stored list used instead
        return Candidates(stored, "store", error=_why(exc))
    if roster is None:
        return Candidates(stored, "store")
    ids = tuple(sorted({s.student_id for s in roster if s.student_id}))
    return Candidates(ids, "lms", without_id=sum(1 for s in roster if not s.student_id))


def course_windows(policy: Policy, period: ExamPeriod, course: str, student_ids: Sequence[str]) -> list[Window]:
    """Every window of the course's exams for these students. Under a clash rule their other
    deadlines count: their stored sittings of other courses' exams are included in the sum."""
    mine = course_exams(period, course)
    ids = {e.exam_id for e in mine}
    sittings = [Sitting(e.exam_id, s) for e in mine for s in student_ids]
    exams: Sequence[Exam] = mine
    if policy.twenty_four_hour.clash:
        wanted = set(student_ids)
        sittings += [s for s in period.sittings if s.exam_id not in ids and s.student_id in wanted]
        exams = period.exams
    windows = compute_windows(policy, exams, period.plans, sittings)
    return [w for w in windows if w.exam_id in ids]


def standard_timing(policy: Policy, exam: Exam) -> Timing:
    return WindowCalculator(policy).timing(exam)


# --- plan and apply ---------------------------------------------------------------------------


async def _plan(loaded: Loaded, course: str, conns: Any) -> SyncPlan:
    plan = await plan_sync(loaded.policy, scoped_period(loaded.policy, loaded.period, course), conns.adapters)
    return SyncPlan([c for c in plan.courses if str(c.course) == course], plan.report)


def plan_for(loaded: Loaded, course: str) -> SyncPlan:
    """Read the course back from its LMS and plan it (writes nothing)."""

    async def run() -> SyncPlan:
        async with open_connections(loaded.connections, loaded.policy.calendar.zone) as conns:
            return await _plan(loaded, course, conns)

    return asyncio.run(run())


def apply_work(sessions: sessionmaker[Session], settings: CourseSettings,
               clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ApplyWork:
    """The background apply of one course: re-read and re-plan (the LMS may have changed
    since the page was shown), then apply, every write audited with `actor`."""

    def work(course: str, actor: str, reporter: ProgressReporter) -> tuple[bool, str]:
        reporter.planning()
        loaded = load(sessions, settings)
        audit = StoreAuditSink(sessions, actor, clock)

        async def run() -> SyncPlan:
            async with open_connections(loaded.connections, loaded.policy.calendar.zone) as conns:
                plan = await _plan(loaded, course, conns)
                reporter.applying(len(plan.operations))
                if plan.operations:
                    await apply_sync(plan, conns.adapters, audit, lambda _op, ok: reporter.step(ok))
                return plan

        plan = asyncio.run(run())
        if not plan.courses:
            return False, "This course has no exams to apply."
        done = plan.courses[0]
        if done.error:
            return False, f"The course could not be planned: {done.error}"
        if done.failed_at:
            return False, (f"Applied {done.applied} of {len(done.operations)} changes, then one failed: "
                           f"{done.failed_at}. Plan again to see what is left; a rerun finishes the job.")
        by_hand = len(getattr(done, "manual", ()))
        left = (f" {by_hand} step{'s' if by_hand != 1 else ''} must still be done by hand in the LMS: "
                "plan again to see them.") if by_hand else ""
        if not done.operations:
            return True, "Nothing to apply: the course already matches the plan." + left
        return True, f"Applied all {done.applied} changes." + left

    return work


def _why(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
