"""Benchmark: apply a whole exam period to a simulated Canvas, against a naive script.

    python bench/bench_canvas_apply.py                      # 300 exams, 100 courses, 200 candidates each
    python bench/bench_canvas_apply.py --baseline-exams 10  # a shorter baseline sample
    python bench/bench_canvas_apply.py --cost-scale 1       # the simulator's own request costs (~25 min)

The period (policy qmu, seeded) is written as CSV to a temporary folder: every exam has the same
candidates as its course's roster (`candidates` of them), about 15% of students have a plan
(25%, 50% or 100% extra time, some with 10 min/hour rest breaks), deliveries are drop-boxes,
Classic Quizzes and New Quizzes. A simulated Canvas (`adapters.canvas.simulator`, 50 ms latency,
Canvas's throttle: hwm 600, outflow 10 units/s, up-front cost 50, 429 when throttled) runs in a
child process, so that "Canvas" and the client do not share one interpreter lock. Measured:

1. lms_bridge: `plan_sync` + `apply_sync` through `open_connections`, as `lms-bridge apply` runs
   them: wall time, the client's metrics (calls, writes, retries, throttled responses it absorbed,
   most in flight, X-Request-Cost), the simulator's counters (total, writes, throttled, peak in
   flight), where the time went (round trips, mean concurrency, what held the pacer back), and
   calls by kind against the minimum;
2. re-apply: fresh connections on the same Canvas; writes (should be 0) and reads per course;
3. the naive baseline, in the same run, on a fresh simulator seeded the same way: a sequential
   httpx script that creates each exam's drop-box or quiz with the standard dates, then POSTs one
   override per student whose window differs and one extension (Classic) or accommodation (New
   Quizzes) per student with extra time, sleeping and retrying on 429. It runs on a deterministic
   sample of exams; its call count for the whole period is counted exactly from the same windows,
   its wall time extrapolated. The sampled exams are read back from both Canvases and compared
   student by student: both runs must have written the same windows;
4. the lower bound: the minimum calls for lms_bridge's approach (canvas-api.md §6.2: per course the
   roster and five list reads; per exam module, publish, page, assessment (+ publish for a New
   Quiz), one overrides call, one extensions call, two module items), and the time they need at
   best under the throttle: max(calls x latency / 11 in flight, (cost - 550) / outflow).

Request costs: the simulator charges a stand-in for Canvas's X-Request-Cost (CPU + DB seconds):
1 unit a GET, 3 a write, plus per listed row and per batch item. At 10 units/s of outflow that is
3 writes a second for any client, which would make this run take 20 minutes and measure nothing
but the outflow. Canvas's cost is the request's processing time in seconds, so by default the
costs are scaled by --cost-scale 0.02 (a plain write costs 0.06 s, about the simulated round
trip); --cost-scale 1 gives the simulator's defaults.

A benchmark, not a test: it exits 0 whether or not the targets are met.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _p in (ROOT, ROOT / "bench"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import period as period_gen
from _lms_apply import Run as _Run
from _lms_apply import SimLMS, baseline_sample, concurrency, instrument, record_plan
from _lms_apply import craft_period as _craft_period
from _lms_apply import fmt_s as _fmt_s
from _lms_apply import verdict as _verdict

POLICY = "qmu"
TARGET_CALL_RATIO = 10.0  # baseline calls / lms_bridge calls, at least
TARGET_BOUND_RATIO = 1.5  # wall / lower bound, at most
TARGET_READS_PER_COURSE = 12.0  # no-op re-apply, mean
PLAN_MIX = ((25, 35), (50, 45), (100, 12), (0, 8))  # extra_time_percent, weight; 0 = rest breaks only
DEFAULT_COST_SCALE = 0.02
SAMPLE_EVERY_S = 0.01
READBACK_TOKEN = "bench-readback"  # an extra simulator token: reading back has a bucket of its own


# -- the exam period ------------------------------------------------------------------------------


def craft_period(exams: int, courses: int, candidates: int, seed: int) -> period_gen.Period:
    """The period for POLICY, its courses in canvas: see _lms_apply.craft_period."""
    return _craft_period("canvas", POLICY, PLAN_MIX, exams, courses, candidates, seed)


# -- the simulated Canvas -------------------------------------------------------------------------


class SimCanvas(SimLMS):
    """A seeded simulator (see _lms_apply.SimLMS)."""

    module = "adapters.canvas.simulator"

    def api(self) -> _ReadBack:
        """A client for reading back after a run, with its own token (so its own throttle bucket)."""
        return _ReadBack(self.base_url, READBACK_TOKEN)


class _ReadBack:
    """GETs that wait out a 429 (1, 2, 4... s), for reading back what a run wrote."""

    def __init__(self, base_url: str, token: str) -> None:
        import httpx

        self.http = httpx.Client(base_url=f"{base_url}/api/v1", timeout=60,
                                 headers={"Authorization": f"Bearer {token}"})

    def __enter__(self) -> _ReadBack:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        for attempt in range(12):
            response = self.http.get(url, params=params)
            if response.status_code != 429 and "Rate Limit Exceeded" not in response.text[:200]:
                response.raise_for_status()
                return response
            time.sleep(min(8.0, 2.0 ** attempt))
        raise RuntimeError(f"read-back of {url} still throttled")


# -- lms_bridge's run -----------------------------------------------------------------------------


@dataclass
class Run(_Run):
    samples: list[tuple[int, int, int, float]] = field(default_factory=list)  # in flight, window, waiting, free


def _describe(request: Any) -> tuple[str, str]:
    return request.method, request.url.path


async def _sample_pacer(pacer: Any, out: list[tuple[int, int, int, float]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        free = pacer.free_budget()
        out.append((pacer.in_flight, pacer.limit, getattr(pacer, "_pending", 0), -1.0 if free is None else free))
        try:
            await asyncio.wait_for(stop.wait(), SAMPLE_EVERY_S)
        except TimeoutError:
            pass


def run_lms_bridge(canvas: SimCanvas, policy: Any, period: Any, *, apply_it: bool = True) -> Run:
    from lms_bridge.connections import Connections, open_connections
    from lms_bridge.sync.engine import apply_sync, plan_sync

    out = Run()
    canvas.reset_stats()

    async def go() -> None:
        async with open_connections(Connections(canvas.base_url, canvas.token), policy.calendar.zone) as conns:
            client = conns.clients[0]
            instrument(client, out.requests, _describe)
            stop = asyncio.Event()
            sampler = asyncio.create_task(_sample_pacer(client.pacer, out.samples, stop))
            c0, t0 = time.process_time(), time.perf_counter()
            plan = await plan_sync(policy, period, conns.adapters)
            t1 = time.perf_counter()
            if apply_it:
                await apply_sync(plan, conns.adapters)
            t2 = time.perf_counter()
            stop.set()
            await sampler
            out.plan_s, out.apply_s, out.wall = t1 - t0, t2 - t1, t2 - t0
            out.cpu_s = time.process_time() - c0
            out.split = t1
            record_plan(out, plan)
            m = client.metrics
            out.metrics = {"calls": m.calls, "writes": m.writes, "reads": m.calls - m.writes, "retries": m.retries,
                           "throttled": m.throttled, "max_in_flight": m.max_in_flight, "cost": m.request_cost,
                           "max_concurrency": client.pacer.max_concurrency, "safety": client.pacer.safety}

    asyncio.run(go())
    out.stats = canvas.stats()
    return out


def _holdups(samples: list[tuple[int, int, int, float]], max_concurrency: int) -> dict[str, float]:
    """Share of samples: nobody waiting (the engine had no more work ready), waiting on the
    AIMD window, waiting on the throttle budget (window not full), and the pacer's estimate of
    the free budget while it held callers back."""
    if not samples:
        return {}
    n = len(samples)
    idle = sum(1 for f, _, w, _ in samples if w == 0)
    window = sum(1 for f, lim, w, _ in samples if w and f >= lim)
    held = [(f, free) for f, lim, w, free in samples if w and f < lim]
    return {"no caller waiting": idle / n, "waiting on the AIMD window": window / n,
            "waiting on the throttle budget": len(held) / n,
            "free while held": sum(free for _, free in held) / len(held) if held else 0.0,
            "in flight while held": sum(f for f, _ in held) / len(held) if held else 0.0,
            "mean in flight": sum(f for f, _, _, _ in samples) / n,
            "mean window": sum(lim for _, lim, _, _ in samples) / n,
            "window at max": sum(1 for _, lim, _, _ in samples if lim >= max_concurrency) / n}


# -- the minimum and the bound ---------------------------------------------------------------------


@dataclass
class Minimum:
    calls: Counter = field(default_factory=Counter)  # kind -> calls
    cost: float = 0.0
    override_students: int = 0
    extra_students: int = 0
    overrides: int = 0  # override groups
    assessments_with_overrides: int = 0
    dropboxes_with_overrides: int = 0

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def _cost(config: dict[str, Any], method: str, *, listed: int = 0, batch: int = 0) -> float:
    from adapters.canvas.simulator.config import SimulatorConfig
    from adapters.canvas.simulator.throttle import request_cost

    return request_cost(SimulatorConfig(**config), method, listed=listed, batch=batch)


def minimum_calls(targets: Iterable[Any], rosters: dict[Any, int], config: dict[str, Any]) -> Minimum:
    """canvas-api.md §6.2 for lms_bridge's approach, counted from the targets, not from the run."""
    from lms_bridge.domain.model import Delivery

    m = Minimum()
    for target in targets:
        n = rosters.get(target.course, 0)
        pages = max(1, math.ceil(n / 100))
        m.calls["roster (enrolments pages)"] += pages
        m.cost += sum(_cost(config, "GET", listed=min(100, n - 100 * p)) for p in range(pages))
        m.calls["course lists (modules, pages, files, assignments, quizzes)"] += 5
        m.cost += 5 * _cost(config, "GET")
        for exam in target.exams:
            for a in (exam.assessment, exam.practice):
                if a is None:
                    continue
                m.calls["assessment create"] += 1
                m.cost += _cost(config, "POST")
                if a.delivery is Delivery.NEW_QUIZ:
                    m.calls["New Quiz publish (PUT assignment)"] += 1
                    m.cost += _cost(config, "PUT")
                if a.overrides:
                    students = sum(len(o.lms_user_ids) for o in a.overrides)
                    if a.delivery is Delivery.DROPBOX:  # inline in the create call (§6.1)
                        m.cost += _cost(config, "POST", batch=students) - _cost(config, "POST")
                    else:
                        m.calls["overrides (one call per assessment)"] += 1
                        m.cost += _cost(config, "PUT", batch=students)
                    m.override_students += students
                    m.overrides += len(a.overrides)
                    m.assessments_with_overrides += 1
                    m.dropboxes_with_overrides += a.delivery is Delivery.DROPBOX
                if a.extra_minutes:
                    m.calls["extra time (one call per quiz)"] += 1
                    m.cost += _cost(config, "POST", batch=len(a.extra_minutes))
                    m.extra_students += len(a.extra_minutes)
            m.calls["module create + publish"] += 2
            m.calls["page create"] += 1
            items = 1 + (exam.assessment is not None) + (exam.practice is not None) + (exam.area.paper is not None)
            m.calls["module items"] += items
            m.cost += (3 + items) * _cost(config, "POST")
    return m


