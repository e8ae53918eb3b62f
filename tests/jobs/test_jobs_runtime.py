"""One node, embedded: APScheduler 3 in the process, its jobs in the app's SQLite database,
driving the leader tick and an in-process worker that runs the due work."""

from __future__ import annotations

import time

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from lms_bridge.connections import Connections
from lms_bridge.jobs.alerts import AlertSink
from lms_bridge.jobs.handlers import JobContext
from lms_bridge.jobs.lease import lease_info
from lms_bridge.jobs.runtime import DRAIN_JOB, TICK_JOB, EmbeddedRuntime
from lms_bridge.jobs.settings import JobSettings
from lms_bridge.jobs.status import exam_statuses
from lms_bridge.store.job_models import WorkItemRow
from tests.jobs.conftest import PLAN_PERCENT
from tests.jobs.test_jobs_canvas import do_import


def statuses(engine) -> dict[str, str]:  # noqa: ANN001
    with Session(engine) as session:
        return {s.exam_id: s.state for s in exam_statuses(session)}


def test_embedded_runtime_applies_due_exams_with_its_jobs_in_sqlite(sqlite_url, engine_for, period, canvas):
    engine = engine_for(sqlite_url)
    do_import(sqlite_url, period)
    settings = JobSettings(tick_seconds=0.3, poll_seconds=0.1, lease_ttl_seconds=5, verify_before_minutes=21 * 60)
    ctx = JobContext(engine=engine, node="embedded", connections=Connections(canvas.base_url, canvas.token),
                     settings=settings, alerts=AlertSink())
    runtime = EmbeddedRuntime(engine, ctx)
    runtime.start()
    try:
        deadline = time.monotonic() + 60
        while statuses(engine).get("E1") != "verified" or statuses(engine).get("E3") != "verified":
            assert time.monotonic() < deadline, statuses(engine)
            time.sleep(0.2)
        assert lease_info(engine).holder == "embedded"
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT id, job_state FROM apscheduler_jobs")).all()
        assert {row.id for row in stored} == {TICK_JOB, DRAIN_JOB}
        for _, state in stored:  # the pickled jobs hold a registry key, never data
            assert PLAN_PERCENT.encode() not in state and b"student" not in state
        assert runtime.ticks >= 1 and runtime.node.worker.completed >= 2
    finally:
        runtime.shutdown()
    assert lease_info(engine).holder is None  # released on shutdown
    with Session(engine) as session:
        kinds_done = {i.kind for i in session.scalars(select(WorkItemRow).where(WorkItemRow.state == "done"))}
    assert {"apply_exam", "verify_exam"} <= kinds_done

    # a restart replaces its stored jobs rather than adding to them
    again = EmbeddedRuntime(engine, ctx)
    again.start()
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM apscheduler_jobs")).scalar() == 2
    finally:
        again.shutdown()
