"""The exams office's services, for its pages and the command line.

    exam_statuses(session)                      every exam's status and last LMS read
    audit_log(session, AuditFilter(...))        the audit log, filtered, newest first
    audit_filter_choices(session)               the values the filters can take
    preview_incident(session, exam_id, start, end, candidates=None)
                                                the policy's decision and the affected candidates
    record_incident(session, preview, actor=, now=)      store it (and queue its LMS change)
    incident_affected_csv(session, incident_id) the affected candidates, for special consideration
    create_clarification(session, exam_id, subject, body, actor=, now=)
                                                a message to every candidate, queued for each course
    record_release_shifts(session, plan, actor=, now=)   staggered releases, queued for the LMS
    list_alerts / acknowledge_alert             the dashboard's alerts
    list_work(session, ...)                     the queue

None of these commits: the caller owns the transaction (work queued in it is only visible
to workers once it commits). Inline variants for the command line (`apply_incident_now`,
`apply_stagger_now`) converge the LMS at once and queue a retry if that fails.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from ..connections import Connections, open_connections
from ..domain.incidents import IncidentDecision
from ..domain.model import ExamPeriod, Sitting, Window
from ..domain.policy import Policy
from ..domain.staggering import StaggerPlan
from ..services import incident_for
from ..store.audit import AuditRecord, StoreAuditSink, append_audit
from ..store.database import session_factory
from ..store.job_models import ClarificationRow, IncidentRow, ReleaseShiftRow, WorkItemRow
from ..store.models import AuditRow
from ..store.types import require_aware
from . import kinds, queue
from .alerts import Alert, acknowledge_alert, list_alerts
from .converge import JobError, StoreState, load_state, shifted, stored_extensions
from .handlers import ConvergeResult, JobContext, converge
from .settings import JobSettings

INLINE_LOCK_SECONDS = 900.0
INLINE_LOCK_WAIT = 120.0
from .status import APPLIED, ExamStatus, exam_status, exam_statuses, record_status

__all__ = [
    "Alert", "AuditFilter", "ExamStatus", "IncidentPreview", "WorkItem", "acknowledge_alert", "affected_courses",
    "apply_incident_now", "apply_stagger_now", "audit_filter_choices", "audit_log", "create_clarification",
    "enqueue_reconcile", "exam_status", "exam_statuses", "incident_affected_csv", "list_alerts", "list_incidents",
    "list_work", "preview_incident", "record_incident", "record_release_shifts",
]


# -- the audit log -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditFilter:
    entity: str | None = None  # "exam", "incident", "plan", ...
    entity_id: str | None = None  # exact; or a prefix when it ends with "*" ("canvas:101/*")
    actor: str | None = None
    action: str | None = None  # exact; or a prefix when it ends with "*" ("canvas.*", "incident.*")
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    text: str | None = None  # in the action, entity id or reason
    limit: int = 100
    offset: int = 0


def _match(column, value: str):  # noqa: ANN001, ANN202
    if value.endswith("*"):
        return column.startswith(value[:-1], autoescape=True)
    return column == value


def audit_log(session: Session, f: AuditFilter = AuditFilter()) -> list[AuditRecord]:
    """Matching entries, newest first (by time, then order of writing)."""
    query = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc())
    if f.entity:
        query = query.where(AuditRow.entity == f.entity)
    if f.entity_id:
        query = query.where(_match(AuditRow.entity_id, f.entity_id))
    if f.actor:
        query = query.where(_match(AuditRow.actor, f.actor))
    if f.action:
        query = query.where(_match(AuditRow.action, f.action))
    if f.since is not None:
        require_aware(f.since, "since")
        query = query.where(AuditRow.at >= f.since)
    if f.until is not None:
        require_aware(f.until, "until")
        query = query.where(AuditRow.at < f.until)
    if f.text:
        needle = f"%{f.text.lower()}%"
        query = query.where(or_(func.lower(AuditRow.action).like(needle), func.lower(AuditRow.entity_id).like(needle),
                                func.lower(func.coalesce(AuditRow.reason, "")).like(needle)))
    query = query.limit(max(1, min(f.limit, 1000))).offset(max(f.offset, 0))
    return [AuditRecord(r.id, r.at, r.actor, r.action, r.entity, r.entity_id, r.before, r.after, r.reason)
            for r in session.scalars(query)]


def audit_filter_choices(session: Session) -> dict[str, list[str]]:
    """The distinct entities, actions and actors in the log (for the filter menus)."""
    return {
        name: sorted(v for v in session.scalars(select(column).distinct()) if v is not None)
        for name, column in (("entity", AuditRow.entity), ("action", AuditRow.action), ("actor", AuditRow.actor))
    }


# -- incidents -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncidentPreview:
    exam_id: str
    title: str
    course: str | None
    starts_at: datetime
    ends_at: datetime
    decision: str
    rule: str
    fraction: Fraction
    disruption_minutes: int
    affected: tuple[str, ...]
    windows: tuple[Window, ...]  # every candidate's window after the decision

    @property
    def changes_lms(self) -> bool:
        """Only `extend` changes windows; every other decision flags the candidates."""
        return self.decision == "extend"

    @classmethod
    def of(cls, period: ExamPeriod, exam_id: str, start: datetime, end: datetime,
           decision: IncidentDecision) -> IncidentPreview:
        exam = period.exam(exam_id)
        return cls(exam_id, exam.title, exam.course, start, end, decision.decision, decision.rule,
                   decision.fraction, decision.disruption_minutes, decision.affected, decision.windows)


def preview_incident(session: Session, exam_id: str, start: datetime, end: datetime, *,
                     candidates: Iterable[str] | None = None) -> IncidentPreview:
    """The policy's decision on a disruption of a stored exam, and whom it affects. The
    candidates are `candidates` (e.g. read from the course roster with `exam_candidates`),
    else the stored sittings. Raises JobError or domain.incidents.IncidentError."""
    require_aware(start, "start")
    require_aware(end, "end")
    state = load_state(session)
    state.exam(exam_id)
    period = state.period
    if candidates is not None:
        others = tuple(s for s in period.sittings if s.exam_id != exam_id)
        period = ExamPeriod(period.exams, period.plans,
                            others + tuple(Sitting(exam_id, s) for s in sorted(set(candidates))))
    if not any(s.exam_id == exam_id for s in period.sittings):
        raise JobError(f"no candidates are known for exam {exam_id}: read its course roster first")
    decision = incident_for(state.policy, period, exam_id, start, end)
    return IncidentPreview.of(period, exam_id, start, end, decision)


def exam_candidates(engine: Engine, connections: Connections, exam_id: str) -> list[str]:
    """The student ids on the exam's course roster, read from the LMS now."""
    with session_factory(engine)() as session:
        state = load_state(session)
    course = state.course_of(exam_id)

    async def read() -> list[str]:
        async with open_connections(connections, state.policy.calendar.zone) as conns:
            adapter = conns.adapters.get(course.lms)
            if adapter is None:
                raise JobError(f"no {course.lms} connection is configured")
            return sorted(s.student_id for s in await adapter.read_roster(course) if s.student_id)

    return asyncio.run(read())