def lower_bound(calls: int, cost: float, latency_s: float, config: dict[str, Any]) -> dict[str, float]:
    """The throttle admits a request only while the bucket (reservations of 50 per request in
    flight included) is under hwm: at most ceil(hwm / up_front) - 1 requests in flight (11), and
    beyond what an empty bucket absorbs (hwm - up_front = 550 units) cost drains at outflow/s."""
    hwm, up, outflow = config.get("hwm", 600.0), config.get("up_front_cost", 50.0), config.get("outflow", 10.0)
    in_flight = max(1, math.ceil(hwm / up) - 1)
    latency_term = calls * latency_s / in_flight
    cost_term = max(0.0, cost - (hwm - up)) / outflow
    return {"in_flight": in_flight, "latency_term": latency_term, "cost_term": cost_term,
            "bound": max(latency_term, cost_term), "headroom": hwm - up, "outflow": outflow}


# -- the naive baseline --------------------------------------------------------------------------


@dataclass
class Baseline:
    exams: list[str] = field(default_factory=list)
    courses: int = 0
    calls: int = 0  # responses, throttled ones included
    writes: int = 0  # executed writes
    throttled: int = 0
    slept: float = 0.0
    wall: float = 0.0
    cost: float = 0.0  # sum of X-Request-Cost
    stats: dict[str, Any] = field(default_factory=dict)
    full_calls: int = 0  # the whole period, counted from the windows
    full_writes: int = 0
    full_cost: float = 0.0
    sample_counted: int = 0  # the sample, counted the same way (a check on the run)


