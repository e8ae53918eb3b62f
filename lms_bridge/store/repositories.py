"""The exam period and the policy in use: imported, loaded, and every change audited.

None of these functions commits. The caller owns the transaction, so an import that fails
part-way is rolled back whole. Support-plan numbers never appear in an exception or log
message (the audit log's before/after is the one place they are recorded).

The audit log and the LMS/LTI configuration live in `audit` and `registry`; their public
names are re-exported here so callers have one module to import from.
"""

from __future__ import annotations

import hashlib
from collections import Counter
import dataclasses
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ..domain.model import DEFAULT_SETUP, Delivery, Exam, ExamPeriod, ExamSetup, Sitting, SupportPlan
from .audit import AuditRecord, Json, append_audit, audit_entries
from .errors import InvalidPeriodError, NotFoundError, StoreError
from .models import ExamRow, PlanRow, PolicyRow, SittingRow
from .registry import (
    LmsConnection,
    LmsKind,
    LtiRegistration,
    add_lms_connection,
    add_lti_deployment,
    add_lti_registration,
    get_lms_connection,
    get_lti_registration,
    list_lms_connections,
    list_lti_registrations,
)
from .types import require_aware

IMPORT_REASON = "timetable import"
_Row = TypeVar("_Row", ExamRow, PlanRow)


# --- import and load of the exam period ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Counts:
    """What an import did to one kind of entity. `kept`: absent from the period, left in place."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    kept: int = 0


@dataclass(frozen=True, slots=True)
class ImportSummary:
    exams: Counts
    plans: Counts
    sittings: Counts
    policy_activated: bool

    @property
    def changed(self) -> bool:
        kinds = (self.exams, self.plans, self.sittings)
        return self.policy_activated or any(c.created or c.updated or c.removed for c in kinds)


@dataclass(frozen=True, slots=True)
class _Desired:
    """The period as the values the store compares: validated before anything is written."""

    exams: dict[str, Json]
    plans: dict[str, Json]
    sittings: frozenset[tuple[str, str]]


class _Audit:
    """Appends the import's audit entries, all with the same actor, time and reason."""

    def __init__(self, session: Session, actor: str, at: datetime) -> None:
        self._session, self._actor, self._at = session, actor, at

    def __call__(self, action: str, entity_id: str, before: Json | None, after: Json | None) -> None:
        append_audit(
            self._session,
            actor=self._actor,
            action=action,
            entity=action.split(".", 1)[0],
            entity_id=entity_id,
            before=before,
            after=after,
            reason=IMPORT_REASON,
            at=self._at,
        )


def import_period(
    session: Session,
    period: ExamPeriod,
    *,
    policy_name: str,
    policy_text: str,
    actor: str,
    now: datetime,
    replace: bool = False,
) -> ImportSummary:
    """Make the store hold `period`, writing only rows that differ, each change audited.

    Without `replace`, stored exams, plans and sittings absent from the period are kept; with
    it they are removed. Flushes but never commits.
    """
    require_aware(now, "now")
    desired = _desired(period)
    _lock_imports(session)
    audit = _Audit(session, actor, now)
    activated = activate_policy(session, name=policy_name, text=policy_text, actor=actor, now=now)
    exam_counts, exam_rows, absent_exams = _sync_exams(session, desired.exams, now, audit)
    plan_counts = _sync_plans(session, desired.plans, replace, now, audit)
    sitting_counts = _sync_sittings(session, desired.sittings, exam_rows, replace, audit)
    # Only after the sittings: every sitting of an absent exam is itself absent, so it has been
    # removed (and audited) above rather than silently by ON DELETE CASCADE.
    if replace:
        for row in absent_exams:
            audit("exam.removed", row.exam_id, exam_row_json(row), None)
            session.delete(row)
    exam_counts["removed" if replace else "kept"] += len(absent_exams)
    session.flush()
    return ImportSummary(
        exams=Counts(**exam_counts),
        plans=Counts(**plan_counts),
        sittings=Counts(**sitting_counts),
        policy_activated=activated,
    )