def record_incident(session: Session, preview: IncidentPreview, *, actor: str, now: datetime,
                    enqueue: bool = True) -> int:
    """Store the incident and its decision (audited); an `extend` is queued for the LMS."""
    require_aware(now, "now")
    row = IncidentRow(exam_id=preview.exam_id, starts_at=preview.starts_at, ends_at=preview.ends_at,
                      decision=preview.decision, rule=preview.rule, disruption_minutes=preview.disruption_minutes,
                      affected=list(preview.affected), state="recorded", recorded_by=actor, recorded_at=now)
    session.add(row)
    session.flush()
    append_audit(session, actor=actor, action="incident.recorded", entity="incident", entity_id=str(row.id),
                 before=None, after={"exam_id": preview.exam_id, "decision": preview.decision,
                                     "from": preview.starts_at.isoformat(), "to": preview.ends_at.isoformat(),
                                     "minutes": preview.disruption_minutes, "affected": len(preview.affected)},
                 reason=preview.rule, at=now)
    if enqueue and preview.changes_lms:
        queue.enqueue(session, kind=kinds.APPLY_INCIDENT, args={"incident_id": row.id},
                      dedupe_key=f"{kinds.APPLY_INCIDENT}:{row.id}", enqueued_by=actor)
    return row.id


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    id: int
    exam_id: str
    starts_at: datetime
    ends_at: datetime
    decision: str
    rule: str
    disruption_minutes: int
    affected: tuple[str, ...]
    state: str
    recorded_by: str
    recorded_at: datetime
    applied_at: datetime | None


