"""A small entry point for the multi-process job tests and the benchmark (not part of the product).

    python tests/jobs/node_main.py probe-node URL NAME --base T --count N --spacing-ms S [...]
        a full node (worker + lease candidate) whose schedule is N probe jobs, the i-th due at
        T + i*S ms; runs until killed or SIGTERM.
    python tests/jobs/node_main.py claim-race URL NAME --batch B [--idle-exit S]
        claims items B at a time and completes them (probe handler), printing one JSON line per
        claim {"id", "attempt", "at"} to stdout; exits after S seconds with nothing to claim.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lms_bridge.jobs import kinds, queue  # noqa: E402
from lms_bridge.jobs.alerts import AlertSink  # noqa: E402
from lms_bridge.jobs.handlers import JobContext  # noqa: E402
from lms_bridge.jobs.schedule import DueJob  # noqa: E402
from lms_bridge.jobs.settings import JobSettings  # noqa: E402
from lms_bridge.jobs.worker import Node, Worker  # noqa: E402
from lms_bridge.store.database import make_engine  # noqa: E402


def probe_source(base: float, count: int, spacing_ms: int, sleep_ms: int):  # noqa: ANN201
    start = datetime.fromtimestamp(base, UTC)

    def source(session, now):  # noqa: ANN001, ANN202
        out = []
        for i in range(count):
            due = start + timedelta(milliseconds=i * spacing_ms)
            if due <= now:
                out.append(DueJob.make(kinds.PROBE, {"key": f"p{i:04d}", "sleep_ms": sleep_ms}, due, f"probe:p{i:04d}"))
        return out

    return source


def probe_node(args: argparse.Namespace) -> None:
    settings = JobSettings(lease_ttl_seconds=args.ttl, tick_seconds=args.tick, poll_seconds=args.poll,
                           visibility_seconds=args.visibility, concurrency=args.concurrency)
    ctx = JobContext(engine=make_engine(args.url), node=args.name, settings=settings, alerts=AlertSink())
    node = Node(ctx, due_source=probe_source(args.base, args.count, args.spacing_ms, args.sleep_ms))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(json.dumps({"ready": args.name}), flush=True)
    node.run(stop)


def claim_race(args: argparse.Namespace) -> None:
    settings = JobSettings(visibility_seconds=300, concurrency=1)
    engine = make_engine(args.url)
    ctx = JobContext(engine=engine, node=args.name, settings=settings, alerts=AlertSink())
    worker = Worker(ctx)
    idle_since = time.monotonic()
    while time.monotonic() - idle_since < args.idle_exit:
        claims = queue.claim(engine, args.name, limit=args.batch, visibility=300)
        if not claims:
            time.sleep(0.01)
            continue
        idle_since = time.monotonic()
        for c in claims:
            print(json.dumps({"id": c.id, "attempt": c.attempt, "at": time.time()}), flush=True)
            worker.run_claim(c)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("probe-node")
    p.add_argument("url")
    p.add_argument("name")
    p.add_argument("--base", type=float, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--spacing-ms", type=int, default=100)
    p.add_argument("--sleep-ms", type=int, default=50)
    p.add_argument("--ttl", type=float, default=2.0)
    p.add_argument("--tick", type=float, default=0.2)
    p.add_argument("--poll", type=float, default=0.05)
    p.add_argument("--visibility", type=float, default=2.0)
    p.add_argument("--concurrency", type=int, default=2)
    c = sub.add_parser("claim-race")
    c.add_argument("url")
    c.add_argument("name")
    c.add_argument("--batch", type=int, default=5)
    c.add_argument("--idle-exit", type=float, default=1.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    {"probe-node": probe_node, "claim-race": claim_race}[args.mode](args)


if __name__ == "__main__":
    main()