def baseline_counts(targets: Iterable[Any], rosters: dict[Any, int], config: dict[str, Any],
                    exams: set[str] | None = None) -> tuple[int, int, float]:
    """(calls, writes, cost) of the naive script, exactly: a roster read per course, then per
    exam one create, one override POST per student whose window differs, one extension or
    accommodation POST per student with extra time."""
    calls = writes = 0
    cost = 0.0
    for target in targets:
        chosen = [e for e in target.exams if exams is None or e.exam_id in exams]
        if not chosen:
            continue
        n = rosters.get(target.course, 0)
        pages = max(1, math.ceil(n / 100))
        calls += pages
        cost += sum(_cost(config, "GET", listed=min(100, n - 100 * p)) for p in range(pages))
        for exam in chosen:
            a = exam.assessment
            per_student = sum(len(o.lms_user_ids) for o in a.overrides) + len(a.extra_minutes)
            calls += 1 + per_student
            writes += 1 + per_student
            cost += _cost(config, "POST") + per_student * _cost(config, "POST", batch=1)
    return calls, writes, cost


class NaiveScript:
    """What a hand-written script does: one request at a time, one call per student; on 429 (or
    403 Rate Limit Exceeded) it sleeps 1 s, 2 s, 4 s... (at most 16 s) and tries again."""

    def __init__(self, canvas: SimCanvas) -> None:
        import httpx

        self.http = httpx.Client(base_url=canvas.base_url, timeout=60,
                                 headers={"Authorization": f"Bearer {canvas.token}"})
        self.out = Baseline()

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, **kw: Any) -> Any:
        attempt = 0
        while True:
            response = self.http.request(method, path, **kw)
            self.out.calls += 1
            if response.status_code == 429 or (response.status_code == 403 and "Rate Limit" in response.text):
                self.out.throttled += 1
                pause = min(16.0, 2.0 ** attempt)
                attempt += 1
                self.out.slept += pause
                time.sleep(pause)
                continue
            self.out.cost += float(response.headers.get("X-Request-Cost") or 0)
            response.raise_for_status()
            if method != "GET":
                self.out.writes += 1
            return response

    def roster(self, cid: str) -> list[Any]:
        from lms_bridge.lms import Student

        url: str | None = f"/api/v1/courses/{cid}/enrollments"
        params: dict[str, Any] | None = {"type[]": "StudentEnrollment", "state[]": "active", "per_page": 100}
        students = []
        while url:
            response = self.call("GET", url, params=params)
            for row in response.json():
                user = row.get("user") or {}
                students.append(Student(user.get("sis_user_id") or None, str(row["user_id"])))
            url, params = response.links.get("next", {}).get("url"), None
        return students

    def exam(self, cid: str, a: Any) -> None:
        from lms_bridge.domain.model import Delivery

        dates = _date_fields(a.dates)
        if a.delivery is Delivery.DROPBOX:
            made = self.call("POST", f"/api/v1/courses/{cid}/assignments", json={"assignment": {
                "name": a.name, "submission_types": ["online_upload"], "points_possible": 100,
                "published": True, **dates}}).json()
            assignment_id = made["id"]
        elif a.delivery is Delivery.QUIZ:
            made = self.call("POST", f"/api/v1/courses/{cid}/quizzes", json={"quiz": {
                "title": a.name, "quiz_type": "assignment", "time_limit": a.time_limit_minutes,
                "published": True, **dates}}).json()
            assignment_id = made["assignment_id"]
        else:
            limit = a.time_limit_minutes
            made = self.call("POST", f"/api/quiz/v1/courses/{cid}/quizzes", json={"quiz": {
                "title": a.name, "points_possible": 100, **dates, "quiz_settings": {
                    "has_time_limit": limit is not None,
                    "session_time_limit_in_seconds": None if limit is None else limit * 60}}}).json()
            assignment_id = made["id"]
        for override in a.overrides:
            for uid in sorted(override.lms_user_ids, key=int):
                self.call("POST", f"/api/v1/courses/{cid}/assignments/{assignment_id}/overrides",
                          json={"assignment_override": {"student_ids": [int(uid)], "title": "Extra time",
                                                        **_date_fields(override.dates)}})
        for uid, minutes in sorted(a.extra_minutes.items(), key=lambda kv: int(kv[0])):
            entry = {"user_id": int(uid), "extra_time": minutes}
            if a.delivery is Delivery.QUIZ:
                self.call("POST", f"/api/v1/courses/{cid}/quizzes/{made['id']}/extensions",
                          json={"quiz_extensions": [entry]})
            else:
                self.call("POST", f"/api/quiz/v1/courses/{cid}/quizzes/{assignment_id}/accommodations",
                          json=[entry])