def list_incidents(session: Session, *, exam_id: str | None = None) -> list[IncidentRecord]:
    query = select(IncidentRow).order_by(IncidentRow.recorded_at.desc(), IncidentRow.id.desc())
    if exam_id is not None:
        query = query.where(IncidentRow.exam_id == exam_id)
    return [IncidentRecord(r.id, r.exam_id, r.starts_at, r.ends_at, r.decision, r.rule, r.disruption_minutes,
                           tuple(r.affected), r.state, r.recorded_by, r.recorded_at, r.applied_at)
            for r in session.scalars(query)]


def incident_affected_csv(session: Session, incident_id: int) -> str:
    """The incident's affected candidates as CSV, for special consideration as a group."""
    row = session.get(IncidentRow, incident_id)
    if row is None:
        raise JobError(f"incident {incident_id} does not exist")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["incident_id", "exam_id", "student_id", "decision", "rule", "disruption_from",
                     "disruption_to", "disruption_minutes"])
    for student in row.affected:
        writer.writerow([row.id, row.exam_id, student, row.decision, row.rule, row.starts_at.isoformat(),
                         row.ends_at.isoformat(), row.disruption_minutes])
    return out.getvalue()


# -- clarifications ----------------------------------------------------------------------------------


def create_clarification(session: Session, exam_id: str, subject: str, body: str, *, actor: str,
                         now: datetime) -> int:
    """Store a clarification (audited, with its text) and queue it for every course the exam
    runs in; its id."""
    require_aware(now, "now")
    subject, body = subject.strip(), body.strip()
    if not subject or not body:
        raise ValueError("a clarification needs a subject and a message")
    if len(subject) > 200:
        raise ValueError("the subject is longer than 200 characters")
    state = load_state(session)
    state.course_of(exam_id)
    row = ClarificationRow(exam_id=exam_id, subject=subject, body=body, state="pending", created_by=actor,
                           created_at=now)
    session.add(row)
    session.flush()
    append_audit(session, actor=actor, action="clarification.created", entity="clarification",
                 entity_id=str(row.id), before=None, after={"exam_id": exam_id, "subject": subject, "body": body},
                 reason=None, at=now)
    queue.enqueue(session, kind=kinds.SEND_CLARIFICATION, args={"clarification_id": row.id},
                  dedupe_key=f"{kinds.SEND_CLARIFICATION}:{row.id}", enqueued_by=actor)
    return row.id


# -- staggered releases --------------------------------------------------------------------------------


def record_release_shifts(session: Session, plan: StaggerPlan, *, actor: str, now: datetime,
                          enqueue: bool = True) -> list[str]:
    """Store the planner's shifts (audited) and queue each for the LMS; the exams shifted."""
    require_aware(now, "now")
    shifted_ids = []
    for s in plan.shifts:
        row = session.get(ReleaseShiftRow, s.exam_id)
        before = None if row is None else {"start": row.new_start.isoformat()}
        if row is None:
            row = ReleaseShiftRow(exam_id=s.exam_id)
            session.add(row)
        elif row.original_start == s.original_start and row.new_start == s.new_start:
            continue
        row.original_start, row.new_start, row.shift_minutes = s.original_start, s.new_start, s.shift_minutes
        row.rule, row.reason, row.recorded_by, row.recorded_at, row.applied_at = s.rule, s.reason, actor, now, None
        append_audit(session, actor=actor, action="release_shift.recorded", entity="exam", entity_id=s.exam_id,
                     before=before or {"start": s.original_start.isoformat()},
                     after={"start": s.new_start.isoformat(), "minutes": s.shift_minutes}, reason=s.rule, at=now)
        shifted_ids.append(s.exam_id)
        if enqueue:
            stamp = s.new_start.strftime("%Y%m%dT%H%MZ")
            queue.enqueue(session, kind=kinds.APPLY_STAGGER, args={"exam_id": s.exam_id},
                          dedupe_key=f"{kinds.APPLY_STAGGER}:{s.exam_id}@{stamp}", enqueued_by=actor)
    session.flush()
    return shifted_ids


