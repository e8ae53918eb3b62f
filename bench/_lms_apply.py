"""What bench_canvas_apply.py and bench_moodle_apply.py share: the crafted exam period, the
seeded simulator in a child process, request timing, and the report's formatting."""

from __future__ import annotations

import importlib
import multiprocessing
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import period as period_gen


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


# -- the exam period ------------------------------------------------------------------------------


def craft_period(lms: str, policy: str, plan_mix: Any, exams: int, courses: int, candidates: int,
                 seed: int) -> period_gen.Period:
    """`exams` exams spread round-robin over `courses` courses of `lms` ("canvas", "moodle");
    every exam's candidates are its course's roster (`candidates` students drawn from a pool where
    a student takes about two courses); 15% of the enrolled students have a plan (`plan_mix`).
    Titles, deliveries, durations, reading time, release slots and days come from bench/period.py's
    profile for `policy`."""
    if exams < courses:
        raise ValueError("need at least one exam per course")
    rng = random.Random(f"bench_{lms}_apply:{exams}:{courses}:{candidates}:{seed}")
    profile = period_gen.PROFILES[policy]
    cal = period_gen._Calendar(policy)
    days = [d for d in period_gen._days(profile.first_day, profile.last_day) if cal.is_release_day(d)]
    slots = [(d, s) for d in days for s in profile.slots]
    course_ids = sorted(rng.sample(range(10_000, 99_999), courses))
    pool_size = max(candidates, courses * candidates // 2)
    numbers = sorted(rng.sample(range(profile.student_base, profile.student_base + 20 * pool_size), pool_size))
    pool = [profile.student_id.format(n) for n in numbers]
    cohorts = [sorted(rng.sample(pool, candidates)) for _ in range(courses)]
    enrolled = sorted({s for c in cohorts for s in c})
    plans = []
    for sid in sorted(rng.sample(enrolled, round(len(enrolled) * period_gen.PLAN_SHARE))):
        extra = period_gen._pick(rng, plan_mix)
        rest = 10 if extra == 0 or rng.random() < period_gen.REST_BREAK_SHARE else 0
        plans.append({"student_id": sid, "extra_time_percent": str(extra),
                      "rest_break_minutes_per_hour": str(rest) if rest else ""})
    modules = period_gen._Generator(policy, max(4, exams), 2 * max(4, exams), seed).module_codes()
    timetable, rows = [], []
    for i in range(exams):
        ci, nth = i % courses, i // courses
        _dept, code, title = modules[i]
        day, slot = slots[(ci * 7 + nth * 5) % len(slots)]  # a course's exams on different days
        if rng.random() < profile.long_share:
            clock, duration, delivery, reading = profile.long_release[0], 1440, "dropbox", None
        else:
            clock, duration = slot.clock, period_gen._pick(rng, profile.durations)
            delivery = period_gen._pick(rng, profile.deliveries)
            reading = period_gen._pick(rng, profile.reading)
        exam_id = f"{code}-{profile.id_suffix}"
        timetable.append({
            "exam_id": exam_id, "title": title, "delivery": delivery, "start": period_gen._fmt(day, clock),
            "duration_minutes": str(duration), "course": f"{lms}:{course_ids[ci]}",
            "reading_minutes": "" if reading is None else str(reading), "upload_minutes": "",
        })
        rows += [{"exam_id": exam_id, "student_id": s} for s in cohorts[ci]]
    timetable.sort(key=lambda r: (r["start"], r["exam_id"]))
    rows.sort(key=lambda r: (r["exam_id"], r["student_id"]))
    return period_gen.Period(policy, seed, timetable, plans, rows)


# -- the simulated LMS ----------------------------------------------------------------------------


def _start(module: str, config: dict[str, Any], timetable: str | Path, candidates: str | Path) -> tuple[Any, dict]:
    sim = importlib.import_module(module)
    server = sim.SimulatorServer(sim.SimulatorConfig(**config)).start()
    seeded = sim.seed_from_files(server.sim, timetable, candidates)
    return server, {"base_url": server.base_url, "token": server.token, "courses": len(seeded.courses),
                    "students": len(seeded.students), "enrollments": seeded.enrollments}


def _serve(conn: Any, module: str, config: dict[str, Any], timetable: str, candidates: str) -> None:
    """Child process: a seeded simulator until told to stop; "cpu" asks for its CPU time so far."""
    server, info = _start(module, config, timetable, candidates)
    try:
        conn.send(info)
        while conn.recv() == "cpu":
            conn.send(time.process_time())
    finally:
        server.stop()


class SimLMS:
    """A seeded SimulatorServer (of the package `module`, e.g. "adapters.canvas.simulator") in a
    child process, so that the LMS and the client do not share one interpreter lock (or, with
    in_process, in a thread of this one)."""

    module = ""

    def __init__(self, config: dict[str, Any], files: dict[str, Path], in_process: bool) -> None:
        self.config, self.files, self.in_process = config, files, in_process
        self._proc: Any = None
        self._conn: Any = None
        self._server: Any = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> Any:
        if self.in_process:
            self._server, self.info = _start(self.module, self.config, self.files["timetable"],
                                             self.files["candidates"])
            return self
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, self.module, self.config, str(self.files["timetable"]),
                                                      str(self.files["candidates"])), daemon=True)
        self._proc.start()
        deadline = time.monotonic() + 300
        while not self._conn.poll(0.2):
            if not self._proc.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the simulator did not start (exit code {self._proc.exitcode})")
        self.info = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.stop()
        if self._proc is not None:
            try:
                self._conn.send("stop")
            except (BrokenPipeError, OSError):
                pass
            self._proc.join(10)
            if self._proc.is_alive():
                self._proc.terminate()
                self._proc.join(5)

    def cpu_s(self) -> float | None:
        """CPU seconds the simulator's process has used (None when it runs in this process)."""
        if self._conn is None:
            return None
        self._conn.send("cpu")
        return float(self._conn.recv())

    @property
    def base_url(self) -> str:
        return self.info["base_url"]

    @property
    def token(self) -> str:
        return self.info["token"]

    def stats(self) -> dict[str, Any]:
        import httpx

        return httpx.get(f"{self.base_url}/__sim/stats", timeout=30).json()

    def reset_stats(self) -> None:
        import httpx

        httpx.post(f"{self.base_url}/__sim/reset_stats", timeout=30)