def load_period(session: Session) -> ExamPeriod:
    """The stored period. Ordered in Python, not SQL, so both backends' collations agree."""
    exams = sorted((exam_from_row(r) for r in session.scalars(select(ExamRow))), key=lambda e: (e.start, e.exam_id))
    plans = sorted(session.scalars(select(PlanRow)), key=lambda r: r.student_id)
    sittings = session.execute(select(ExamRow.exam_id, SittingRow.student_id).join(SittingRow.exam))
    return ExamPeriod(
        exams=tuple(exams),
        plans={
            r.student_id: SupportPlan(
                student_id=r.student_id,
                extra_time_percent=Fraction(r.extra_time_percent),
                rest_break_minutes_per_hour=Fraction(r.rest_break_minutes_per_hour),
            )
            for r in plans
        },
        sittings=tuple(Sitting(exam_id=e, student_id=s) for e, s in sorted(tuple(r) for r in sittings)),
    )


def _desired(period: ExamPeriod) -> _Desired:
    exams: dict[str, Json] = {}
    for exam in period.exams:
        if exam.exam_id in exams:
            raise InvalidPeriodError(f"exam {exam.exam_id!r} appears more than once")
        if exam.start.tzinfo is None or exam.start.utcoffset() is None:
            raise InvalidPeriodError(f"exam {exam.exam_id!r}: start must be an aware datetime")
        exams[exam.exam_id] = exam_json(exam)
    plans: dict[str, Json] = {}
    for key, plan in period.plans.items():
        if key != plan.student_id:  # no ids in the message: they would say who has a plan
            raise InvalidPeriodError("a support plan is filed under a student id that is not its own")
        plans[key] = _plan_json(plan)
    sittings: set[tuple[str, str]] = set()
    for sitting in period.sittings:
        if sitting.exam_id not in exams:
            raise InvalidPeriodError(f"a sitting names exam {sitting.exam_id!r}, which is not in the period")
        if (sitting.exam_id, sitting.student_id) in sittings:
            raise InvalidPeriodError(f"exam {sitting.exam_id!r} lists the same student more than once")
        sittings.add((sitting.exam_id, sitting.student_id))
    return _Desired(exams, plans, frozenset(sittings))


# A fixed key for pg_advisory_xact_lock: concurrent imports on PostgreSQL queue rather than
# racing to insert the same natural keys. (SQLite serialises writers by itself.)
_IMPORT_LOCK_KEY = 0x6C6D_7362_0001


def _lock_imports(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _IMPORT_LOCK_KEY})


def _upsert(
    session: Session,
    kind: str,
    rows: dict[str, _Row],
    desired: dict[str, Json],
    new_row: Callable[[str], _Row],
    set_row: Callable[[_Row, Json, datetime], None],
    row_json: Callable[[_Row], Json],
    now: datetime,
    audit: _Audit,
) -> tuple[Counter[str], list[_Row]]:
    """Create or update the rows keyed in `desired`, each change audited as `<kind>.created`
    or `<kind>.updated`; returns the counts and the stored rows the period no longer has."""
    counts: Counter[str] = Counter()
    for key, after in desired.items():
        row = rows.get(key)
        if row is None:
            rows[key] = row = new_row(key)
            set_row(row, after, now)
            session.add(row)
            audit(f"{kind}.created", key, None, after)
            counts["created"] += 1
        elif (before := row_json(row)) != after:
            set_row(row, after, now)
            audit(f"{kind}.updated", key, before, after)
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    return counts, [row for key, row in rows.items() if key not in desired]


def _sync_exams(
    session: Session, desired: dict[str, Json], now: datetime, audit: _Audit
) -> tuple[Counter[str], dict[str, ExamRow], list[ExamRow]]:
    rows = {r.exam_id: r for r in session.scalars(select(ExamRow))}
    counts, absent = _upsert(
        session, "exam", rows, desired, lambda _: ExamRow(), set_exam_row, exam_row_json, now, audit
    )
    return counts, rows, absent