# -- the queue ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkItem:
    id: int
    kind: str
    args: dict
    dedupe_key: str
    state: str
    due_at: datetime
    attempts: int
    max_attempts: int
    claimed_by: str | None
    finished_at: datetime | None
    result: str | None
    error: str | None


def list_work(session: Session, *, state: str | None = None, kind: str | None = None,
              limit: int = 100) -> list[WorkItem]:
    query = select(WorkItemRow).order_by(WorkItemRow.due_at.desc(), WorkItemRow.id.desc()).limit(limit)
    if state is not None:
        query = query.where(WorkItemRow.state == state)
    if kind is not None:
        query = query.where(WorkItemRow.kind == kind)
    return [WorkItem(r.id, r.kind, dict(r.args), r.dedupe_key, r.state, r.due_at, r.attempts, r.max_attempts,
                     r.claimed_by, r.finished_at, r.result, r.error) for r in session.scalars(query)]


def enqueue_reconcile(session: Session, courses: Iterable[str], *, reason: str, actor: str, now: datetime) -> int:
    """Queue a reconcile of each course now (coalesced: a course already waiting is skipped)."""
    require_aware(now, "now")
    waiting = session.scalars(select(WorkItemRow.args).where(
        WorkItemRow.kind == kinds.RECONCILE_COURSE, WorkItemRow.state == "pending", WorkItemRow.due_at <= now,
    )).all()
    waiting_courses = {a.get("course") for a in waiting if isinstance(a, dict)}
    n = 0
    stamp = now.strftime("%Y%m%dT%H%M%S.%fZ")
    for course in sorted(set(courses)):
        if course in waiting_courses:
            continue
        if queue.enqueue(session, kind=kinds.RECONCILE_COURSE, args={"course": course},
                         dedupe_key=f"{kinds.RECONCILE_COURSE}:{course}:{reason}:{stamp}", enqueued_by=actor,
                         due_at=now) is not None:
            n += 1
    return n


def affected_courses(before: ExamPeriod, after: ExamPeriod, *, now: datetime,
                     ahead: timedelta = timedelta(days=60), everything: bool = False) -> list[str]:
    """The courses an import changed that have exams still to come: those of exams added,
    changed or removed, and, for a changed plan, the courses its student sits (all courses
    with exams ahead when the store knows none of the student's sittings). `everything`
    (a new policy): every course with exams ahead."""
    def upcoming(period: ExamPeriod) -> dict[str, str]:
        return {e.exam_id: e.course for e in period.exams
                if e.course and now - timedelta(days=7) <= e.start <= now + ahead}

    old_exams = {e.exam_id: e for e in before.exams}
    new_exams = {e.exam_id: e for e in after.exams}
    live = upcoming(before) | upcoming(after)
    if everything:
        return sorted(set(live.values()))
    courses: set[str] = set()
    for exam_id in old_exams.keys() | new_exams.keys():
        if old_exams.get(exam_id) != new_exams.get(exam_id) and exam_id in live:
            for e in (old_exams.get(exam_id), new_exams.get(exam_id)):
                if e is not None and e.course:
                    courses.add(e.course)
    changed_plans = {s for s in before.plans.keys() | after.plans.keys() if before.plans.get(s) != after.plans.get(s)}
    old_sittings, new_sittings = set(before.sittings), set(after.sittings)
    changed_sittings = old_sittings ^ new_sittings
    for sitting in changed_sittings:
        if sitting.exam_id in live:
            courses.add(live[sitting.exam_id])
    if changed_plans:
        sits: dict[str, set[str]] = {}
        for sitting in new_sittings | old_sittings:
            if sitting.exam_id in live:
                sits.setdefault(sitting.student_id, set()).add(live[sitting.exam_id])
        for student in changed_plans:
            courses |= sits.get(student) or set(live.values())
    return sorted(courses)


# -- inline applies for the command line ---------------------------------------------------------------


def _inline_state(session: Session, policy: Policy, period: ExamPeriod) -> StoreState:
    shifts = {r.exam_id: (r.original_start, r.new_start) for r in session.scalars(select(ReleaseShiftRow))}
    return StoreState(policy, shifted(period, shifts), stored_extensions(session))