# -- lms_bridge's run -----------------------------------------------------------------------------


@dataclass
class Run:
    wall: float = 0.0
    plan_s: float = 0.0
    apply_s: float = 0.0
    operations: int = 0
    ops_by_action: Counter = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    requests: list[tuple[float, float, str, str]] = field(default_factory=list)  # start, end, what, where
    cpu_s: float = 0.0  # this process's CPU time during the run (the client, when the LMS is a child)
    plan: Any = None
    courses: int = 0
    split: float = 0.0  # perf_counter when planning ended and applying began


def instrument(client: Any, log: list[tuple[float, float, str, str]],
               describe: Callable[[Any], tuple[str, str]]) -> None:
    """Time every request the client sends (headers received), through httpx event hooks;
    `describe(request)` names it with two strings."""
    http = getattr(client, "_http", None)
    if http is None:
        return

    async def on_request(request: Any) -> None:
        request.extensions["bench_t0"] = time.perf_counter()

    async def on_response(response: Any) -> None:
        t0 = response.request.extensions.get("bench_t0")
        if t0 is not None:
            log.append((t0, time.perf_counter(), *describe(response.request)))

    hooks = http.event_hooks
    hooks["request"] = [*hooks.get("request", []), on_request]
    hooks["response"] = [*hooks.get("response", []), on_response]
    http.event_hooks = hooks


def record_plan(out: Run, plan: Any) -> None:
    """What the run's plan did, into `out`."""
    out.plan = plan
    out.courses = len(plan.courses)
    out.operations = len(plan.operations)
    out.ops_by_action = Counter(op.action.name.lower() for op in plan.operations)
    out.failed = [f"{c.course}: {c.error or c.failed_at}" for c in plan.courses if c.failed]


def concurrency(run: Run, phase: str = "all") -> tuple[float, float, float]:
    """Sum of round trips, mean round trip, mean requests in flight over the phase's wall time
    (phase: all, plan or apply; a request belongs to the phase it started in)."""
    reqs = [r for r in run.requests if phase == "all" or (phase == "plan") == (r[0] < run.split)]
    span = {"all": run.wall, "plan": run.plan_s, "apply": run.apply_s}[phase]
    if not reqs:
        return 0.0, 0.0, 0.0
    busy = sum(end - start for start, end, _, _ in reqs)
    return busy, busy / len(reqs), busy / span if span else 0.0


def baseline_sample(exam_ids: list[str], seed: int, n: int) -> list[str]:
    """The naive script's deterministic sample of exams."""
    return sorted(random.Random(f"baseline:{seed}").sample(exam_ids, min(n, len(exam_ids))))
