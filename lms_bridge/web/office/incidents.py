"""/office/incidents: a disruption entered, the policy's decision previewed with every affected
candidate, then recorded and (for `extend`) queued for the LMS; the affected candidates
exported for special consideration.

Preview and confirm both compute the decision with the jobs' `preview_incident`. The
candidates are the exam's course roster, read from the LMS now when a connection is
configured (as every sync reads them), else the stored candidates list. The confirm form
carries a digest of what the preview showed (decision, rule, minutes, affected candidates);
if the recomputed decision differs, nothing is recorded and the new preview is shown.
Confirm records the incident with `record_incident`, which audits it and queues the
`apply_incident` work that moves the affected candidates' due and close times in the LMS.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Response, abort, redirect, request
from sqlalchemy.orm import Session

from ...domain.incidents import IncidentError
from ...domain.model import Sitting, Window
from ...domain.rules import describe
from ...domain.windows import compute_windows
from ...inputs.values import parse_instant
from ...jobs import kinds
from ...jobs.converge import JobError, StoreState
from ...jobs.office import IncidentPreview, IncidentRecord, exam_candidates, list_incidents, list_work, \
    preview_incident, record_incident
from ..session import launch_url
from . import common
from .common import bp

log = logging.getLogger(__name__)

DECISION_WORDS = {
    "extend": "Extend: every candidate still sitting when it started keeps their full time; their due and "
              "close times (and quiz time limits) move later by the length of the disruption.",
    "end": "End: the exam is not restarted; every candidate is flagged for special consideration as a group. "
           "Nothing changes in the LMS.",
    "void": "Void: the sitting does not count and is to be rescheduled; every candidate is flagged. "
            "Nothing changes in the LMS.",
    "reschedule": "Reschedule: the exam is to be sat again at another time; every candidate is flagged. "
                  "Nothing changes in the LMS.",
    "abandon": "Abandon: the exam is abandoned; every candidate is flagged for special consideration. "
               "Nothing changes in the LMS.",
}
LABELS = {"exam": "Exam", "from": "Disruption started", "to": "Disruption ended"}


@dataclass(frozen=True, slots=True)
class Entry:
    """The incident form as typed, parsed."""

    values: dict[str, str]
    errors: dict[str, str]
    exam_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def parse_entry(form, state: StoreState | None) -> Entry:  # noqa: ANN001
    values = {k: (form.get(k) or "").strip() for k in ("exam", "from", "to")}
    errors: dict[str, str] = {}
    if state is None:
        return Entry(values, {"exam": "Nothing has been imported yet: upload a timetable first."})
    zone = state.policy.calendar.zone
    exam_id = values["exam"]
    if not exam_id:
        errors["exam"] = "Choose the disrupted exam."
    elif exam_id not in {e.exam_id for e in state.period.exams}:
        errors["exam"] = "There is no exam with that id in the timetable."
    times: dict[str, datetime] = {}
    for name in ("from", "to"):
        text = values[name]
        if not text:
            errors[name] = f"Enter when the disruption {'started' if name == 'from' else 'ended'} (local time)."
            continue
        try:
            times[name] = parse_instant(text.replace("T", " "), zone)
        except ValueError as exc:
            errors[name] = str(exc)
    if "from" in times and "to" in times and times["to"] <= times["from"]:
        errors["to"] = "The disruption must end after it starts."
    return Entry(values, errors, exam_id or None, times.get("from"), times.get("to"))


@dataclass(frozen=True, slots=True)
class Candidates:
    ids: list[str] | None  # None: the stored candidates list
    source: str
    problem: str | None = None


def candidates_for(state: StoreState, exam_id: str) -> Candidates:
    """The course roster from the LMS when connected, else the stored sittings."""
    course = state.period.exam(exam_id).course
    conns = common.connections()
    if not common.has_connection(conns, course):
        return Candidates(None, "the stored candidates list (no LMS connection is configured for its course)")
    try:
        return Candidates(exam_candidates(common.engine(), conns, exam_id),
                          f"the course roster in {course}, read from the LMS just now")
    except Exception as exc:  # noqa: BLE001 - shown, and the stored list used instead
        log.warning("incident preview: the roster of %s could not be read (%s)", course, type(exc).__name__)
        return Candidates(None, "the stored candidates list",
                          f"The course roster could not be read from the LMS ({type(exc).__name__}); the stored "
                          "candidates list is used instead.")


def digest(preview: IncidentPreview) -> str:
    text = "|".join([preview.exam_id, preview.decision, preview.rule, str(preview.disruption_minutes),
                     preview.starts_at.isoformat(), preview.ends_at.isoformat(), *preview.affected])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def before_window(preview_decision: str, minutes: int, window: Window, affected: bool) -> Window:
    """The window before an `extend` (which added `minutes` to due, close and time limit)."""
    if preview_decision != "extend" or not affected:
        return window
    delay = timedelta(minutes=minutes)
    limit = None if window.time_limit_minutes is None else window.time_limit_minutes - minutes
    return window._replace(due_at=window.due_at - delay, closes_at=window.closes_at - delay,
                           time_limit_minutes=limit)


def _rule_words(rule: str) -> str:
    text = describe(rule)
    return text[:1].upper() + text[1:]


def _minutes(value: int | None) -> str:
    return "none" if value is None else f"{value} min"


def _preview_rows(preview: IncidentPreview, zone: ZoneInfo) -> list[dict[str, object]]:
    affected = set(preview.affected)
    rows = []
    for w in sorted(preview.windows, key=lambda w: w.student_id):
        if w.student_id not in affected:
            continue
        b = before_window(preview.decision, preview.disruption_minutes, w, True)
        rows.append({
            "student_id": w.student_id, "opens": common.when(w.opens_at, zone),
            "due_before": common.when(b.due_at, zone), "due_after": common.when(w.due_at, zone),
            "closes_before": common.when(b.closes_at, zone), "closes_after": common.when(w.closes_at, zone),
            "limit_before": _minutes(b.time_limit_minutes), "limit_after": _minutes(w.time_limit_minutes),
        })
    return rows


def _exam_options(state: StoreState | None) -> list[tuple[str, str]]:
    if state is None:
        return []
    zone = state.policy.calendar.zone
    return [(e.exam_id, f"{e.title} ({e.exam_id}), {common.when(e.start, zone)}, {e.course or 'no course'}")
            for e in state.period.exams]


def _form_page(state: StoreState | None, entry: Entry | None = None, status: int = 200):  # noqa: ANN202
    with common.sessions()() as session:
        incidents = list_incidents(session)
    zone = common.zone_of(state)
    return common.render(
        "office/incidents.html", status, imported=state is not None, options=_exam_options(state),
        values=entry.values if entry else {"exam": request.args.get("exam", ""), "from": "", "to": ""},
        errors=entry.errors if entry else {}, labels=LABELS, zone_name=zone.key,
        incidents=[{"incident": i, "recorded": common.when(i.recorded_at, zone),
                    "from": common.when(i.starts_at, zone)} for i in incidents],
    )


@bp.get("/incidents")
def incidents():  # noqa: ANN201
    with common.sessions()() as session:
        state = common.store_state(session)
    return _form_page(state)


def _decide(state: StoreState, entry: Entry) -> tuple[IncidentPreview | None, Candidates, tuple[str, str] | None]:
    """The policy's decision, or (field, why) there is none. The roster is read before the store."""
    assert entry.exam_id and entry.start and entry.end
    found = candidates_for(state, entry.exam_id)
    with common.sessions()() as session:
        try:
            return preview_incident(session, entry.exam_id, entry.start, entry.end, candidates=found.ids), found, None
        except IncidentError as exc:
            return None, found, ("from", f"The policy cannot judge this disruption: {exc}.")
        except JobError as exc:
            return None, found, ("exam", f"This exam cannot be judged: {exc}.")


