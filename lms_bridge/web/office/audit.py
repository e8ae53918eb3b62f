"""/office/audit: the audit log, filtered and paged, newest first.

Filters: entity, action and actor (exact; a trailing `*` matches a prefix, as in
`lms_bridge.jobs.office.AuditFilter`), a date range in the policy's zone (both days
included), words in the action, entity id or reason, and an exam id. The exam filter is
this module's own (the jobs' `audit_log` has none): it finds every entry about the exam,
whatever its entity: the exam itself (`E1`), its sittings (`E1/s1`), its LMS writes
(`canvas:101/E1`), and its incidents and clarifications (by their stored exam).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import request
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from ...jobs.office import audit_filter_choices
from ...store.audit import AuditRecord
from ...store.job_models import ClarificationRow, IncidentRow
from ...store.models import AuditRow
from . import common
from .common import bp

PAGE = 50
MAX_PAGE = 10_000
FIELDS = ("entity", "action", "actor", "exam", "since", "until", "q")


@dataclass(frozen=True, slots=True)
class Query:
    entity: str | None = None
    action: str | None = None
    actor: str | None = None
    exam: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    text: str | None = None


def _match(column, value: str):  # noqa: ANN001, ANN202
    if value.endswith("*"):
        return column.startswith(value[:-1], autoescape=True)
    return column == value


def _about_exam(session: Session, exam_id: str):  # noqa: ANN202 - a SQL condition
    incidents = [str(i) for i in session.scalars(select(IncidentRow.id).where(IncidentRow.exam_id == exam_id))]
    clarifications = [str(i) for i in session.scalars(select(ClarificationRow.id)
                                                      .where(ClarificationRow.exam_id == exam_id))]
    about = [
        AuditRow.entity_id == exam_id,
        AuditRow.entity_id.startswith(exam_id + "/", autoescape=True),
        AuditRow.entity_id.endswith("/" + exam_id, autoescape=True),
    ]
    if incidents:
        about.append(and_(AuditRow.entity == "incident", AuditRow.entity_id.in_(incidents)))
    if clarifications:
        about.append(and_(AuditRow.entity == "clarification", or_(
            AuditRow.entity_id.in_(clarifications),
            *(AuditRow.entity_id.startswith(c + "/", autoescape=True) for c in clarifications))))
    return or_(*about)


def _select(session: Session, q: Query) -> Select[Any]:
    query = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc())
    if q.entity:
        query = query.where(_match(AuditRow.entity, q.entity))
    if q.action:
        query = query.where(_match(AuditRow.action, q.action))
    if q.actor:
        query = query.where(_match(AuditRow.actor, q.actor))
    if q.exam:
        query = query.where(_about_exam(session, q.exam))
    if q.since is not None:
        query = query.where(AuditRow.at >= q.since)
    if q.until is not None:
        query = query.where(AuditRow.at < q.until)
    if q.text:
        needle = f"%{q.text.lower()}%"
        query = query.where(or_(func.lower(AuditRow.action).like(needle), func.lower(AuditRow.entity_id).like(needle),
                                func.lower(func.coalesce(AuditRow.reason, "")).like(needle)))
    return query


def search(session: Session, q: Query, *, limit: int = PAGE, offset: int = 0) -> tuple[list[AuditRecord], bool]:
    """One page of matching entries, newest first, and whether there are more."""
    rows = list(session.scalars(_select(session, q).limit(limit + 1).offset(max(offset, 0))))
    return ([AuditRecord(r.id, r.at, r.actor, r.action, r.entity, r.entity_id, r.before, r.after, r.reason)
             for r in rows[:limit]], len(rows) > limit)


def changes(before: Any, after: Any) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field that differs; whole values when not mappings."""
    if isinstance(before, dict) or isinstance(after, dict):
        b, a = before if isinstance(before, dict) else {}, after if isinstance(after, dict) else {}
        return [(k, _text(b.get(k)), _text(a.get(k))) for k in sorted(set(b) | set(a), key=str)
                if b.get(k) != a.get(k)]
    if before is None and after is None:
        return []
    return [("value", _text(before), _text(after))]


def _text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _day(text: str, zone: ZoneInfo) -> datetime:
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    return datetime.combine(value, time(0), zone)


def parse(args: Any, zone: ZoneInfo) -> tuple[Query, dict[str, str], dict[str, str]]:
    """The query, its errors by field, and the values as typed (for the form)."""
    values = {k: (args.get(k) or "").strip() for k in FIELDS}
    errors: dict[str, str] = {}
    since = until = None
    if values["since"]:
        try:
            since = _day(values["since"], zone)
        except ValueError as exc:
            errors["since"] = str(exc)
    if values["until"]:
        try:
            until = _day(values["until"], zone) + timedelta(days=1)  # wall clock: the next local midnight
        except ValueError as exc:
            errors["until"] = str(exc)
    if since is not None and until is not None and until <= since:
        errors["until"] = "The last day is before the first day."
    for name in ("entity", "action", "actor", "exam", "q"):
        if len(values[name]) > 255:
            errors[name] = "Use at most 255 characters."
    query = Query(values["entity"] or None, values["action"] or None, values["actor"] or None, values["exam"] or None,
                  since, until, values["q"] or None)
    return query, errors, values


@bp.get("/audit")
def audit():  # noqa: ANN201
    with common.sessions()() as session:
        state = common.store_state(session)
        zone = common.zone_of(state)
        query, errors, values = parse(request.args, zone)
        try:
            page = min(max(int(request.args.get("page") or 1), 1), MAX_PAGE)
        except ValueError:
            page = 1
        choices = audit_filter_choices(session)
        entries: list[AuditRecord] = []
        more = False
        if not errors:
            entries, more = search(session, query, limit=PAGE, offset=(page - 1) * PAGE)
    rows = [{"entry": e, "at": common.when(e.at, zone), "changes": changes(e.before, e.after)} for e in entries]
    filters = {k: v for k, v in values.items() if v}
    first = (page - 1) * PAGE + 1
    return common.render(
        "office/audit.html", 400 if errors else 200, rows=rows, errors=errors, values=values, choices=choices,
        entity_options=[(e, e) for e in choices["entity"]],
        page=page, more=more, filters=filters, first=first, last=first + len(rows) - 1, zone_name=zone.key,
    )
