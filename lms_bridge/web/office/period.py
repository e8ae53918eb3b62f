"""/office/period: the exam period at a glance and the stagger proposal.

The heatmap counts the stored candidates (sittings) of each exam at the slot it releases in:
as it stands (recorded staggered releases applied) and as the policy's stagger proposal
(`services.staggering_for` over the stored timetable) would make it. Apply records the
proposal's shifts with the jobs' `record_release_shifts`, which queues each for the LMS.
"""

from __future__ import annotations

import hashlib
from collections import Counter

from flask import redirect, request
from sqlalchemy import select

from ...domain.staggering import StaggerPlan
from ...jobs.converge import shifted
from ...jobs.office import record_release_shifts
from ...services import staggering_for
from ...store.job_models import ReleaseShiftRow
from ...store.repositories import load_period
from ..session import launch_url
from . import common, heatmap
from .common import bp


def digest(plan: StaggerPlan) -> str:
    """What the officer saw: the proposal's shifts (a changed proposal is not applied blind)."""
    text = "|".join(sorted(f"{s.exam_id}@{s.original_start.isoformat()}>{s.new_start.isoformat()}"
                           for s in plan.shifts))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _load(session):  # noqa: ANN001, ANN202
    state = common.store_state(session)
    if state is None:
        return None
    raw = load_period(session)
    recorded = {r.exam_id: r for r in session.scalars(select(ReleaseShiftRow))}
    return state, raw, recorded


def _view(status: int = 200, *, notice: str | None = None):  # noqa: ANN202
    with common.sessions()() as session:
        loaded = _load(session)
    if loaded is None:
        return common.render("office/period.html", status, imported=False, notice=notice)
    state, raw, recorded = loaded
    policy = state.policy
    zone = policy.calendar.zone
    limit = policy.staggering.max_concurrent_starts
    plan = staggering_for(policy, raw)
    counts = Counter(s.exam_id for s in raw.sittings)
    current_shifts = {e: (r.original_start, r.new_start) for e, r in recorded.items()}
    proposed_shifts = current_shifts | {s.exam_id: (s.original_start, s.new_start) for s in plan.shifts}
    now_grid, after_grid = heatmap.compared(shifted(raw, current_shifts).exams, shifted(raw, proposed_shifts).exams,
                                            counts, zone, limit)
    titles = {e.exam_id: e.title for e in raw.exams}
    shifts = []
    new = 0
    for s in plan.shifts:
        row = recorded.get(s.exam_id)
        same = row is not None and row.original_start == s.original_start and row.new_start == s.new_start
        if not same:
            new += 1
            where = "proposed, not recorded yet"
        elif row.applied_at is not None:
            where = f"recorded; in the LMS since {common.when(row.applied_at, zone)}"
        else:
            where = "recorded; waiting for the job workers to move it in the LMS"
        shifts.append({"shift": s, "title": titles.get(s.exam_id, s.exam_id), "candidates": counts.get(s.exam_id, 0),
                       "from": common.when(s.original_start, zone), "to": common.when(s.new_start, zone),
                       "state": where})
    without = sorted(e.exam_id for e in raw.exams if not counts.get(e.exam_id))
    return common.render(
        "office/period.html", status, imported=True, notice=notice, policy=policy, limit=limit, zone_name=zone.key,
        grids=[("now", "as it stands", now_grid), ("proposal", "with the stagger proposal", after_grid)],
        day=common.day, shifts=shifts, new=new, digest=digest(plan),
        crowded=[(common.when(t, zone), n) for t, n in plan.still_crowded], without=without,
        exams=len(raw.exams), recorded=request.args.get("recorded"),
    )


@bp.get("/period")
def period():  # noqa: ANN201
    return _view()


@bp.post("/period/stagger")
def stagger():  # noqa: ANN201
    who, now = common.actor(), common.now()
    outcome = "nothing"
    moved: list[str] = []
    with common.sessions()() as session, session.begin():
        loaded = _load(session)
        if loaded is not None:
            state, raw, _ = loaded
            plan = staggering_for(state.policy, raw)
            if request.form.get("digest") != digest(plan):
                outcome = "changed"
            else:
                moved = record_release_shifts(session, plan, actor=who, now=now)
                outcome = "recorded"
    if outcome == "nothing":
        return _view(400, notice="Nothing has been imported yet, so there is nothing to stagger.")
    if outcome == "changed":
        return _view(409, notice="The proposal changed since the page was shown (the timetable or the candidates "
                                 "changed), so nothing was recorded. Check the proposal below and apply again.")
    return redirect(launch_url("office.period", recorded=len(moved)), code=303)