def _preview_page(state: StoreState, entry: Entry, preview: IncidentPreview, found: Candidates,
                  status: int = 200, notice: str | None = None):  # noqa: ANN202
    zone = state.policy.calendar.zone
    exam = state.period.exam(preview.exam_id)
    lms = (preview.course or "").split(":", 1)[0].capitalize() or "the LMS"
    return common.render(
        "office/incident_preview.html", status, preview=preview, exam=exam, values=entry.values, found=found,
        decision_words=DECISION_WORDS.get(preview.decision, preview.decision), rule_words=_rule_words(preview.rule),
        timed=any(w.time_limit_minutes is not None for w in preview.windows), percent=f"{float(preview.fraction * 100):.0f}", rows=_preview_rows(preview, zone), digest=digest(preview),
        start=common.when(preview.starts_at, zone), end=common.when(preview.ends_at, zone),
        exam_start=common.when(exam.start, zone), lms=lms, notice=notice, zone_name=zone.key,
    )


def _entry_and_decision():  # noqa: ANN202
    """The form parsed and decided on: (state, entry, preview, candidates, error page or None)."""
    with common.sessions()() as session:
        state = common.store_state(session)
    entry = parse_entry(request.form, state)
    if entry.errors:
        return state, entry, None, None, _form_page(state, entry, 400)
    assert state is not None
    preview, found, problem = _decide(state, entry)
    if preview is None:
        assert problem is not None
        entry.errors[problem[0]] = problem[1]
        return state, entry, None, found, _form_page(state, entry, 400)
    return state, entry, preview, found, None


@bp.post("/incidents/preview")
def incident_preview():  # noqa: ANN201
    state, entry, preview, found, refused = _entry_and_decision()
    if refused is not None:
        return refused
    return _preview_page(state, entry, preview, found)