def _sync_plans(
    session: Session, desired: dict[str, Json], replace: bool, now: datetime, audit: _Audit
) -> Counter[str]:
    rows = {r.student_id: r for r in session.scalars(select(PlanRow))}
    counts, absent = _upsert(
        session, "plan", rows, desired, lambda key: PlanRow(student_id=key), _set_plan_row, _plan_row_json, now, audit
    )
    for row in absent:
        if replace:
            audit("plan.removed", row.student_id, _plan_row_json(row), None)
            session.delete(row)
            counts["removed"] += 1
        else:
            counts["kept"] += 1
    return counts


def _sync_sittings(
    session: Session,
    desired: frozenset[tuple[str, str]],
    exam_rows: dict[str, ExamRow],
    replace: bool,
    audit: _Audit,
) -> Counter[str]:
    counts: Counter[str] = Counter()
    stored = {
        (exam_id, row.student_id): row
        for row, exam_id in session.execute(select(SittingRow, ExamRow.exam_id).join(SittingRow.exam))
    }
    for key in sorted(desired - stored.keys()):  # sorted: audit entries in a stable order
        session.add(SittingRow(exam=exam_rows[key[0]], student_id=key[1]))
        audit("sitting.created", sitting_entity_id(*key), None, _sitting_json(*key))
        counts["created"] += 1
    counts["unchanged"] += len(desired & stored.keys())
    for key in sorted(stored.keys() - desired):
        if replace:
            audit("sitting.removed", sitting_entity_id(*key), _sitting_json(*key), None)
            session.delete(stored[key])
            counts["removed"] += 1
        else:
            counts["kept"] += 1
    return counts


def sitting_entity_id(exam_id: str, student_id: str) -> str:
    """A sitting's entity_id in the audit log."""
    return f"{exam_id}/{student_id}"


# The JSON forms below are both what the importer compares and what the audit log records.


def exam_json(exam: Exam) -> Json:
    return {
        "exam_id": exam.exam_id,
        "title": exam.title,
        "delivery": Delivery(exam.delivery).value,
        "start": exam.start.astimezone(UTC).isoformat(),
        "duration_minutes": exam.duration_minutes,
        "reading_minutes": exam.reading_minutes,
        "upload_minutes": exam.upload_minutes,
        "course": exam.course,
        "setup": setup_json(exam.setup),
    }


def setup_json(setup: ExamSetup) -> Json | None:
    """The fields of `setup` that differ from the defaults, or None when none do."""
    changed = {f.name: getattr(setup, f.name) for f in fields(ExamSetup)
               if getattr(setup, f.name) != getattr(DEFAULT_SETUP, f.name)}
    return changed or None


def setup_from_json(values: Json | None) -> ExamSetup:
    """The stored setup; fields this version no longer knows are ignored, absent ones default."""
    if not values:
        return DEFAULT_SETUP
    known = {f.name for f in fields(ExamSetup)}
    return dataclasses.replace(DEFAULT_SETUP, **{k: v for k, v in values.items() if k in known})


def exam_row_json(row: ExamRow) -> Json:
    return exam_json(exam_from_row(row))


def exam_from_row(row: ExamRow) -> Exam:
    return Exam(
        exam_id=row.exam_id,
        title=row.title,
        delivery=Delivery(row.delivery),
        start=row.start_at,
        duration_minutes=row.duration_minutes,
        reading_minutes=row.reading_minutes,
        upload_minutes=row.upload_minutes,
        course=row.course,
        setup=setup_from_json(row.setup),
    )


def set_exam_row(row: ExamRow, values: Json, now: datetime) -> None:
    row.exam_id = values["exam_id"]
    row.title = values["title"]
    row.delivery = values["delivery"]
    row.start_at = datetime.fromisoformat(values["start"])
    row.duration_minutes = values["duration_minutes"]
    row.reading_minutes = values["reading_minutes"]
    row.upload_minutes = values["upload_minutes"]
    row.course = values["course"]
    row.setup = values["setup"]
    row.updated_at = now


