"""Benchmark: the job queue on PostgreSQL (claims per second, 1 vs 4 workers, double claims)
and the scheduler's leader failover time.

    python bench/bench_jobs.py                 # 3,000 items, 3 failovers with a 5 s lease (~1.5 min)
    python bench/bench_jobs.py --quick         # 600 items, 1 failover with a 2 s lease (~20 s)
    python bench/bench_jobs.py --items 10000 --batch 20 --failovers 5 --ttl 10
    python bench/bench_jobs.py --database postgresql://root@127.0.0.1:5432/test   # the server to use

A throwaway database is created on the server ($LMS_BRIDGE_TEST_POSTGRES_URL or root@127.0.0.1,
database `test`) and dropped at the end. Worker processes are this script run again
(`--child ...`), so each has its own interpreter.

1. Claims. N no-op `probe` work items are enqueued; worker processes, released together once
   every one has started and connected, claim them `--batch` at a time with `UPDATE ... WHERE id IN (SELECT ... FOR
   UPDATE SKIP LOCKED LIMIT n) RETURNING` and complete each one in its own transaction (the
   completion guard plus the handler's audit entry, exactly as a real job). Measured with 1
   worker (the baseline) and with 4, in the same run: items per second from the release to the
   last completion; and claims only (claimed, never completed) as the queue's own ceiling.
   Every claim is reported back, so double claims are counted (must be 0), and completions are
   counted from the audit log (each item exactly once).
2. Failover. Three nodes (`lms_bridge.jobs.worker.Node`) run with a lease of `--ttl` seconds
   and a schedule of one probe job due every 100 ms. The leader is killed with SIGKILL; timed
   from the kill: until another node holds the lease (the database's view), and until the new
   leader has enqueued (the first item carrying the new epoch). The bound is ttl + ttl/10: the
   dead leader's lease has at most ttl left, and a standby tries every ttl/10.

The machine is shared (2 cores here): 4 worker processes compete with PostgreSQL itself for
CPU, so the speed-up from 1 to 4 workers says more about the host than the queue. A benchmark,
not a test: it always exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, make_url, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from lms_bridge.store.database import database_url, make_engine, upgrade  # noqa: E402

DEFAULT_SERVER = "postgresql+psycopg://root@127.0.0.1:5432/test"


# -- children ---------------------------------------------------------------------------------------------


def child_claim(url: str, name: str, batch: int, complete: bool) -> None:
    """Say "ready", wait for "go" on stdin, then claim (and complete) until the queue is empty;
    one JSON line at the end with the ids claimed."""
    from lms_bridge.jobs import queue
    from lms_bridge.jobs.alerts import AlertSink
    from lms_bridge.jobs.handlers import JobContext
    from lms_bridge.jobs.settings import JobSettings
    from lms_bridge.jobs.worker import Worker

    engine = make_engine(url)
    worker = Worker(JobContext(engine=engine, node=name, settings=JobSettings(visibility_seconds=600),
                               alerts=AlertSink()))
    with engine.connect():
        pass  # connect before the start, not after
    print("ready", flush=True)
    sys.stdin.readline()
    ids: list[int] = []
    empty = 0
    while empty < 3:
        claims = queue.claim(engine, name, limit=batch, visibility=600)
        if not claims:
            empty += 1
            time.sleep(0.01)
            continue
        empty = 0
        for c in claims:
            ids.append(c.id)
            if complete:
                worker.run_claim(c)
    print(json.dumps({"name": name, "ids": ids, "end": time.time()}), flush=True)


def child_node(url: str, name: str, ttl: float, base: float) -> None:
    """A node whose schedule is one probe job every 100 ms from `base`, for ever."""
    import threading

    from lms_bridge.jobs import kinds
    from lms_bridge.jobs.alerts import AlertSink
    from lms_bridge.jobs.handlers import JobContext
    from lms_bridge.jobs.schedule import DueJob
    from lms_bridge.jobs.settings import JobSettings
    from lms_bridge.jobs.worker import Node

    start = datetime.fromtimestamp(base, UTC)

    def source(session, now):  # noqa: ANN001, ANN202 - only the last second's jobs: enough to see a tick
        newest = int((now - start) / timedelta(milliseconds=100))
        return [DueJob.make(kinds.PROBE, {"key": f"f{i}"}, start + timedelta(milliseconds=100 * i), f"probe:f{i}")
                for i in range(max(0, newest - 10), newest + 1)]

    settings = JobSettings(lease_ttl_seconds=ttl, tick_seconds=0.1, poll_seconds=0.05, visibility_seconds=10)
    node = Node(JobContext(engine=make_engine(url), node=name, settings=settings, alerts=AlertSink()),
                due_source=source)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    node.run(stop)


# -- the parent --------------------------------------------------------------------------------------------


def _spawn(*args: str, stdout=subprocess.PIPE) -> subprocess.Popen:  # noqa: ANN001
    return subprocess.Popen([sys.executable, __file__, "--child", *args], stdout=stdout, stderr=subprocess.DEVNULL,
                            stdin=subprocess.PIPE, text=True, env=os.environ | {"PYTHONPATH": str(ROOT)})


def _enqueue(engine, n: int, tag: str) -> None:  # noqa: ANN001
    from lms_bridge.jobs import queue

    with Session(engine) as session, session.begin():
        for i in range(n):
            queue.enqueue(session, kind="probe", args={"key": f"{tag}{i}"}, dedupe_key=f"bench:{tag}:{i}",
                          enqueued_by="bench")


def claims_round(url: str, engine, n: int, workers: int, batch: int, complete: bool, tag: str) -> dict:  # noqa: ANN001
    _enqueue(engine, n, tag)
    procs = [_spawn("claim", url, f"{tag}-w{k}", str(batch), "1" if complete else "0") for k in range(workers)]
    for p in procs:  # every child imported and connected before the clock starts
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    start_at = time.time()
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = []
    for p in procs:
        out, _ = p.communicate(timeout=600)
        results += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    ids = [i for r in results for i in r["ids"]]
    counts = Counter(ids)
    end = max(r["end"] for r in results)
    with Session(engine) as session:
        done = Counter(session.scalars(text("SELECT entity_id FROM audit_log WHERE action = 'job.probe' "
                                            "AND entity_id LIKE :p").bindparams(p=f"{tag}%")))
        session.execute(text("DELETE FROM work_items"))
        session.commit()
    elapsed = end - start_at
    return {
        "workers": workers, "items": n, "claimed": len(counts), "double_claims": sum(v - 1 for v in counts.values()),
        "seconds": elapsed, "per_second": len(counts) / elapsed if elapsed > 0 else float("nan"),
        "completed_once": sum(1 for v in done.values() if v == 1), "completed_twice": sum(1 for v in done.values() if v > 1),
        "spread": sorted(len(r["ids"]) for r in results),
    }


def failover_round(url: str, engine, ttl: float) -> dict:  # noqa: ANN001
    from lms_bridge.jobs.lease import lease_info

    with Session(engine) as session:
        session.execute(text("DELETE FROM work_items"))
        session.execute(text("DELETE FROM job_leases"))
        session.commit()
    base = time.time()
    procs = {name: _spawn("node", url, name, str(ttl), str(base), stdout=subprocess.DEVNULL)
             for name in ("a", "b", "c")}
    try:
        deadline = time.monotonic() + 60
        while not (info := lease_info(engine)).live:
            assert time.monotonic() < deadline, "no leader within 60 s"
            time.sleep(0.05)
        time.sleep(ttl * 0.5 + secrets.randbelow(1000) / 1000 * ttl / 3)  # somewhere in a renewal cycle
        info = lease_info(engine)
        leader, old_epoch = info.holder, info.epoch
        with engine.connect() as connection:
            killed_db = connection.execute(select(func.now())).scalar_one()
        killed = time.monotonic()
        procs[leader].send_signal(signal.SIGKILL)
        procs[leader].wait()
        taken = None
        while True:
            info = lease_info(engine)
            if taken is None and info.live and info.holder != leader:
                taken = time.monotonic() - killed
            with engine.connect() as connection:
                first = connection.execute(text(
                    "SELECT min(enqueued_at) FROM work_items WHERE lease_epoch > :e"), {"e": old_epoch}).scalar()
            if taken is not None and first is not None:
                break
            assert time.monotonic() - killed < ttl * 4 + 10, "no takeover"
            time.sleep(0.02)
        return {"leader": leader, "new_leader": info.holder, "lease_taken_s": taken,
                "first_enqueue_s": (first - killed_db).total_seconds()}
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default=None, help="a PostgreSQL server URL (a database is made on it)")
    parser.add_argument("--items", type=int, default=None)
    parser.add_argument("--batch", type=int, default=10, help="items claimed per statement")
    parser.add_argument("--failovers", type=int, default=None)
    parser.add_argument("--ttl", type=float, default=None, help="leader lease, seconds")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, *rest = args.child
        if mode == "claim":
            url, name, batch, complete = rest
            child_claim(url, name, int(batch), complete == "1")
        else:
            url, name, ttl, base = rest
            child_node(url, name, float(ttl), float(base))
        return

    items = args.items or (600 if args.quick else 3000)
    failovers = args.failovers or (1 if args.quick else 3)
    ttl = args.ttl or (2.0 if args.quick else 5.0)
    server = make_url(database_url(args.database or os.environ.get("LMS_BRIDGE_TEST_POSTGRES_URL") or DEFAULT_SERVER))
    admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"lmsb_bench_{secrets.token_hex(4)}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001
        print(f"PostgreSQL not usable at {server.render_as_string(hide_password=True)}: "
              f"{str(exc).strip().splitlines()[0]}")
        return
    url = server.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        upgrade(engine)
        print(f"bench_jobs: PostgreSQL {engine.connect().execute(text('SHOW server_version')).scalar()}, "
              f"{os.cpu_count()} CPUs, {items} items, batch {args.batch}\n")
        print("1. Claims (claim + no-op run + completion with its audit entry, one transaction per item)")
        rounds = {}
        for workers in (1, 4):
            r = claims_round(url, engine, items, workers, args.batch, True, f"c{workers}-")
            rounds[workers] = r
            print(f"   {workers} worker{'s' if workers > 1 else ' '}: {r['per_second']:8.0f} items/s  "
                  f"({r['claimed']}/{r['items']} in {r['seconds']:.2f} s; per worker {r['spread']}; "
                  f"double claims {r['double_claims']}; completed once {r['completed_once']}, "
                  f"twice {r['completed_twice']})")
        print(f"   4 vs 1: {rounds[4]['per_second'] / rounds[1]['per_second']:.2f}x")
        print("   claims only (claimed, never completed): the queue's own ceiling")
        only = {}
        for workers in (1, 4):
            r = claims_round(url, engine, items, workers, args.batch, False, f"o{workers}-")
            only[workers] = r
            print(f"   {workers} worker{'s' if workers > 1 else ' '}: {r['per_second']:8.0f} claims/s  "
                  f"(double claims {r['double_claims']})")
        doubles = sum(r["double_claims"] for r in (*rounds.values(), *only.values()))
        twice = sum(r["completed_twice"] for r in rounds.values())
        print(f"   double claims in all runs: {doubles}  {'PASS' if doubles == 0 else 'FAIL'}; "
              f"items completed more than once: {twice}  {'PASS' if twice == 0 else 'FAIL'}\n")

        print(f"2. Leader failover (lease ttl {ttl:g} s, renewed every {ttl / 3:.2f} s, standbys try every "
              f"{ttl / 10:.2f} s; bound ttl + ttl/10 = {ttl * 1.1:.2f} s)")
        taken, enqueued = [], []
        for i in range(failovers):
            r = failover_round(url, engine, ttl)
            taken.append(r["lease_taken_s"])
            enqueued.append(r["first_enqueue_s"])
            print(f"   kill {i + 1}: leader {r['leader']} killed; {r['new_leader']} holds the lease after "
                  f"{r['lease_taken_s']:.2f} s and enqueues after {r['first_enqueue_s']:.2f} s")
        print(f"   lease taken over: mean {statistics.mean(taken):.2f} s, max {max(taken):.2f} s; "
              f"first enqueue by the new leader: mean {statistics.mean(enqueued):.2f} s, max {max(enqueued):.2f} s  "
              f"{'PASS' if max(enqueued) <= ttl * 1.1 + 0.5 else 'MISS'} (within the bound + 0.5 s)")
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
