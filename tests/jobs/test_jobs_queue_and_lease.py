"""The lease and the queue, on SQLite and PostgreSQL: enqueue once, claim with a visibility
deadline, complete exactly once, retry with backoff, give up with an alert; the lease by the
database's clock with a fencing epoch."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms_bridge.jobs import kinds, queue
from lms_bridge.jobs.alerts import AlertSink, list_alerts
from lms_bridge.jobs.handlers import HandlerSpec, JobContext, JobFailed, Outcome
from lms_bridge.jobs.lease import Lease, LeaseLost, lease_info
from lms_bridge.jobs.schedule import DueJob
from lms_bridge.jobs.settings import JobSettings
from lms_bridge.jobs.worker import Node, Worker
from lms_bridge.store.job_models import WorkItemRow
from lms_bridge.store.models import AuditRow


def add(engine, key: str, kind: str = kinds.PROBE, args=None, **kw) -> int | None:  # noqa: ANN001
    with Session(engine) as session, session.begin():
        return queue.enqueue(session, kind=kind, args=args or {"key": key}, dedupe_key=key, enqueued_by="test", **kw)


def items(engine) -> list[WorkItemRow]:  # noqa: ANN001
    with Session(engine) as session:
        return list(session.scalars(select(WorkItemRow).order_by(WorkItemRow.id)))


# -- enqueue -------------------------------------------------------------------------------------------


def test_a_dedupe_key_is_enqueued_once(db_url, engine_for):
    engine = engine_for(db_url)
    assert add(engine, "k1") is not None
    assert add(engine, "k1") is None
    assert add(engine, "k2") is not None
    assert [i.dedupe_key for i in items(engine)] == ["k1", "k2"]


def test_arguments_must_be_ids(db_url, engine_for):
    engine = engine_for(db_url)
    with pytest.raises(kinds.BadArguments):
        add(engine, "k", kind=kinds.APPLY_EXAM, args={"exam_id": "E1", "plan": {"extra": 50}})
    with pytest.raises(kinds.BadArguments):
        add(engine, "k", kind=kinds.APPLY_EXAM, args={"exam_id": "E1\nextra 50%"})
    assert items(engine) == []


# -- claims -------------------------------------------------------------------------------------------


def test_claims_take_due_items_oldest_first_and_never_the_same_twice(db_url, engine_for):
    engine = engine_for(db_url)
    now = datetime.now(UTC)
    add(engine, "late", due_at=now - timedelta(minutes=1))
    add(engine, "early", due_at=now - timedelta(minutes=5))
    add(engine, "future", due_at=now + timedelta(hours=1))
    first = queue.claim(engine, "w1", limit=1)
    second = queue.claim(engine, "w2", limit=5)
    assert [c.dedupe_key for c in first] == ["early"]
    assert [c.dedupe_key for c in second] == ["late"]
    assert queue.claim(engine, "w3", limit=5) == []
    assert first[0].attempt == 1


def test_an_expired_claim_is_taken_again_and_the_first_worker_cannot_complete(db_url, engine_for):
    engine = engine_for(db_url)
    add(engine, "k")
    (mine,) = queue.claim(engine, "dead", limit=1, visibility=0.3)
    assert queue.claim(engine, "other", limit=1) == []  # still visible to nobody else
    time.sleep(0.5)
    (theirs,) = queue.claim(engine, "other", limit=1, visibility=30)
    assert theirs.id == mine.id and theirs.attempt == 2
    with Session(engine) as session, session.begin():
        assert queue.complete(session, mine, "dead", "late") is False
    with Session(engine) as session, session.begin():
        assert queue.complete(session, theirs, "other", "ok") is True
    with Session(engine) as session, session.begin():
        assert queue.complete(session, theirs, "other", "again") is False  # exactly once
    (row,) = items(engine)
    assert (row.state, row.completed_by, row.result) == ("done", "other", "ok")


def test_a_renewed_claim_is_not_taken(db_url, engine_for):
    engine = engine_for(db_url)
    add(engine, "k")
    (mine,) = queue.claim(engine, "w1", limit=1, visibility=0.4)
    for _ in range(3):
        time.sleep(0.2)
        assert queue.extend(engine, [mine], "w1", 0.4) == {mine.id}
        assert queue.claim(engine, "w2", limit=1) == []


# -- the worker: completion, retries, giving up ----------------------------------------------------------


def ctx_for(engine, **settings) -> JobContext:  # noqa: ANN001, ANN003
    base = {"backoff_base_seconds": 0.05, "backoff_max_seconds": 0.2, "visibility_seconds": 5, "concurrency": 2}
    return JobContext(engine=engine, node="w", settings=JobSettings(**(base | settings)), alerts=AlertSink())


def test_the_worker_completes_each_item_once_and_records_in_the_same_transaction(db_url, engine_for):
    engine = engine_for(db_url)
    for i in range(7):
        add(engine, f"p{i}")
    worker = Worker(ctx_for(engine))
    assert worker.drain() == 7
    assert {i.state for i in items(engine)} == {"done"}
    with Session(engine) as session:
        done = session.scalars(select(AuditRow.entity_id).where(AuditRow.action == "job.probe")).all()
    assert sorted(done) == [f"p{i}" for i in range(7)]


def test_failures_retry_with_backoff_then_succeed(db_url, engine_for):
    engine = engine_for(db_url)
    calls = []

    def flaky(ctx, claim):  # noqa: ANN001, ANN202
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise JobFailed("canvas:101 could not be read")
        return Outcome("ok")

    add(engine, "k")
    worker = Worker(ctx_for(engine), handlers={kinds.PROBE: HandlerSpec(flaky)})
    deadline = time.monotonic() + 10
    while items(engine)[0].state != "done":
        worker.drain()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    (row,) = items(engine)
    assert row.attempts == 3 and row.error is None
    assert calls[1] - calls[0] >= 0.05 and calls[2] - calls[1] >= 0.1  # doubled


def test_after_max_attempts_the_item_fails_and_an_alert_is_raised(db_url, engine_for):
    engine = engine_for(db_url)

    def broken(ctx, claim):  # noqa: ANN001, ANN202
        raise JobFailed("canvas:101 could not be read")

    add(engine, "k", max_attempts=2)
    worker = Worker(ctx_for(engine), handlers={kinds.PROBE: HandlerSpec(broken)})
    deadline = time.monotonic() + 10
    while items(engine)[0].state != "failed":
        worker.drain()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    (row,) = items(engine)
    assert row.attempts == 2 and "could not be read" in row.error
    with Session(engine) as session:
        (alert,) = list_alerts(session)
    assert alert.kind == "failed" and alert.work_item_id == row.id and "gave up" in alert.message


def test_alert_webhook_is_posted_after_commit(db_url, engine_for):
    import httpx

    engine = engine_for(db_url)
    posted = []
    transport = httpx.MockTransport(lambda request: posted.append(request.read()) or httpx.Response(204))
    ctx = ctx_for(engine)
    ctx.alerts = AlertSink("http://hooks.example/alerts", transport=transport)

    def broken(ctx, claim):  # noqa: ANN001, ANN202
        raise JobFailed("nothing")

    add(engine, "k", max_attempts=1)
    Worker(ctx, handlers={kinds.PROBE: HandlerSpec(broken)}).drain()
    (body,) = [json.loads(p) for p in posted]
    assert body["kind"] == "failed" and body["work_item_id"] == items(engine)[0].id
    assert set(body) == {"id", "at", "kind", "exam_id", "course", "work_item_id", "message"}


def test_a_worker_that_never_finishes_is_given_up_on_after_max_attempts(db_url, engine_for):
    engine = engine_for(db_url)
    add(engine, "k", max_attempts=2)
    for _ in range(2):  # two workers die holding it
        assert queue.claim(engine, "dead", limit=1, visibility=0.1)
        time.sleep(0.2)
    Worker(ctx_for(engine)).drain()
    (row,) = items(engine)
    assert row.state == "failed" and "stopped 2 times" in row.error


# -- the lease ------------------------------------------------------------------------------------------


def test_one_holder_at_a_time_and_takeover_after_expiry_with_a_new_epoch(db_url, engine_for):
    engine = engine_for(db_url)
    a, b = Lease(engine, "a", ttl=0.5), Lease(engine, "b", ttl=0.5)
    assert a.acquire() == 1
    assert b.acquire() is None
    assert a.acquire() == 1  # renewal keeps the epoch
    time.sleep(0.7)
    assert b.acquire() == 2  # a's lease ran out: b takes over, epoch moves on
    assert a.acquire() is None
    assert lease_info(engine).holder == "b"


def test_a_released_lease_is_taken_at_once(db_url, engine_for):
    engine = engine_for(db_url)
    a, b = Lease(engine, "a", ttl=60), Lease(engine, "b", ttl=60)
    a.acquire()
    a.release()
    assert b.acquire() == 2


def test_fencing_an_old_leader_cannot_enqueue(db_url, engine_for):
    engine = engine_for(db_url)
    old, new = Lease(engine, "old", ttl=0.3), Lease(engine, "new", ttl=30)
    old.acquire()
    time.sleep(0.5)  # old is paused past its lease; it still believes its epoch
    new.acquire()
    old.epoch = 1
    with pytest.raises(LeaseLost):
        with old.fenced() as connection:
            queue.enqueue(connection, kind=kinds.PROBE, args={"key": "x"}, dedupe_key="x", enqueued_by="old")
    with new.fenced() as connection:
        queue.enqueue(connection, kind=kinds.PROBE, args={"key": "y"}, dedupe_key="y", enqueued_by="new",
                      lease_epoch=new.epoch)
    assert [(i.dedupe_key, i.lease_epoch) for i in items(engine)] == [("y", 2)]


@pytest.mark.postgres
def test_on_postgresql_the_lease_uses_the_databases_clock_not_the_nodes(pg_url, engine_for, monkeypatch):
    engine = engine_for(pg_url)
    a = Lease(engine, "a", ttl=30)
    assert a.acquire() == 1

    class Skewed(datetime):  # a node whose clock is an hour fast
        @classmethod
        def now(cls, tz=None):  # noqa: ANN001, ANN206
            return datetime.now(tz) + timedelta(hours=1)

    import lms_bridge.jobs.lease as lease_module

    monkeypatch.setattr(lease_module, "datetime", Skewed)
    assert Lease(engine, "b", ttl=30).acquire() is None  # to b's clock a's lease expired long ago


def test_a_node_ticks_only_while_it_leads_and_a_tick_enqueues_due_work_once(db_url, engine_for):
    engine = engine_for(db_url)
    now = datetime.now(UTC)
    due = [DueJob.make(kinds.PROBE, {"key": f"d{i}"}, now - timedelta(seconds=i), f"probe:d{i}") for i in range(3)]
    source = lambda session, at: list(due)  # noqa: E731
    one = Node(ctx_for(engine, lease_ttl_seconds=30), due_source=source)
    two = Node(JobContext(engine=engine, node="two", settings=JobSettings(lease_ttl_seconds=30)), due_source=source)
    assert one.lead_once() == 3
    assert two.lead_once() is None
    assert one.lead_once() == 0  # asked again: nothing new
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(WorkItemRow)) == 3
    assert {i.lease_epoch for i in items(engine)} == {1}
