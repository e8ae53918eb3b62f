"""A queue-backed `ApplyRunner` (lms_bridge.web.apply_runner's protocol) for many nodes: a
page's "apply this course" becomes a `reconcile_course` work item that any worker runs, and
its progress is read from the item.

    runner = QueueApplyRunner(engine)
    run_id = runner.start("canvas:101", actor="lti:canvas:u42")   # the item's id, as text
    runner.progress(run_id)   # {"run_id", "course", "state", "done", "total", "failed", "message"}

A course already waiting or running returns that item's id, so a double click applies once.
Item states map to the runner's: pending -> queued, running -> applying, done, failed. The
counts are not tracked per operation here (`total` stays None); the message is the item's
result or error, which carries ids and counts only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from ..store.database import session_factory
from ..store.job_models import WorkItemRow
from . import kinds, queue

_STATES = {"pending": "queued", "running": "applying", "done": "done", "failed": "failed"}


class QueueApplyRunner:
    def __init__(self, engine: Engine, *, max_attempts: int = 3) -> None:
        self._sessions = session_factory(engine)
        self._max_attempts = max_attempts

    def start(self, course: str, actor: str) -> str:
        kinds.check_args(kinds.RECONCILE_COURSE, {"course": course})
        prefix = f"{kinds.RECONCILE_COURSE}:{course}:"
        with self._sessions() as session, session.begin():
            waiting = session.scalars(
                select(WorkItemRow.id).where(
                    WorkItemRow.dedupe_key.startswith(prefix, autoescape=True),
                    WorkItemRow.state.in_(("pending", "running")),
                ).order_by(WorkItemRow.id).limit(1)
            ).first()
            if waiting is not None:
                return str(waiting)
            now = datetime.now(UTC)
            item = queue.enqueue(session, kind=kinds.RECONCILE_COURSE, args={"course": course},
                                 dedupe_key=f"{prefix}web:{now.strftime('%Y%m%dT%H%M%S.%fZ')}", enqueued_by=actor,
                                 max_attempts=self._max_attempts)
        return str(item)

    def progress(self, run_id: str) -> dict[str, Any] | None:
        if not run_id.isdigit():
            return None
        with self._sessions() as session:
            row = session.get(WorkItemRow, int(run_id))
        if row is None or row.kind != kinds.RECONCILE_COURSE:
            return None
        state = _STATES[row.state]
        return {"run_id": run_id, "course": row.args.get("course"), "state": state,
                "done": 0, "total": None, "failed": 1 if state == "failed" else 0,
                "message": row.error if row.state in ("failed", "pending") and row.error else row.result}