_PLAN_FIELDS = ("extra_time_percent", "rest_break_minutes_per_hour")
_PLAN_PLACES = 3  # Numeric(7, 3)
_PLAN_LIMIT = Fraction(10**4)


def _plan_number(value: Fraction | int | Decimal, name: str) -> str:
    """The exact decimal text of a plan number, or InvalidPeriodError (without the value)."""
    exact = Fraction(value)
    scaled = exact * 10**_PLAN_PLACES
    if scaled.denominator != 1 or not 0 <= exact < _PLAN_LIMIT:
        raise InvalidPeriodError(
            f"support plan {name}: must be from 0 to 9999.999 with at most {_PLAN_PLACES} decimal places"
        )
    return _decimal_text(Decimal(scaled.numerator).scaleb(-_PLAN_PLACES))


def _decimal_text(value: Decimal) -> str:
    return format(value.normalize(), "f")  # "33.3", "25", "0": one spelling per number


def _plan_json(plan: SupportPlan) -> Json:
    return {"student_id": plan.student_id} | {name: _plan_number(getattr(plan, name), name) for name in _PLAN_FIELDS}


def _plan_row_json(row: PlanRow) -> Json:
    return {"student_id": row.student_id} | {name: _decimal_text(getattr(row, name)) for name in _PLAN_FIELDS}


def _set_plan_row(row: PlanRow, values: Json, now: datetime) -> None:
    row.extra_time_percent = Decimal(values["extra_time_percent"])
    row.rest_break_minutes_per_hour = Decimal(values["rest_break_minutes_per_hour"])
    row.updated_at = now


def _sitting_json(exam_id: str, student_id: str) -> Json:
    return {"exam_id": exam_id, "student_id": student_id}


# --- policy -----------------------------------------------------------------------------------


class ActivePolicy(NamedTuple):
    name: str
    text: str
    sha256: str


def active_policy(session: Session) -> ActivePolicy | None:
    """The policy in use: the most recently recorded one."""
    row = _latest_policy(session)
    return None if row is None else ActivePolicy(row.name, row.source, row.sha256)


def activate_policy(session: Session, *, name: str, text: str, actor: str, now: datetime) -> bool:
    """Record `text` as the policy in use, unless it already is (same sha256). True if recorded."""
    require_aware(now, "now")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    current = _latest_policy(session)
    if current is not None and current.sha256 == digest:
        return False
    session.add(PolicyRow(name=name, source=text, sha256=digest, activated_at=now, activated_by=actor))
    append_audit(
        session,
        actor=actor,
        action="policy.activated",
        entity="policy",
        entity_id=digest,
        before=None if current is None else {"name": current.name, "sha256": current.sha256},
        after={"name": name, "sha256": digest},
        reason=None,
        at=now,
    )
    session.flush()  # so the next _latest_policy in this transaction sees it
    return True


def _latest_policy(session: Session) -> PolicyRow | None:
    # The highest id, not the latest activated_at: a caller-supplied `now` may be earlier.
    return session.scalars(select(PolicyRow).order_by(PolicyRow.id.desc()).limit(1)).first()


__all__ = [
    "IMPORT_REASON",
    "ActivePolicy",
    "AuditRecord",
    "Counts",
    "ImportSummary",
    "InvalidPeriodError",
    "LmsConnection",
    "LmsKind",
    "LtiRegistration",
    "NotFoundError",
    "StoreError",
    "activate_policy",
    "active_policy",
    "add_lms_connection",
    "add_lti_deployment",
    "add_lti_registration",
    "append_audit",
    "audit_entries",
    "get_lms_connection",
    "get_lti_registration",
    "import_period",
    "list_lms_connections",
    "list_lti_registrations",
    "load_period",
    "sitting_entity_id",
]
