"""Job workers in tests: a node against the Canvas simulator, run until no work is due."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms_bridge.connections import Connections
from lms_bridge.jobs.alerts import AlertSink
from lms_bridge.jobs.handlers import JobContext
from lms_bridge.jobs.settings import JobSettings
from lms_bridge.jobs.worker import Node
from lms_bridge.store.job_models import WorkItemRow

FAST = {"poll_seconds": 0.05, "backoff_base_seconds": 0.1, "recheck_after_seconds": 0.0, "concurrency": 2}


def node_for(engine: Any, canvas: Any, *, node: str = "test-node", **settings: Any) -> Node:
    """A job node (what `lms-bridge worker` runs) against the Canvas simulator `canvas`, with
    fast polling and back-off unless `settings` say otherwise."""
    ctx = JobContext(engine=engine, node=node, connections=Connections(canvas.base_url, canvas.token),
                     settings=JobSettings(**(FAST | settings)), alerts=AlertSink())
    return Node(ctx)


def run_until_idle(node: Node, timeout: float = 90) -> None:
    """Run queued work until nothing is due within a few seconds (deferred items included)."""
    deadline = time.monotonic() + timeout
    while True:
        node.worker.drain()
        with Session(node.ctx.engine) as session:
            due = session.scalars(select(WorkItemRow.id).where(
                WorkItemRow.state.in_(("pending", "running")),
                WorkItemRow.due_at <= datetime.now(UTC) + timedelta(seconds=3))).all()
        if not due:
            return
        assert time.monotonic() < deadline, f"work still due: {due}"
        time.sleep(0.1)
