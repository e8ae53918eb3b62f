"""Several processes on one real PostgreSQL: the leader killed mid-run (another takes over
within the lease ttl, every due job runs to completion exactly once, the dead leader's epoch
enqueues nothing after the takeover), four workers claiming with SKIP LOCKED (never the same
item twice), and a worker killed mid-apply against the Canvas simulator (the next run
converges, nothing duplicated)."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms_bridge.cli import main
from lms_bridge.connections import Connections, open_connections
from lms_bridge.jobs import kinds, queue
from lms_bridge.jobs.converge import load_state
from lms_bridge.jobs.handlers import converge
from lms_bridge.jobs.lease import lease_info
from lms_bridge.store.job_models import LeaseRow, WorkItemRow
from lms_bridge.store.models import AuditRow
from tests.jobs.conftest import REPO, Period, subprocess_env
from tests.jobs.test_jobs_canvas import PLAN_NUMBERS

pytestmark = pytest.mark.postgres
NODE_MAIN = str(Path(__file__).with_name("node_main.py"))


def spawn(args: list[str], log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, env=subprocess_env(), cwd=REPO)


def stop_all(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_for(condition, timeout: float, what: str, every: float = 0.05):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


# -- the leader killed mid-run ---------------------------------------------------------------------------


def test_leader_killed_mid_run_another_takes_over_and_every_due_job_runs_exactly_once(pg_url, engine_for, tmp_path):
    engine = engine_for(pg_url)
    ttl, count, spacing = 2.0, 60, 150
    base = time.time() + 5.0  # the nodes start first; then a job falls due every 150 ms for 9 s
    procs, logs = [], {}
    for name in ("n1", "n2", "n3"):
        logs[name] = tmp_path / f"{name}.log"
        procs.append(spawn([sys.executable, NODE_MAIN, "probe-node", pg_url, name, "--base", str(base),
                            "--count", str(count), "--spacing-ms", str(spacing), "--sleep-ms", "60",
                            "--ttl", str(ttl), "--tick", "0.2", "--visibility", "2"], logs[name]))
    by_name = dict(zip(("n1", "n2", "n3"), procs))
    try:
        leader = wait_for(lambda: (i := lease_info(engine)).live and i.holder, 30, "a leader")
        first_epoch = lease_info(engine).epoch

        def enqueued() -> int:
            with Session(engine) as session:
                return session.scalar(select(func.count()).select_from(WorkItemRow))

        wait_for(lambda: enqueued() >= count // 3, 30, "a third of the jobs enqueued")
        by_name[leader].send_signal(signal.SIGKILL)  # mid-run: jobs are still falling due
        assert enqueued() < count - 10, "the leader was killed too late to test a takeover"
        killed_at = time.monotonic()
        by_name[leader].wait()
        new_leader = wait_for(lambda: (i := lease_info(engine)).live and i.holder != leader and i.holder,
                              ttl * 3, "a new leader")
        failover = time.monotonic() - killed_at
        assert new_leader != leader
        # the lease had at most ttl left at the kill; a standby tries every ttl/10
        assert failover <= ttl + ttl / 10 + 1.0, failover

        def completions() -> Counter:
            with Session(engine) as session:
                return Counter(session.scalars(select(AuditRow.entity_id).where(AuditRow.action == "job.probe")))

        wait_for(lambda: len(completions()) == count, 60, "every probe completed", every=0.2)
        time.sleep(0.5)  # let anything that would run twice show itself
        done = completions()
        assert sorted(done) == [f"p{i:04d}" for i in range(count)]
        assert set(done.values()) == {1}, "a due job completed more than once"
        with Session(engine) as session:
            rows = list(session.scalars(select(WorkItemRow)))
            takeover = session.get(LeaseRow, "scheduler")
            assert len(rows) == count and {r.state for r in rows} == {"done"}
            # fencing: the dead leader's epoch enqueued nothing once the lease had moved on
            assert takeover.epoch > first_epoch
            assert {r.lease_epoch for r in rows} <= set(range(first_epoch, takeover.epoch + 1))
            assert all(r.enqueued_at <= takeover.acquired_at for r in rows if r.lease_epoch == first_epoch)
            assert any(r.lease_epoch == takeover.epoch for r in rows), (
                "the new leader enqueued the rest", Counter(r.lease_epoch for r in rows), takeover.epoch,
                first_epoch, leader, new_leader, [(r.enqueued_by, r.lease_epoch, r.enqueued_at) for r in rows][-5:])
            reclaimed = {r.dedupe_key.removeprefix("probe:") for r in rows if r.attempts > 1}
        # a probe may have started twice only if the dead node was running it when it died
        started = Counter()
        for name, path in logs.items():
            started.update(re.findall(r"probe (p\d{4}) started", path.read_text()))
        assert {k for k, n in started.items() if n > 1} <= reclaimed
    finally:
        stop_all(procs)


# -- SKIP LOCKED: four workers, no double claims ---------------------------------------------------------------


def test_four_workers_claim_with_skip_locked_and_never_claim_the_same_item(pg_url, engine_for, tmp_path):
    engine = engine_for(pg_url)
    n = 300
    with Session(engine) as session, session.begin():
        for i in range(n):
            queue.enqueue(session, kind=kinds.PROBE, args={"key": f"r{i}"}, dedupe_key=f"race:{i}", enqueued_by="test")
    procs = [subprocess.Popen([sys.executable, NODE_MAIN, "claim-race", pg_url, f"w{k}", "--batch", "3"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=subprocess_env(), text=True)
             for k in range(4)]
    claims: dict[str, list[int]] = {}
    try:
        for k, p in enumerate(procs):
            out, _ = p.communicate(timeout=120)
            claims[f"w{k}"] = [json.loads(line)["id"] for line in out.splitlines() if line.startswith("{")]
    finally:
        stop_all(procs)
    every = [i for ids in claims.values() for i in ids]
    assert len(every) == n and len(set(every)) == n, "an item was claimed twice"
    assert sum(1 for ids in claims.values() if ids) >= 2, "the work should have been shared"
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(WorkItemRow).where(WorkItemRow.state == "done")) == n
        assert session.scalar(select(func.max(WorkItemRow.attempts))) == 1
        completions = Counter(session.scalars(select(AuditRow.entity_id).where(AuditRow.action == "job.probe")))
    assert len(completions) == n and set(completions.values()) == {1}


# -- a worker killed mid-apply ---------------------------------------------------------------------------------


def count_named(client: httpx.Client, path: str, key: str, tag: str) -> int:
    rows = client.get(path, params={"per_page": 100}).json()
    return sum(1 for row in rows if row[key].endswith(tag) and not row[key].startswith("Practice: "))


def test_a_worker_killed_mid_apply_leaves_a_course_the_next_worker_converges(pg_url, engine_for, period: Period,
                                                                             tmp_path):
    from adapters.canvas.simulator import SimulatorConfig, SimulatorServer, seed_from_files

    engine = engine_for(pg_url)
    with SimulatorServer(SimulatorConfig(latency_ms=40)) as server:
        seed_from_files(server.sim, period.timetable, period.candidates)
        result = CliRunner().invoke(main, ["import", "--policy", "qmu", "--timetable", str(period.timetable),
                                           "--plans", str(period.plans), "--candidates", str(period.candidates),
                                           "--database", pg_url])
        assert result.exit_code == 0, result.output  # queues a reconcile of canvas:101 and canvas:102
        worker = [sys.executable, "-m", "lms_bridge", "worker", "--database", pg_url, "--canvas-url", server.base_url,
                  "--canvas-token", server.token, "--no-scheduler", "--visibility", "3", "--poll", "0.1",
                  "--concurrency", "2", "-v"]
        first = spawn([*worker, "--node", "doomed"], tmp_path / "doomed.log")
        try:
            wait_for(lambda: server.stats_snapshot()["writes"] >= 8 or first.poll() is not None, 60, "writes")
            assert first.poll() is None, "the worker finished before it could be killed"
            first.send_signal(signal.SIGKILL)
            first.wait()
        finally:
            stop_all([first])
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(WorkItemRow)
                                  .where(WorkItemRow.state == "running", WorkItemRow.claimed_by == "doomed")) >= 1
        second = spawn([*worker, "--node", "heir"], tmp_path / "heir.log")
        try:
            def all_done() -> bool:
                with Session(engine) as session:
                    states = set(session.scalars(select(WorkItemRow.state)))
                return states == {"done"}

            wait_for(all_done, 90, "the heir to finish the work", every=0.2)
        finally:
            stop_all([second])

        with Session(engine) as session:
            state = load_state(session)
            rows = list(session.scalars(select(WorkItemRow)))
        assert any(r.attempts >= 2 and r.completed_by == "heir" for r in rows), "the killed claim was re-claimed"

        courses = sorted({state.course_of(e) for e in ("E1", "E2", "E3")}, key=str)
        again = asyncio.run(converge(state, open_connections, Connections(server.base_url, server.token), courses,
                                     apply=False))
        assert again.ok and {e: r.operations for e, r in again.exams.items()} == {"E1": 0, "E2": 0, "E3": 0}
        with httpx.Client(base_url=server.api_url, headers={"Authorization": f"Bearer {server.token}"}) as client:
            for course, tag in ((101, "[E1]"), (101, "[E2]"), (102, "[E3]")):
                assert count_named(client, f"/courses/{course}/modules", "name", tag) == 1
                assert count_named(client, f"/courses/{course}/pages", "title", tag) == 1
                assert count_named(client, f"/courses/{course}/assignments", "name", tag) == 1

    assert "work item" in (tmp_path / "heir.log").read_text()
    # the worker processes' own logs (at DEBUG): no plan data either
    for path in (tmp_path / "doomed.log", tmp_path / "heir.log"):
        text = path.read_text().lower()
        assert "lms_bridge" in text
        for word in ("extra_time_percent", "rest_break", "percent"):
            assert word not in text, (path.name, word)
        assert not PLAN_NUMBERS.search(text), (path.name, PLAN_NUMBERS.search(text))

