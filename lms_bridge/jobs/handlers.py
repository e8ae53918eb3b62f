"""What each kind of work does. Every handler is idempotent: applying is converging (read the
LMS, write only the difference), and posting looks before it posts, so a run repeated after a
crash makes no duplicate.

A handler returns an `Outcome`: a result line (ids and counts) and a `finish` callback that
the worker runs in the transaction that marks the item done, so what a job records (exam
status, an incident applied, audit entries) is written exactly once, with the completion.
A handler that cannot finish raises; `on_failure` then records why, in the transaction that
schedules the retry or gives up.

Nothing here logs or stores plan data: messages carry exam ids, courses and counts.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..connections import Connections, open_connections
from ..lms import CourseRef
from ..store.audit import StoreAuditSink, append_audit
from ..store.database import session_factory
from ..store.job_models import ClarificationRow, IncidentRow, ReleaseShiftRow
from ..sync.desired import Paper
from ..sync.engine import SyncPlan, apply_sync
from ..sync.operations import Operation
from . import alerts as alert_kinds
from . import clarify, kinds, lease, queue, status
from .alerts import AlertSink
from .converge import CoursesPlan, JobError, StoreState, differing_candidates, load_state, only_exams, plan_courses
from .queue import Claim
from .settings import JobSettings

log = logging.getLogger("lms_bridge.jobs")

Finish = Callable[[Session, datetime], None]
OpenAdapters = Callable[[Connections, Any], AbstractAsyncContextManager[Any]]


class JobFailed(Exception):
    """The work did not finish (an LMS error, a course that could not be read); it is retried.
    The message names ids and counts only."""


class CourseBusy(Exception):
    """Another job is converging the course: the item waits a little, its attempt not counted."""


@dataclass
class JobContext:
    engine: Engine
    node: str
    connections: Connections = field(default_factory=Connections)
    settings: JobSettings = field(default_factory=JobSettings)
    alerts: AlertSink = field(default_factory=AlertSink)
    papers: Mapping[str, Paper] | None = None
    open_adapters: OpenAdapters = open_connections
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def __post_init__(self) -> None:
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        self._locks: dict[str, list[str]] = {}  # holder -> lock names, renewed by the worker
        self._locks_guard = threading.Lock()

    @property
    def actor(self) -> str:
        return f"job:{self.node}"

    @contextmanager
    def course_lock(self, courses: Iterable[CourseRef], *, wait: float = 0.0) -> Iterator[None]:
        """Hold the courses' locks for the block (CourseBusy if another job holds one; with
        `wait`, keep trying that many seconds first)."""
        names = lease.lock_names(courses)
        holder = f"{self.node}#{threading.get_ident()}"
        ttl = self.settings.visibility_seconds
        if not lease.wait_for_locks(self.engine, names, holder, ttl, wait):
            raise CourseBusy(f"{', '.join(n.removeprefix('course:') for n in names)} busy with another job")
        with self._locks_guard:
            self._locks[holder] = names
        try:
            yield
        finally:
            with self._locks_guard:
                self._locks.pop(holder, None)
            lease.unlock(self.engine, names, holder)

    def renew_locks(self) -> None:
        with self._locks_guard:
            held = list(self._locks.items())
        for holder, names in held:
            lease.renew_locks(self.engine, names, holder, self.settings.visibility_seconds)


@dataclass
class Outcome:
    result: str
    finish: Finish | None = None


@dataclass(frozen=True)
class HandlerSpec:
    run: Callable[[JobContext, Claim], Outcome]
    on_failure: Callable[[JobContext, Session, Claim, str, bool, datetime], None] | None = None


# -- converging exams --------------------------------------------------------------------------


@dataclass
class ExamResult:
    exam_id: str
    course: CourseRef
    operations: int  # needed when read
    differing: int  # candidates whose windows differed when read
    applied: int = 0
    failed: int = 0
    manual: int = 0  # steps this LMS's API cannot do, left to people


@dataclass
class ConvergeResult:
    exams: dict[str, ExamResult]
    course_errors: dict[CourseRef, str]

    @property
    def ok(self) -> bool:
        return not self.course_errors and not any(e.failed for e in self.exams.values())


async def converge(
    state: StoreState,
    open_adapters: OpenAdapters,
    connections: Connections,
    courses: list[CourseRef],
    *,
    exam_ids: list[str] | None = None,
    apply: bool = True,
    audit: Any = None,
    papers: Mapping[str, Paper] | None = None,
) -> ConvergeResult:
    """Read the courses back, plan, and (if `apply`) carry out the plan; per exam, what the
    read found and what the apply did. `exam_ids` limits the work to those exams."""
    async with open_adapters(connections, state.policy.calendar.zone) as conns:
        planned: CoursesPlan = await plan_courses(state, conns.adapters, courses, papers)
        plan: SyncPlan = only_exams(planned.plan, exam_ids) if exam_ids is not None else planned.plan
        results: dict[str, ExamResult] = {}
        errors = {c.course: c.error for c in plan.courses if c.error}
        wanted = None if exam_ids is None else set(exam_ids)
        for target in plan.report.targets:
            if target.course in errors or target.course not in planned.roster_sizes:
                continue
            ops_by_exam: dict[str, list[Operation]] = {}
            manual: dict[str, int] = {}
            for c in plan.courses:
                if c.course == target.course:
                    for op in c.operations:
                        ops_by_exam.setdefault(op.exam_id, []).append(op)
                    for step in getattr(c, "manual", ()):
                        manual[step.exam_id] = manual.get(step.exam_id, 0) + 1
            for exam in target.exams:
                if wanted is not None and exam.exam_id not in wanted:
                    continue
                ops = ops_by_exam.get(exam.exam_id, [])
                results[exam.exam_id] = ExamResult(exam.exam_id, target.course, len(ops),
                                                   differing_candidates(ops, planned.roster_sizes[target.course]),
                                                   manual=manual.get(exam.exam_id, 0))
        if apply and plan.operations:
            def progress(op: Operation, ok: bool) -> None:
                found = results.get(op.exam_id)
                if found is not None:
                    if ok:
                        found.applied += 1
                    else:
                        found.failed += 1

            await apply_sync(plan, conns.adapters, audit, progress)
            for c in plan.courses:
                if c.failed_at and not any(results[e].failed for e in results if results[e].course == c.course):
                    errors[c.course] = c.failed_at
        return ConvergeResult(results, errors)


def _audit_sink(ctx: JobContext) -> StoreAuditSink:
    return StoreAuditSink(ctx.sessions, ctx.actor, ctx.clock)


def _state(ctx: JobContext) -> StoreState:
    with ctx.sessions() as session:
        return load_state(session)


def _run_converge(ctx: JobContext, state: StoreState, courses: list[CourseRef], exam_ids: list[str] | None,
                  apply: bool = True) -> ConvergeResult:
    with ctx.course_lock(courses):
        return asyncio.run(converge(state, ctx.open_adapters, ctx.connections, courses, exam_ids=exam_ids,
                                    apply=apply, audit=_audit_sink(ctx), papers=ctx.papers))


def _raise_if_failed(result: ConvergeResult, what: str) -> None:
    if result.course_errors:
        courses = ", ".join(sorted(str(c) for c in result.course_errors))
        raise JobFailed(f"{what}: {courses} could not be read or changed")
    failed = sorted(e.exam_id for e in result.exams.values() if e.failed)
    if failed:
        raise JobFailed(f"{what}: changes to {', '.join(failed)} failed; the rest wait for a retry")


def _applied_finish(result: ConvergeResult) -> Finish:
    def finish(session: Session, now: datetime) -> None:
        for e in result.exams.values():
            notes = [f"{e.applied} of {e.operations} changes applied"] if e.operations else []
            notes += [f"{e.manual} changes to make by hand"] if e.manual else []
            status.record_status(session, e.exam_id, state=status.APPLIED, now=now, course=str(e.course),
                                 operations=e.operations, differing=e.differing,
                                 keep_verified=e.operations == 0 and not e.manual, message="; ".join(notes) or None)
    return finish


def _summary(result: ConvergeResult) -> str:
    ops = sum(e.operations for e in result.exams.values())
    done = sum(e.applied for e in result.exams.values())
    return f"{len(result.exams)} exams read, {ops} changes needed, {done} applied"


def _exam_failure(exam_arg: str = "exam_id") -> Callable[[JobContext, Session, Claim, str, bool, datetime], None]:
    def on_failure(ctx: JobContext, session: Session, claim: Claim, error: str, final: bool, now: datetime) -> None:
        exam_id = claim.args[exam_arg]
        status.record_status(session, exam_id, state=status.FAILED, now=now,
                             message=("gave up: " if final else "will retry: ") + error)
        if final:
            ctx.alerts.raise_(session, kind=alert_kinds.FAILED, at=now, exam_id=exam_id, work_item_id=claim.id,
                              message=f"{claim.kind} for exam {exam_id} failed {claim.attempt} times and gave up: {error}")
    return on_failure


def _course_failure(ctx: JobContext, session: Session, claim: Claim, error: str, final: bool, now: datetime) -> None:
    if final:
        course = claim.args["course"]
        ctx.alerts.raise_(session, kind=alert_kinds.FAILED, at=now, course=course, work_item_id=claim.id,
                          message=f"reconcile of {course} failed {claim.attempt} times and gave up: {error}")


def reconcile_course(ctx: JobContext, claim: Claim) -> Outcome:
    course = CourseRef.parse(claim.args["course"])
    state = _state(ctx)
    with ctx.engine.connect() as connection:
        read_from = lease.db_now(connection)  # the queue's clock
    result = _run_converge(ctx, state, [course], None)
    _raise_if_failed(result, f"reconcile {course}")
    applied = _applied_finish(result)

    def finish(session: Session, now: datetime) -> None:
        applied(session, now)
        # Reconciles of this course queued before this one read it have nothing left to do.
        queue.coalesce(session, f"{kinds.RECONCILE_COURSE}:{course}:", before=read_from, into=claim.id)
    return Outcome(f"{course}: {_summary(result)}", finish)


def apply_exam(ctx: JobContext, claim: Claim) -> Outcome:
    exam_id = claim.args["exam_id"]
    state = _state(ctx)
    result = _run_converge(ctx, state, [state.course_of(exam_id)], [exam_id])
    _raise_if_failed(result, f"apply {exam_id}")
    applied = _applied_finish(result)
    verify_round = claim.args.get("verify_round")
    if verify_round is None:
        return Outcome(f"{exam_id}: {_summary(result)}", applied)

    def finish(session: Session, now: datetime) -> None:  # a repair: read it back again
        applied(session, now)
        queue.enqueue(session, kind=kinds.VERIFY_EXAM, args={"exam_id": exam_id, "round": verify_round},
                      dedupe_key=f"{kinds.VERIFY_EXAM}:{exam_id}:recheck:{claim.id}", enqueued_by=ctx.actor,
                      due_at=now + timedelta(seconds=ctx.settings.recheck_after_seconds),
                      max_attempts=ctx.settings.max_attempts)
    return Outcome(f"{exam_id}: {_summary(result)}; verify again", finish)


def verify_exam(ctx: JobContext, claim: Claim) -> Outcome:
    exam_id = claim.args["exam_id"]
    round_ = claim.args.get("round", 0)
    state = _state(ctx)
    course = state.course_of(exam_id)
    result = _run_converge(ctx, state, [course], [exam_id], apply=False)
    _raise_if_failed(result, f"verify {exam_id}")
    found = result.exams.get(exam_id)
    if found is None:
        raise JobFailed(f"verify {exam_id}: {course} has no roster entry for the exam")
    if found.operations == 0 and found.manual == 0:
        def verified(session: Session, now: datetime) -> None:
            status.record_status(session, exam_id, state=status.VERIFIED, now=now, course=str(course),
                                 operations=0, differing=0)
        return Outcome(f"{exam_id}: verified, every candidate's window matches", verified)

    message = (f"exam {exam_id} in {course} drifted: {found.differing} candidates' windows differ from the plan "
               f"({found.operations} changes needed" + (f", {found.manual} to make by hand)" if found.manual else ")"))
    repair = ctx.settings.repair_drift and round_ < ctx.settings.repair_rounds

    def drifted(session: Session, now: datetime) -> None:
        status.record_status(session, exam_id, state=status.DRIFTED, now=now, course=str(course),
                             operations=found.operations, differing=found.differing,
                             message=message + ("; a repair is queued" if repair else ""))
        ctx.alerts.raise_(session, kind=alert_kinds.DRIFT, at=now, exam_id=exam_id, course=str(course),
                          work_item_id=claim.id, message=message)
        if repair:  # converge it, then read it back (the apply queues the re-verify when done)
            queue.enqueue(session, kind=kinds.APPLY_EXAM, args={"exam_id": exam_id, "verify_round": round_ + 1},
                          dedupe_key=f"{kinds.APPLY_EXAM}:{exam_id}:repair:{claim.id}", enqueued_by=ctx.actor,
                          max_attempts=ctx.settings.max_attempts)
    return Outcome(f"{exam_id}: drifted, {found.differing} candidates differ, {found.operations} changes needed",
                   drifted)


def apply_incident(ctx: JobContext, claim: Claim) -> Outcome:
    incident_id = claim.args["incident_id"]
    with ctx.sessions() as session:
        row = session.get(IncidentRow, incident_id)
        if row is None:
            raise JobError(f"incident {incident_id} does not exist")
        exam_id, decision = row.exam_id, row.decision
        state = load_state(session)
    if decision != "extend":
        def flagged(session: Session, now: datetime) -> None:
            _mark_incident(ctx, session, incident_id, now, applied=False)
        return Outcome(f"incident {incident_id}: {decision}, nothing to change in the LMS", flagged)
    result = _run_converge(ctx, state, [state.course_of(exam_id)], [exam_id])
    _raise_if_failed(result, f"incident {incident_id} on {exam_id}")
    applied = _applied_finish(result)

    def finish(session: Session, now: datetime) -> None:
        applied(session, now)
        _mark_incident(ctx, session, incident_id, now, applied=True)
    return Outcome(f"incident {incident_id} on {exam_id}: {_summary(result)}", finish)


def _mark_incident(ctx: JobContext, session: Session, incident_id: int, now: datetime, *, applied: bool) -> None:
    row = session.get(IncidentRow, incident_id, with_for_update=True)
    if row is None or row.state == "applied":
        return
    row.state = "applied"
    row.applied_at = now
    append_audit(session, actor=ctx.actor, action="incident.applied" if applied else "incident.flagged",
                 entity="incident", entity_id=str(incident_id), before=None,
                 after={"exam_id": row.exam_id, "decision": row.decision, "affected": len(row.affected)},
                 reason=row.rule, at=now)


def _incident_failure(ctx: JobContext, session: Session, claim: Claim, error: str, final: bool, now: datetime) -> None:
    row = session.get(IncidentRow, claim.args["incident_id"])
    if row is None:
        return
    if final:
        row.state = "failed"
        ctx.alerts.raise_(session, kind=alert_kinds.INCIDENT, at=now, exam_id=row.exam_id, work_item_id=claim.id,
                          message=f"incident {row.id} on exam {row.exam_id} could not be applied: {error}")
    status.record_status(session, row.exam_id, state=status.FAILED, now=now,
                         message=("gave up: " if final else "will retry: ") + error)


def apply_stagger(ctx: JobContext, claim: Claim) -> Outcome:
    exam_id = claim.args["exam_id"]
    with ctx.sessions() as session:
        shift = session.get(ReleaseShiftRow, exam_id)
        if shift is None:
            raise JobError(f"exam {exam_id} has no staggered release")
        state = load_state(session)
    result = _run_converge(ctx, state, [state.course_of(exam_id)], [exam_id])
    _raise_if_failed(result, f"staggered release of {exam_id}")
    applied = _applied_finish(result)

    def finish(session: Session, now: datetime) -> None:
        applied(session, now)
        row = session.get(ReleaseShiftRow, exam_id, with_for_update=True)
        if row is not None and row.applied_at is None:
            row.applied_at = now
            append_audit(session, actor=ctx.actor, action="release_shift.applied", entity="exam", entity_id=exam_id,
                         before={"start": row.original_start.isoformat()}, after={"start": row.new_start.isoformat()},
                         reason=row.rule, at=now)
    return Outcome(f"staggered release of {exam_id}: {_summary(result)}", finish)


def send_clarification(ctx: JobContext, claim: Claim) -> Outcome:
    clarification_id = claim.args["clarification_id"]
    with ctx.sessions() as session:
        row = session.get(ClarificationRow, clarification_id)
        if row is None:
            raise JobError(f"clarification {clarification_id} does not exist")
        subject, body, exam_id = row.subject, row.body, row.exam_id
        state = load_state(session)
    exam = state.exam(exam_id)
    courses = clarify.exam_courses(state.period, exam_id)
    if not courses:
        raise JobError(f"exam {exam_id} has no course to announce in")

    async def post() -> list[tuple[CourseRef, str, bool]]:
        async with ctx.open_adapters(ctx.connections, state.policy.calendar.zone) as conns:
            out = []
            for course in courses:
                port = clarify.announcement_port(conns.adapters, course.lms)
                ident, new = await clarify.post_clarification(port, course, exam, clarification_id, subject, body)
                out.append((course, ident, new))
            return out

    from adapters.moodle.errors import (MoodleAccessException, MoodleConfigurationError, MoodleInvalidToken,
                                        MoodleMissingFunction, MoodlePermissionError, MoodleUnknownFunction)

    try:
        posted = asyncio.run(post())
    except clarify.NoAnnouncements as exc:
        raise JobError(str(exc)) from None
    except (MoodleAccessException, MoodleConfigurationError, MoodleInvalidToken, MoodleMissingFunction,
            MoodlePermissionError, MoodleUnknownFunction) as exc:
        # The site's set-up refuses it: a retry cannot succeed until an admin acts, so fail now.
        raise JobError(str(exc)) from None

    def finish(session: Session, now: datetime) -> None:
        row = session.get(ClarificationRow, clarification_id, with_for_update=True)
        for course, ident, new in posted:
            append_audit(session, actor=ctx.actor, action="clarification.posted" if new else "clarification.found",
                         entity="clarification", entity_id=f"{clarification_id}/{course}", before=None,
                         after={"exam_id": exam_id, "course": str(course), "announcement_id": ident}, reason=None,
                         at=now)
        if row is not None:
            row.state = "sent"
            row.sent_at = now
    new_posts = sum(1 for _, _, new in posted if new)
    return Outcome(f"clarification {clarification_id} on {exam_id}: posted in {new_posts} of {len(posted)} courses",
                   finish)


def _clarification_failure(ctx: JobContext, session: Session, claim: Claim, error: str, final: bool,
                           now: datetime) -> None:
    row = session.get(ClarificationRow, claim.args["clarification_id"])
    if row is not None and final:
        row.state = "failed"
        ctx.alerts.raise_(session, kind=alert_kinds.FAILED, at=now, exam_id=row.exam_id, work_item_id=claim.id,
                          message=f"clarification {row.id} for exam {row.exam_id} could not be sent: {error}")


def probe(ctx: JobContext, claim: Claim) -> Outcome:
    key = claim.args["key"]
    log.info("probe %s started (item %d, attempt %d)", key, claim.id, claim.attempt)
    pause = claim.args.get("sleep_ms", 0)
    if pause:
        time.sleep(pause / 1000)

    def finish(session: Session, now: datetime) -> None:
        append_audit(session, actor=ctx.actor, action="job.probe", entity="work_item", entity_id=key,
                     before=None, after={"item": claim.id, "attempt": claim.attempt}, reason=None, at=now)
    return Outcome(f"probe {key}", finish)


HANDLERS: dict[str, HandlerSpec] = {
    kinds.RECONCILE_COURSE: HandlerSpec(reconcile_course, _course_failure),
    kinds.APPLY_EXAM: HandlerSpec(apply_exam, _exam_failure()),
    kinds.VERIFY_EXAM: HandlerSpec(verify_exam, _exam_failure()),
    kinds.APPLY_INCIDENT: HandlerSpec(apply_incident, _incident_failure),
    kinds.APPLY_STAGGER: HandlerSpec(apply_stagger, _exam_failure()),
    kinds.SEND_CLARIFICATION: HandlerSpec(send_clarification, _clarification_failure),
    kinds.PROBE: HandlerSpec(probe),
}