def run_baseline(canvas: SimCanvas, policy: Any, period: Any, sample: list[str]) -> Baseline:
    from adapters.canvas.adapter import CanvasAdapter
    from lms_bridge.lms import CourseRef
    from lms_bridge.sync.desired import course_targets

    canvas.reset_stats()
    script = NaiveScript(canvas)
    wanted = set(sample)
    courses = sorted({CourseRef.parse(e.course) for e in period.exams if e.exam_id in wanted}, key=str)
    # The script's windows are lms_bridge's (course_targets), with Canvas's "fancy midnight" moved
    # as the adapter moves it, so that both runs write the same thing. adjust_target is pure.
    adjust = CanvasAdapter(None, policy.calendar.zone).adjust_target  # type: ignore[arg-type]
    t0 = time.perf_counter()
    try:
        rosters = {c: tuple(script.roster(c.id)) for c in courses}
        report = course_targets(policy, period, rosters)
        for target in report.targets:
            target = adjust(target)
            for exam in target.exams:
                if exam.exam_id in wanted:
                    script.exam(target.course.id, exam.assessment)
    finally:
        script.out.wall = time.perf_counter() - t0
        script.close()
    out = script.out
    out.exams, out.courses = sample, len(courses)
    out.stats = canvas.stats()
    return out


def _date_fields(d: Any) -> dict[str, str | None]:
    from datetime import UTC

    def iso(x: Any) -> str | None:
        return None if x is None else x.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return {"unlock_at": iso(d.opens_at), "due_at": iso(d.due_at), "lock_at": iso(d.closes_at)}


# -- reading back: did both write the same windows? -----------------------------------------------


