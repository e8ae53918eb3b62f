"""/office/: every exam's status in its LMS with its last LMS read, and the open alerts."""

from __future__ import annotations

from collections import Counter

from flask import abort, redirect, request
from sqlalchemy import select

from ...jobs.alerts import acknowledge_alert, list_alerts
from ...jobs.status import APPLIED, DRIFTED, FAILED, PLANNED, VERIFIED, exam_statuses
from ...store.audit import append_audit
from ...store.job_models import ReleaseShiftRow
from ..session import launch_url
from . import common
from .common import bp

STATES = (PLANNED, APPLIED, VERIFIED, DRIFTED, FAILED)
STATE_WORDS = {
    PLANNED: "Planned: in the timetable, not yet applied by a job",
    APPLIED: "Applied: the last apply converged the LMS",
    VERIFIED: "Verified: read back, every candidate's window matches",
    DRIFTED: "Drifted: the LMS differs from the plan",
    FAILED: "Failed: the last apply or verify could not finish",
}


@bp.get("/")
def home():  # noqa: ANN201
    wanted = request.args.get("state") or ""
    if wanted and wanted not in STATES:
        wanted = ""
    with common.sessions()() as session:
        state = common.store_state(session)
        statuses = exam_statuses(session)
        alerts = list_alerts(session, open_only=True, limit=200)
        shifts = {r.exam_id: r for r in session.scalars(select(ReleaseShiftRow))}
    zone = common.zone_of(state)
    counts = Counter(s.state for s in statuses)
    open_by_exam = Counter(a.exam_id for a in alerts if a.exam_id)
    rows = []
    for s in statuses:
        if wanted and s.state != wanted:
            continue
        shift = shifts.get(s.exam_id)
        moved = shift is not None and s.start is not None and s.start == shift.original_start
        start = shift.new_start if moved else s.start
        if s.last_read_at is None:
            read = "never"
            found = ""
        else:
            read = common.when(s.last_read_at, zone)
            found = ("no changes needed" if not s.last_read_operations else
                     f"{common.plural(s.last_read_operations, 'change')} needed, "
                     f"{common.plural(s.last_read_differing or 0, 'candidate')} differed")
        rows.append({
            "status": s, "start": common.when(start, zone) if start else "not in the timetable",
            "moved": f"staggered: moved {shift.shift_minutes} min later" if moved else None,
            "read": read, "found": found, "alerts": open_by_exam.get(s.exam_id, 0),
        })
    alert_rows = [{"alert": a, "at": common.when(a.at, zone)} for a in alerts]
    return common.render(
        "office/home.html", rows=rows, counts=counts, total=len(statuses), states=STATES, wanted=wanted,
        state_words=STATE_WORDS, alerts=alert_rows, imported=state is not None,
        zone_name=zone.key, acknowledged=request.args.get("acknowledged"),
    )


@bp.post("/alerts/<int:alert_id>/acknowledge")
def acknowledge(alert_id: int):  # noqa: ANN201
    now = common.now()
    who = common.actor()
    with common.sessions()() as session, session.begin():
        if not acknowledge_alert(session, alert_id, actor=who, now=now):
            abort(404, description="There is no open alert with that number (someone may have acknowledged it).")
        append_audit(session, actor=who, action="alert.acknowledged", entity="alert", entity_id=str(alert_id),
                     before=None, after=None, reason=None, at=now)
    return redirect(launch_url("office.home", acknowledged=alert_id) + "#alerts", code=303)