def _converge_now(engine: Engine, state: StoreState, connections: Connections, exam_ids: Sequence[str],
                  actor: str, clock) -> ConvergeResult:  # noqa: ANN001
    courses = sorted({state.course_of(e) for e in exam_ids}, key=str)
    audit = StoreAuditSink(session_factory(engine), actor, clock)
    # The courses' locks, as a job takes them (a long ttl: nothing renews them here); a job
    # converging the course now is waited for.
    ctx = JobContext(engine=engine, node=actor, settings=JobSettings(visibility_seconds=INLINE_LOCK_SECONDS))
    with ctx.course_lock(courses, wait=INLINE_LOCK_WAIT):
        return asyncio.run(converge(state, open_connections, connections, courses, exam_ids=list(exam_ids),
                                    apply=True, audit=audit))


def _record_applied(session: Session, result: ConvergeResult, now: datetime) -> None:
    for e in result.exams.values():
        record_status(session, e.exam_id, state=APPLIED, now=now, course=str(e.course), operations=e.operations,
                      differing=e.differing, keep_verified=e.operations == 0)


def apply_incident_now(engine: Engine, policy: Policy, period: ExamPeriod, preview: IncidentPreview,
                       connections: Connections, *, actor: str, clock) -> tuple[int, ConvergeResult | None]:  # noqa: ANN001
    """Record the incident and, for an `extend`, change the LMS now (the exam is running).
    Returns (incident id, the LMS result or None). If the LMS change did not finish, an
    `apply_incident` item is queued to retry it."""
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        incident_id = record_incident(session, preview, actor=actor, now=clock(), enqueue=False)
        state = _inline_state(session, policy, period)
    if not preview.changes_lms:
        return incident_id, None
    if preview.course is None:
        raise JobError(f"exam {preview.exam_id} has no course: it is not in any LMS")
    result = _converge_now(engine, state, connections, [preview.exam_id], actor, clock)
    with sessions() as session, session.begin():
        if result.ok:
            row = session.get(IncidentRow, incident_id)
            row.state, row.applied_at = "applied", clock()
            append_audit(session, actor=actor, action="incident.applied", entity="incident",
                         entity_id=str(incident_id), before=None,
                         after={"exam_id": row.exam_id, "decision": row.decision, "affected": len(row.affected)},
                         reason=row.rule, at=clock())
            _record_applied(session, result, clock())
        else:
            queue.enqueue(session, kind=kinds.APPLY_INCIDENT, args={"incident_id": incident_id},
                          dedupe_key=f"{kinds.APPLY_INCIDENT}:{incident_id}", enqueued_by=actor)
    return incident_id, result


def apply_stagger_now(engine: Engine, policy: Policy, period: ExamPeriod, plan: StaggerPlan,
                      connections: Connections, *, actor: str, clock) -> tuple[list[str], ConvergeResult | None]:  # noqa: ANN001
    """Record the shifts and move those exams' releases in the LMS now; a part that did not
    finish is queued (`apply_stagger`) to retry."""
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        exam_ids = record_release_shifts(session, plan, actor=actor, now=clock(), enqueue=False)
        state = _inline_state(session, policy, period)
    in_lms = [e for e in exam_ids if state.exam(e).course]
    if not in_lms:
        return exam_ids, None
    result = _converge_now(engine, state, connections, in_lms, actor, clock)
    with sessions() as session, session.begin():
        failed_courses = {str(c) for c in result.course_errors}
        for exam_id in in_lms:
            e = result.exams.get(exam_id)
            if e is not None and not e.failed and state.exam(exam_id).course not in failed_courses:
                row = session.get(ReleaseShiftRow, exam_id)
                row.applied_at = clock()
                append_audit(session, actor=actor, action="release_shift.applied", entity="exam", entity_id=exam_id,
                             before={"start": row.original_start.isoformat()},
                             after={"start": row.new_start.isoformat()}, reason=row.rule, at=clock())
            else:
                stamp = state.exam(exam_id).start.strftime("%Y%m%dT%H%MZ")
                queue.enqueue(session, kind=kinds.APPLY_STAGGER, args={"exam_id": exam_id},
                              dedupe_key=f"{kinds.APPLY_STAGGER}:{exam_id}@{stamp}", enqueued_by=actor)
        _record_applied(session, ConvergeResult({k: v for k, v in result.exams.items() if not v.failed}, {}),
                        clock())
    return exam_ids, result