def read_back(canvas: SimCanvas, period: Any, exams: list[str]) -> dict[tuple[str, str], tuple]:
    """(exam id, student SIS id) -> (unlock, due, lock, extra minutes) as Canvas holds them."""
    from lms_bridge.sync import naming

    by_id = {e.exam_id: e for e in period.exams}
    out: dict[tuple[str, str], tuple] = {}
    with canvas.api() as api:
        cache: dict[str, tuple[dict[int, str], list, list]] = {}
        for exam_id in exams:
            exam = by_id[exam_id]
            cid = exam.course.split(":", 1)[1]
            if cid not in cache:
                sis: dict[int, str] = {}
                url: str | None = f"/courses/{cid}/enrollments"
                params: dict[str, Any] | None = {"type[]": "StudentEnrollment", "per_page": 100}
                while url:
                    r = api.get(url, params=params)
                    sis.update({row["user_id"]: row["user"]["sis_user_id"] for row in r.json()})
                    url, params = r.links.get("next", {}).get("url"), None
                assignments = api.get(f"/courses/{cid}/assignments", params={
                    "include[]": "overrides", "override_assignment_dates": "false", "per_page": 100}).json()
                quizzes = api.get(f"/courses/{cid}/quizzes", params={"per_page": 100}).json()
                cache[cid] = (sis, assignments, quizzes)
            sis, assignments, quizzes = cache[cid]
            name = naming.assessment_name(exam.title, exam.exam_id)
            assignment = next((a for a in assignments if a["name"] == name), None)
            if assignment is None:
                continue
            extra: dict[int, int] = {}
            quiz = next((q for q in quizzes if q["title"] == name), None)
            if quiz is not None:
                rows = api.get(f"/courses/{cid}/quizzes/{quiz['id']}/submissions",
                               params={"per_page": 100}).json().get("quiz_submissions", [])
                extra = {int(r["user_id"]): int(r.get("extra_time") or 0) for r in rows}
            elif assignment.get("is_quiz_lti_assignment"):
                rows = api.get(f"/courses/{cid}/new_quizzes/{assignment['id']}/accommodations").json()
                extra = {int(r["user_id"]): int(r.get("extra_time") or 0) for r in rows.get("accommodations", [])}
            base = (assignment.get("unlock_at"), assignment.get("due_at"), assignment.get("lock_at"))
            for uid, sid in sis.items():
                dates = base
                for o in assignment.get("overrides") or ():
                    if uid in (o.get("student_ids") or ()):
                        dates = (o.get("unlock_at"), o.get("due_at"), o.get("lock_at"))
                out[(exam_id, sid)] = (*dates, extra.get(uid, 0))
    return out


# -- report ---------------------------------------------------------------------------------------


def _route_kind(method: str, path: str) -> str:
    p = path.replace("/api/quiz/v1", "").replace("/api/v1", "")
    parts = [s for s in p.split("/") if s]
    tail = "/".join(s if not (s.isdigit() or ":" in s) else ":id" for s in parts[2:])
    return f"{method} {tail}"


_KIND_OF_ROUTE = {
    "GET enrollments": "roster (enrolments pages)",
    "GET modules": "course lists (modules, pages, files, assignments, quizzes)",
    "GET pages": "course lists (modules, pages, files, assignments, quizzes)",
    "GET files": "course lists (modules, pages, files, assignments, quizzes)",
    "GET assignments": "course lists (modules, pages, files, assignments, quizzes)",
    "GET quizzes": "course lists (modules, pages, files, assignments, quizzes)",
    "POST assignments": "assessment create",
    "POST quizzes": "assessment create",
    "PUT assignments/:id": "New Quiz publish (PUT assignment)",
    "PUT assignments/:id/date_details": "overrides (one call per assessment)",
    "PUT quizzes/:id/date_details": "overrides (one call per assessment)",
    "POST quizzes/:id/extensions": "extra time (one call per quiz)",
    "POST quizzes/:id/accommodations": "extra time (one call per quiz)",
    "POST modules": "module create + publish",
    "PUT modules/:id": "module create + publish",
    "POST pages": "page create",
    "POST modules/:id/items": "module items",
}


# What the naive script does too (it builds no module, page or module items).
SAME_WORK = ("roster (enrolments pages)", "assessment create", "New Quiz publish (PUT assignment)",
             "overrides (one call per assessment)", "extra time (one call per quiz)")


def _kinds(requests: list[tuple[float, float, str, str]]) -> Counter:
    out: Counter = Counter()
    for _, _, method, path in requests:
        route = _route_kind(method, path)
        out[_KIND_OF_ROUTE.get(route, route)] += 1
    return out