@bp.post("/incidents")
def incident_record():  # noqa: ANN201
    who, now = common.actor(), common.now()
    state, entry, preview, found, refused = _entry_and_decision()
    if refused is not None:
        return refused
    if request.form.get("digest") != digest(preview):
        return _preview_page(state, entry, preview, found, 409, notice=(
            "The decision or the affected candidates changed since the preview (the roster, the timetable or "
            "a plan changed), so nothing was recorded. Check this preview and confirm again."))
    with common.sessions()() as session, session.begin():
        incident_id = record_incident(session, preview, actor=who, now=now)
    return redirect(launch_url("office.incident_detail", incident_id=incident_id, recorded=1), code=303)


def _incident(session: Session, incident_id: int) -> IncidentRecord:
    found = next((i for i in list_incidents(session) if i.id == incident_id), None)
    if found is None:
        abort(404, description="There is no incident with that number.")
    return found


@bp.get("/incidents/<int:incident_id>")
def incident_detail(incident_id: int):  # noqa: ANN201
    with common.sessions()() as session:
        state = common.store_state(session)
        incident = _incident(session, incident_id)
        work = [w for w in list_work(session, kind=kinds.APPLY_INCIDENT, limit=1000)
                if w.args.get("incident_id") == incident_id]
    zone = common.zone_of(state)
    title = incident.exam_id
    if state is not None:
        title = next((e.title for e in state.period.exams if e.exam_id == incident.exam_id), incident.exam_id)
    return common.render(
        "office/incident.html", incident=incident, title=title, work=work[0] if work else None,
        decision_words=DECISION_WORDS.get(incident.decision, incident.decision), rule_words=_rule_words(incident.rule),
        recorded_at=common.when(incident.recorded_at, zone), applied_at=common.when(incident.applied_at, zone),
        start=common.when(incident.starts_at, zone), end=common.when(incident.ends_at, zone),
        just_recorded=request.args.get("recorded") == "1", when=lambda t: common.when(t, zone),
    )


# --- the export -----------------------------------------------------------------------------------

EXPORT_COLUMNS = ("incident_id", "exam_id", "exam_title", "student_id", "decision", "rule", "disruption_from",
                  "disruption_to", "disruption_minutes", "opens", "due_before", "due_after", "closes_before",
                  "closes_after", "time_limit_before", "time_limit_after")


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _iso(instant: datetime | None, zone: ZoneInfo) -> str:
    return "" if instant is None else instant.astimezone(zone).isoformat(timespec="minutes")


def affected_windows(state: StoreState, incident: IncidentRecord) -> dict[str, tuple[Window, Window]]:
    """Each affected candidate's window before and after the incident's decision, computed
    from the store now (the exam's stored sittings plus the affected candidates)."""
    period = state.period
    others = tuple(s for s in period.sittings if s.exam_id != incident.exam_id or s.student_id in incident.affected)
    mine = tuple(Sitting(incident.exam_id, s) for s in incident.affected)
    sittings = tuple(dict.fromkeys(others + mine))
    windows = compute_windows(state.policy, period.exams, period.plans, sittings)
    out = {}
    affected = set(incident.affected)
    for w in windows:
        if w.exam_id == incident.exam_id and w.student_id in affected:
            after = w
            if incident.decision == "extend":
                delay = timedelta(minutes=incident.disruption_minutes)
                limit = None if w.time_limit_minutes is None else w.time_limit_minutes + incident.disruption_minutes
                after = w._replace(due_at=w.due_at + delay, closes_at=w.closes_at + delay, time_limit_minutes=limit)
            out[w.student_id] = (w, after)
    return out


def export_csv(state: StoreState | None, incident: IncidentRecord) -> str:
    zone = common.zone_of(state)
    windows = affected_windows(state, incident) if state is not None and _known(state, incident.exam_id) else {}
    title = state.period.exam(incident.exam_id).title if windows else ""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for student in incident.affected:
        before, after = windows.get(student, (None, None))
        writer.writerow([_cell(v) for v in (
            incident.id, incident.exam_id, title, student, incident.decision, incident.rule,
            _iso(incident.starts_at, zone), _iso(incident.ends_at, zone), incident.disruption_minutes,
            _iso(before.opens_at if before else None, zone),
            _iso(before.due_at if before else None, zone), _iso(after.due_at if after else None, zone),
            _iso(before.closes_at if before else None, zone), _iso(after.closes_at if after else None, zone),
            before.time_limit_minutes if before else "", after.time_limit_minutes if after else "",
        )])
    return out.getvalue()


def _known(state: StoreState, exam_id: str) -> bool:
    return any(e.exam_id == exam_id for e in state.period.exams)


@bp.get("/incidents/<int:incident_id>/affected.csv")
def incident_export(incident_id: int):  # noqa: ANN201
    with common.sessions()() as session:
        state = common.store_state(session)
        incident = _incident(session, incident_id)
    body = "\ufeff" + export_csv(state, incident)  # a BOM, so spreadsheets read it as UTF-8
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="incident-{incident.id}-{_safe(incident.exam_id)}-affected.csv"')
    return response


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:60]