def _reads_per_course(requests: list[tuple[float, float, str, str]]) -> list[int]:
    per: Counter = Counter()
    for _, _, method, path in requests:
        if method == "GET":
            parts = [s for s in path.replace("/api/quiz/v1", "").replace("/api/v1", "").split("/") if s]
            per[parts[1] if len(parts) > 1 and parts[0] == "courses" else "(other)"] += 1
    return sorted(per.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark applying an exam period to a simulated Canvas.")
    parser.add_argument("--exams", type=int, default=300)
    parser.add_argument("--courses", type=int, default=100)
    parser.add_argument("--candidates", type=int, default=200, help="candidates per exam (its course's roster)")
    parser.add_argument("--baseline-exams", type=int, default=20, help="exams the naive script runs (0: skip it)")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--cost-scale", type=float, default=DEFAULT_COST_SCALE,
                        help="multiplies the simulator's request costs (1 = its defaults: 1 unit a GET, 3 a write)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--in-process", action="store_true", help="run the simulator in a thread of this process")
    parser.add_argument("--keep", metavar="DIR", help="write the CSV files here and keep them")
    args = parser.parse_args(argv)

    tmp = tempfile.mkdtemp(prefix="lms_bridge_bench_canvas_")
    try:
        return _run(args, Path(args.keep) if args.keep else Path(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(args: argparse.Namespace, folder: Path) -> int:
    t = time.perf_counter()
    period_rows = craft_period(args.exams, args.courses, args.candidates, args.seed)
    files = period_rows.write(folder)
    gen_s = time.perf_counter() - t

    from adapters.canvas.simulator.config import SimulatorConfig
    from lms_bridge.domain.model import Delivery
    from lms_bridge.inputs import read_period
    from lms_bridge.lms import CourseRef
    from lms_bridge.policies import load_policy

    policy, _ = load_policy(POLICY)
    period = read_period(policy, files["timetable"], files["plans"])
    base = SimulatorConfig()
    config: dict[str, Any] = {
        "latency_ms": args.latency_ms,
        "extra_tokens": (READBACK_TOKEN,),
        "cost_get": base.cost_get * args.cost_scale,
        "cost_write": base.cost_write * args.cost_scale,
        "cost_per_item": base.cost_per_item * args.cost_scale,
        "cost_per_listed_item": base.cost_per_listed_item * args.cost_scale,
    }
    latency_s = args.latency_ms / 1000
    deliveries = Counter(e.delivery.value for e in period.exams)
    students = {r["student_id"] for r in period_rows.candidates}
    exam_ids = sorted(e.exam_id for e in period.exams)
    sample = baseline_sample(exam_ids, args.seed, args.baseline_exams)

    # -- lms_bridge: apply, then a no-op re-apply on the same Canvas -----------------------------
    with SimCanvas(config, files, args.in_process) as canvas:
        seeded = canvas.info
        first = run_lms_bridge(canvas, policy, period)
        again = run_lms_bridge(canvas, policy, period)
        written_by_bridge = read_back(canvas, period, sample) if sample else {}

    report = first.plan.report
    # each course's roster as seeded (what the roster reads page through)
    course_of = {e.exam_id: CourseRef.parse(e.course) for e in period.exams}
    enrolled: dict[Any, set[str]] = defaultdict(set)
    for row in period_rows.candidates:
        enrolled[course_of[row["exam_id"]]].add(row["student_id"])
    roster_sizes = {c: len(v) for c, v in enrolled.items()}
    minimum = minimum_calls(report.targets, roster_sizes, config)
    bound = lower_bound(minimum.total, minimum.cost, latency_s, config)
    actual_bound = lower_bound(first.metrics["calls"], first.metrics["cost"], latency_s, config)
    full_calls, full_writes, full_cost = baseline_counts(report.targets, roster_sizes, config)

    # -- the naive baseline, on a fresh Canvas ----------------------------------------------------
    baseline: Baseline | None = None
    written_by_script: dict = {}
    if sample:
        with SimCanvas(config, files, args.in_process) as canvas_b:
            baseline = run_baseline(canvas_b, policy, period, sample)
            written_by_script = read_back(canvas_b, period, sample)
        baseline.full_calls, baseline.full_writes, baseline.full_cost = full_calls, full_writes, full_cost
        baseline.sample_counted = baseline_counts(report.targets, roster_sizes, config, set(sample))[0]

    # -- report -----------------------------------------------------------------------------------
    m, s = first.metrics, first.stats
    plans_n = len(period_rows.plans)
    print(f"lms_bridge Canvas apply benchmark: policy {POLICY}, seed {args.seed}")
    print(f"period: {len(period.exams):,} exams in {len(report.targets):,} Canvas courses, {args.candidates} "
          f"candidates each ({len(period_rows.candidates):,} sittings); {len(students):,} students, {plans_n:,} with "
          f"plans ({plans_n / len(students):.1%}); " + ", ".join(f"{k} {v}" for k, v in sorted(deliveries.items())))
    timed = sum(1 for e in period.exams if e.delivery is not Delivery.DROPBOX)
    print(f"  per exam: {minimum.override_students / len(period.exams):.1f} students in "
          f"{minimum.overrides / len(period.exams):.1f} overrides ({minimum.assessments_with_overrides} of "
          f"{len(period.exams)} exams have any); per quiz or New Quiz {minimum.extra_students / max(1, timed):.1f} "
          "students with extra minutes")
    print(f"Canvas: simulator in {'this process' if args.in_process else 'a child process'}, latency "
          f"{args.latency_ms:g} ms, throttle hwm {base.hwm:g}, outflow {base.outflow:g}/s, up-front "
          f"{base.up_front_cost:g}, 429; costs x{args.cost_scale:g} (GET {config['cost_get']:g} + "
          f"{config['cost_per_listed_item']:g}/row, write {config['cost_write']:g} + {config['cost_per_item']:g}/item)")
    print(f"(setup, not measured: period {gen_s:.1f} s; seeding {seeded['enrollments']:,} enrolments)")
    print()

    busy, mean_rtt, mean_conc = concurrency(first)
    plan_conc, apply_conc = concurrency(first, "plan")[2], concurrency(first, "apply")[2]
    print("lms_bridge apply (plan_sync + apply_sync through open_connections):")
    rows = [
        ("wall time", _fmt_s(first.wall), f"plan {_fmt_s(first.plan_s)}, apply {_fmt_s(first.apply_s)}"),
        ("operations", f"{first.operations:,}",
         ", ".join(f"{k} {v}" for k, v in sorted(first.ops_by_action.items()))),
        ("calls (client)", f"{m['calls']:,}",
         f"{m['writes']:,} writes, {m['reads']:,} reads; {m['calls'] / len(period.exams):.1f} per exam"),
        ("calls (simulator)", f"{s['total']:,}",
         f"{s['writes']:,} writes, {s['throttled']} throttled, peak {s['peak_concurrent']} in flight"),
        ("throttled, absorbed by the client", f"{m['throttled']}",
         f"{m['retries']} retries; most in flight {m['max_in_flight']}"),
        ("courses failed", f"{len(first.failed)}", "; ".join(first.failed[:3])),
        ("request cost (X-Request-Cost)", f"{m['cost']:,.1f}",
         f"{m['cost'] / first.wall:.1f} units/s (outflow {base.outflow:g}/s)"),
        ("round trips", f"{mean_rtt * 1000:.1f} ms mean",
         (f"sum {busy:,.1f} s -> {mean_conc:.2f} requests in flight on average (plan {plan_conc:.2f}, "
          f"apply {apply_conc:.2f})")),
        ("CPU time of this process", _fmt_s(first.cpu_s),
         f"{first.cpu_s / first.wall:.0%} of the wall time (the client's event loop"
         + (")" if not args.in_process else " and the simulator)")),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, extra in rows:
        print(f"  {name:<{width}}  {value:>14}  {extra}".rstrip())
    cap = m["max_concurrency"]
    hold = _holdups(first.samples, cap)
    if hold:
        print(f"  pacer, sampled every {SAMPLE_EVERY_S * 1000:.0f} ms: {hold['mean in flight']:.2f} in flight, window "
              f"{hold['mean window']:.2f} (at its max of {cap} {hold['window at max']:.0%} of the time; safety "
              f"{m['safety']:g} units); "
              f"no caller waiting {hold['no caller waiting']:.0%}, callers waiting on the window "
              f"{hold['waiting on the AIMD window']:.0%}, on the budget {hold['waiting on the throttle budget']:.0%}"
              + (f" (then {hold['in flight while held']:.1f} in flight, free budget estimated at "
                 f"{hold['free while held']:.0f} units)" if hold["waiting on the throttle budget"] else ""))
    print()

    kinds = _kinds(first.requests)
    print("calls by kind, lms_bridge vs the minimum for its approach (canvas-api.md §6.2):")
    names = list(dict.fromkeys([*minimum.calls, *sorted(kinds)]))
    width = max(len(n) for n in names)
    for name in names:
        have, need = kinds.get(name, 0), minimum.calls.get(name, 0)
        note = "" if have == need else f"  {have - need:+,}"
        print(f"  {name:<{width}}  {have:>6,}  {need:>6,}{note}")
    print(f"  {'total':<{width}}  {sum(kinds.values()):>6,}  {minimum.total:>6,}  "
          f"({sum(kinds.values()) / minimum.total:.2f}x the minimum)")
    if minimum.dropboxes_with_overrides:
        print(f"  ({minimum.dropboxes_with_overrides} drop-boxes take their overrides inline in their "
              "create call, §6.1, so the minimum has no overrides call for them)")
    print()

    reads = _reads_per_course(again.requests)
    a_m, a_s = again.metrics, again.stats
    per_course = a_m["reads"] / max(1, again.courses)
    print("no-op re-apply (fresh connections, same Canvas):")
    print(f"  wall {_fmt_s(again.wall)}; operations {again.operations}; writes {a_m['writes']} (simulator "
          f"{a_s['writes']}); reads {a_m['reads']:,} = {per_course:.1f} per course "
          f"(min {reads[0] if reads else 0}, max {reads[-1] if reads else 0}); throttled {a_m['throttled']}; "
          f"courses failed {len(again.failed)}")
    print()

    print("lower bound:")
    print(f"  minimum calls {minimum.total:,}, their cost {minimum.cost:,.1f} units")
    print(f"  the throttle admits at most ceil(hwm {base.hwm:g} / up-front {base.up_front_cost:g}) - 1 = "
          f"{bound['in_flight']:.0f} requests in flight;")
    print(f"  latency term: {minimum.total:,} calls x {latency_s * 1000:g} ms / {bound['in_flight']:.0f} = "
          f"{_fmt_s(bound['latency_term'])}")
    print(f"  cost term:    ({minimum.cost:,.1f} - {bound['headroom']:g} an empty bucket absorbs) / outflow "
          f"{bound['outflow']:g}/s = {_fmt_s(bound['cost_term'])}")
    print(f"  bound = the larger = {_fmt_s(bound['bound'])}; with the calls lms_bridge made "
          f"({m['calls']:,}, cost {m['cost']:,.1f}) it would be {_fmt_s(actual_bound['bound'])}")
    print(f"  (cost / outflow alone, {_fmt_s(minimum.cost / bound['outflow'])}, would ignore that the bucket holds "
          f"{bound['headroom']:g} units before it refuses anything)")
    if bound["latency_term"] >= bound["cost_term"] and mean_conc:
        print(f"  wall / bound = {first.wall / bound['bound']:.2f} = calls {m['calls'] / minimum.total:.2f} "
              f"x round trip {mean_rtt / latency_s:.2f} ({mean_rtt * 1000:.1f} ms / {latency_s * 1000:g} ms) "
              f"x concurrency {bound['in_flight'] / mean_conc:.2f} ({bound['in_flight']:.0f} / {mean_conc:.2f} "
              "in flight)")
    print()

    base_time = None
    if baseline is not None:
        b = baseline
        per_call = b.wall / max(1, b.calls)
        linear = b.wall * b.full_calls / max(1, b.sample_counted)
        drained = max(0.0, b.full_cost - (base.hwm - base.up_front_cost)) / base.outflow
        base_time = max(linear, drained)
        print(f"naive baseline (sequential script, one call per student), run on {len(b.exams)} of "
              f"{len(period.exams)} exams ({b.courses} courses), on a fresh Canvas:")
        print(f"  sample: {b.calls:,} calls ({b.stats['total']:,} at the simulator, {b.calls - b.throttled:,} "
              f"executed, counted in advance {b.sample_counted:,}), {b.writes:,} writes, {b.throttled} throttled "
              f"({b.slept:.0f} s asleep), {_fmt_s(b.wall)} ({per_call * 1000:.1f} ms a call), cost {b.cost:,.1f}")
        print(f"  whole period, calls counted exactly from the same windows: {b.full_calls:,} calls "
              f"({b.full_writes:,} writes), cost {b.full_cost:,.1f}")
        print(f"  whole period, wall EXTRAPOLATED from the {len(b.exams)}-exam sample: {_fmt_s(base_time)} "
              f"(linear in calls {_fmt_s(linear)}; the outflow alone needs {_fmt_s(drained)})")
        compared = [k for k in written_by_script if k in written_by_bridge]
        differ = [k for k in compared if written_by_script[k] != written_by_bridge[k]]
        missing = len(set(written_by_bridge) ^ set(written_by_script))
        usual = {}
        for exam_id in {k[0] for k in compared}:
            usual[exam_id] = Counter(written_by_bridge[k] for k in compared if k[0] == exam_id).most_common(1)[0][0]
        special = sum(1 for k in compared if written_by_bridge[k] != usual[k[0]])
        print(f"  read back from both Canvases: {len(compared):,} (exam, student) windows compared ({special:,} "
              f"with their own dates or extra time), {len(differ)} differ, {missing} missing on one side"
              + ("" if not differ and not missing else "  <-- the two runs did not write the same thing"))
        if differ:
            k = differ[0]
            print(f"    e.g. {k}: lms_bridge {written_by_bridge[k]}, script {written_by_script[k]}")
        print()

    print("summary:")
    rows = [("", "lms_bridge", "naive baseline", "ratio")]
    if baseline is not None:
        rows += [
            ("calls, whole period", f"{m['calls']:,}", f"{baseline.full_calls:,}", f"{baseline.full_calls / m['calls']:.1f}x"),
            ("writes, whole period", f"{m['writes']:,}", f"{baseline.full_writes:,}",
             f"{baseline.full_writes / max(1, m['writes']):.1f}x"),
            ("wall time, whole period", _fmt_s(first.wall), f"{_fmt_s(base_time)} (extrap.)",
             f"{base_time / first.wall:.1f}x"),
        ]
    else:
        rows += [("calls, whole period", f"{m['calls']:,}", f"{full_calls:,} (counted)", f"{full_calls / m['calls']:.1f}x")]
    rows += [("lower bound", _fmt_s(bound["bound"]), "", f"wall {first.wall / bound['bound']:.2f}x the bound")]
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print(f"  {r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:>{w[2]}}  {r[3]}")
    print()

    ratio = (baseline.full_calls if baseline else full_calls) / m["calls"]
    same_work = sum(kinds.get(k, 0) for k in SAME_WORK)
    same_ratio = (baseline.full_calls if baseline else full_calls) / max(1, same_work)
    no_throttle_error = not first.failed and not again.failed
    print(f"  target calls >= {TARGET_CALL_RATIO:.0f}x fewer than the baseline:  {ratio:8.1f}x   {_verdict(ratio >= TARGET_CALL_RATIO)}")
    print(f"  target wall <= {TARGET_BOUND_RATIO}x the lower bound:          {first.wall / bound['bound']:8.2f}x   "
          f"{_verdict(first.wall <= TARGET_BOUND_RATIO * bound['bound'])}")
    print(f"  (same work only: lms_bridge's {same_work:,} calls for rosters, assessments, overrides and extra "
          f"time, the baseline's whole job: {same_ratio:.1f}x {_verdict(same_ratio >= TARGET_CALL_RATIO)}; "
          "the baseline builds no module, page or items)")
    print(f"  target no throttle error reaching the user:     {len(first.failed) + len(again.failed):5d} courses failed "
          f"({m['throttled']} throttled responses absorbed)   {_verdict(no_throttle_error)}")
    print(f"  target no-op re-apply writes nothing:           {a_m['writes']:5d} writes   {_verdict(a_m['writes'] == 0)}")
    print(f"  target no-op re-apply <= {TARGET_READS_PER_COURSE:.0f} reads per course:    {per_course:8.1f}     "
          f"{_verdict(per_course <= TARGET_READS_PER_COURSE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
