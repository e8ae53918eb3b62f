"""Benchmark: apply a whole exam period to a simulated Moodle, against a naive script.

    python bench/bench_moodle_apply.py                       # 300 exams, 100 courses, 200 candidates each
    python bench/bench_moodle_apply.py --quick               # 30 exams, 10 courses: a minute's check
    python bench/bench_moodle_apply.py --moodle-version 5.3  # assign overrides by core web services

The period (policy nottingham, whose courses are in Moodle; seeded) is written as CSV to a
temporary folder: every exam has the same candidates as its course's roster (`candidates` of
them), about 15% of students have a plan (25%, 50% or 100% extra time, some with 10 min/hour
rest breaks), deliveries are drop-boxes (assignments) and quizzes. A simulated Moodle
(`adapters.moodle.simulator`, with the companion plugin, 50 ms latency) runs in a child process,
so that "Moodle" and the client do not share one interpreter lock. Measured:

1. lms_bridge: `plan_sync` + `apply_sync` through `open_connections`, as `lms-bridge apply` runs
   them: wall time, the client's metrics (calls, writes, retries, most in flight), the
   simulator's counters (total, writes, peak in flight), where the time went (round trips, mean
   concurrency), and calls by kind against the minimum;
2. re-apply: fresh connections on the same Moodle; writes (should be 0) and reads per course;
3. the naive baseline, in the same run, on a fresh simulator seeded the same way: a sequential
   httpx script that reads each course's roster, creates each exam's assignment or quiz with the
   standard window (local_lmsbridge_upsert_activity), then saves one override per student whose
   window or time limit differs (one `mod_quiz_save_overrides` / assign-override call each, the
   student's whole state in it). It runs on a deterministic sample of exams; its call count for
   the whole period is counted exactly from the same windows, its wall time extrapolated. The
   sampled exams are read back from both Moodles and compared student by student: both runs must
   have written the same windows;
4. the lower bound: the minimum calls for lms_bridge's approach (site info once; per course the
   roster and one `local_lmsbridge_get_activities`; per exam one `local_lmsbridge_update_section`
   (section, name and summary together), one `local_lmsbridge_upsert_activity` per assessment and
   one override batch per assessment with students of their own), and the time they need at best
   with `max_in_flight` calls in flight (Moodle has no throttle; a site's PHP workers are the
   limit, so the client keeps to 6): calls x latency / in flight.

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
from urllib.parse import parse_qsl, urlencode

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

POLICY = "nottingham"
TARGET_CALL_RATIO = 10.0  # baseline calls / lms_bridge calls, at least
TARGET_BOUND_RATIO = 1.5  # wall / lower bound, at most
TARGET_READS_PER_COURSE = 8.0  # no-op re-apply, mean: "a handful"
PLAN_MIX = ((25, 35), (50, 45), (100, 12), (0, 8))  # extra_time_percent, weight; 0 = rest breaks only
DEFAULT_IN_FLIGHT = 6


# -- the exam period ------------------------------------------------------------------------------


def craft_period(exams: int, courses: int, candidates: int, seed: int) -> period_gen.Period:
    """The period for POLICY, its courses in moodle: see _lms_apply.craft_period."""
    return _craft_period("moodle", POLICY, PLAN_MIX, exams, courses, candidates, seed)


# -- the simulated Moodle -------------------------------------------------------------------------


class SimMoodle(SimLMS):
    """A seeded simulator (see _lms_apply.SimLMS)."""

    module = "adapters.moodle.simulator"

    def ws(self, http: Any, function: str, **params: Any) -> Any:
        """One web-service call (for reading back), over plain httpx."""
        from adapters.moodle.client import encode_params

        form = [("wstoken", self.token), ("wsfunction", function), ("moodlewsrestformat", "json")]
        response = http.post(f"{self.base_url}/webservice/rest/server.php",
                             content=urlencode(form + encode_params(params)),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        body = response.json()
        if isinstance(body, dict) and "exception" in body:
            raise RuntimeError(f"{function}: {body}")
        return body


# -- lms_bridge's run -----------------------------------------------------------------------------


@dataclass
class Run(_Run):
    manual: int = 0
    path: str = ""
    sim_cpu_s: float | None = None  # the simulator's CPU time during the run (child process only)


def _describe(request: Any) -> tuple[str, str]:
    """(web-service function, course id) of a call the MoodleClient sends."""
    if request.url.path.endswith("/upload.php"):
        return "webservice/upload.php", ""
    form = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
    return form.get("wsfunction", "?"), form.get("courseid") or form.get("courseids[0]") or ""


def run_lms_bridge(moodle: SimMoodle, policy: Any, period: Any, in_flight: int) -> Run:
    import os

    from lms_bridge.connections import Connections, open_connections
    from lms_bridge.sync.engine import apply_sync, plan_sync

    out = Run()
    moodle.reset_stats()
    os.environ["LMS_BRIDGE_MOODLE_MAX_IN_FLIGHT"] = str(in_flight)
    sim_cpu0 = moodle.cpu_s()

    async def go() -> None:
        conn = Connections(moodle_url=moodle.base_url, moodle_token=moodle.token)
        async with open_connections(conn, policy.calendar.zone) as conns:
            client = conns.clients[0]
            instrument(client, out.requests, _describe)
            c0, t0 = time.process_time(), time.perf_counter()
            plan = await plan_sync(policy, period, conns.adapters)
            t1 = time.perf_counter()
            await apply_sync(plan, conns.adapters)
            t2 = time.perf_counter()
            out.plan_s, out.apply_s, out.wall = t1 - t0, t2 - t1, t2 - t0
            out.cpu_s = time.process_time() - c0
            out.split = t1
            record_plan(out, plan)
            out.manual = len(plan.manual)
            adapter = conns.adapters["moodle"]
            out.path = (await adapter.path()).describe()
            m = client.metrics
            out.metrics = {"calls": m.calls, "writes": m.writes, "reads": m.reads, "retries": m.retries,
                           "faults": m.faults, "max_in_flight": m.max_in_flight,
                           "max_concurrency": client.max_concurrency}

    asyncio.run(go())
    sim_cpu1 = moodle.cpu_s()
    out.sim_cpu_s = None if sim_cpu0 is None or sim_cpu1 is None else sim_cpu1 - sim_cpu0
    out.stats = moodle.stats()
    return out


# -- the minimum and the bound ---------------------------------------------------------------------


KIND = {
    "core_webservice_get_site_info": "site info (once)",
    "core_enrol_get_enrolled_users": "roster (one per course)",
    "local_lmsbridge_get_activities": "course read (one per course)",
    "local_lmsbridge_update_section": "exam area: section + summary (one per exam)",
    "local_lmsbridge_upsert_activity": "assessment create (one per assessment)",
    "mod_quiz_save_overrides": "overrides (one batch per assessment)",
    "local_lmsbridge_save_assign_overrides": "overrides (one batch per assessment)",
    "mod_assign_save_overrides": "overrides (one batch per assessment)",
}


@dataclass
class Minimum:
    calls: Counter = field(default_factory=Counter)
    override_students: int = 0
    assessments_with_overrides: int = 0
    assessments: int = 0

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def _students(a: Any) -> int:
    from adapters.moodle.mapping import desired_overrides, modname_for

    return len(desired_overrides(modname_for(a.delivery), a))


def minimum_calls(targets: Iterable[Any]) -> Minimum:
    """The fewest calls lms_bridge's approach needs on a Moodle with the plugin (counted from the
    targets as the adapter adjusts them, not from the run). Overrides go in batches of at most
    (1000 - 10) / 5 students, under PHP's default max_input_vars."""
    m = Minimum()
    m.calls[KIND["core_webservice_get_site_info"]] += 1
    for target in targets:
        m.calls[KIND["core_enrol_get_enrolled_users"]] += 1
        m.calls[KIND["local_lmsbridge_get_activities"]] += 1
        for exam in target.exams:
            m.calls[KIND["local_lmsbridge_update_section"]] += 1
            for a in (exam.assessment, exam.practice):
                if a is None:
                    continue
                m.assessments += 1
                m.calls[KIND["local_lmsbridge_upsert_activity"]] += 1
                n = _students(a)
                if n:
                    m.calls[KIND["mod_quiz_save_overrides"]] += math.ceil(n / ((1000 - 10) // 5))
                    m.override_students += n
                    m.assessments_with_overrides += 1
    return m


def lower_bound(calls: int, latency_s: float, in_flight: int) -> float:
    return calls * latency_s / in_flight


# -- the naive baseline --------------------------------------------------------------------------


@dataclass
class Baseline:
    exams: list[str] = field(default_factory=list)
    courses: int = 0
    calls: int = 0
    writes: int = 0
    wall: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)
    full_calls: int = 0
    full_writes: int = 0
    sample_counted: int = 0


def baseline_counts(targets: Iterable[Any], exams: set[str] | None = None) -> tuple[int, int]:
    """(calls, writes) of the naive script, exactly: a roster read per course, then per exam one
    create and one override call per student whose window or time limit differs."""
    calls = writes = 0
    for target in targets:
        chosen = [e for e in target.exams if exams is None or e.exam_id in exams]
        if not chosen:
            continue
        calls += 1
        for exam in chosen:
            per_student = _students(exam.assessment)
            calls += 1 + per_student
            writes += 1 + per_student
    return calls, writes


class NaiveScript:
    """What a hand-written script does: one call at a time, one call per student."""

    def __init__(self, moodle: SimMoodle, version: str) -> None:
        import httpx

        self.moodle = moodle
        self.version = version
        self.http = httpx.Client(timeout=60)
        self.out = Baseline()

    def close(self) -> None:
        self.http.close()

    def call(self, function: str, write: bool = False, **params: Any) -> Any:
        body = self.moodle.ws(self.http, function, **params)
        self.out.calls += 1
        self.out.writes += write
        return body

    def roster(self, cid: str) -> list[Any]:
        from lms_bridge.lms import Student

        rows = self.call("core_enrol_get_enrolled_users", courseid=int(cid))
        return [Student(u.get("idnumber") or None, str(u["id"])) for u in rows
                if any(r.get("shortname") == "student" for r in u.get("roles") or ())]

    def exam(self, cid: str, exam_id: str, a: Any) -> None:
        from adapters.moodle.mapping import activity_settings, desired_overrides, modname_for

        modname = modname_for(a.delivery)
        made = self.call("local_lmsbridge_upsert_activity", True, courseid=int(cid), idnumber=f"naive:{exam_id}",
                         modname=modname, section=1, name=a.name, visible=1,
                         settings=activity_settings(modname, a))
        if modname == "quiz":
            function, key = "mod_quiz_save_overrides", "quizid"
        elif self.version == "5.3":
            function, key = "mod_assign_save_overrides", "assignid"
        else:
            function, key = "local_lmsbridge_save_assign_overrides", "assignid"
        for uid, fields in sorted(desired_overrides(modname, a).items()):
            item = {"userid": uid} | {k: v for k, v in fields.items() if v is not None}
            self.call(function, True, data={key: made["instance"], "overrides": [item]})


def run_baseline(moodle: SimMoodle, policy: Any, period: Any, sample: list[str], version: str,
                 candidates: list[dict[str, str]]) -> Baseline:
    from adapters.moodle.adapter import MoodleAdapter
    from lms_bridge.lms import CourseRef, Student
    from lms_bridge.sync.desired import course_targets

    moodle.reset_stats()
    script = NaiveScript(moodle, version)
    wanted = set(sample)
    courses = sorted({CourseRef.parse(e.course) for e in period.exams if e.exam_id in wanted}, key=str)
    # The script's windows are lms_bridge's (course_targets), as the adapter adjusts them for
    # Moodle (a quiz's due is its close; extra time extends the close), so both write the same.
    # It computes them from the whole candidates file (the clash rule looks at every course a
    # student sits); it reads rosters only where it writes, for the students' Moodle user ids.
    adjust = MoodleAdapter(None, policy.calendar.zone).adjust_target  # type: ignore[arg-type]
    course_of = {e.exam_id: CourseRef.parse(e.course) for e in period.exams if e.course}
    offline: dict[CourseRef, set[str]] = defaultdict(set)
    for row in candidates:
        offline[course_of[row["exam_id"]]].add(row["student_id"])
    t0 = time.perf_counter()
    try:
        rosters = {c: tuple(Student(s, f"offline:{s}") for s in sorted(ids)) for c, ids in offline.items()}
        rosters |= {c: tuple(script.roster(c.id)) for c in courses}
        report = course_targets(policy, period, rosters)
        for target in report.targets:
            if target.course not in courses:
                continue
            target = adjust(target)
            for exam in target.exams:
                if exam.exam_id in wanted:
                    script.exam(target.course.id, exam.exam_id, exam.assessment)
    finally:
        script.out.wall = time.perf_counter() - t0
        script.close()
    out = script.out
    out.exams, out.courses = sample, len(courses)
    out.stats = moodle.stats()
    return out


# -- reading back: did both write the same windows? -----------------------------------------------


def read_back(moodle: SimMoodle, period: Any, exams: list[str], version: str) -> dict[tuple[str, str], tuple]:
    """(exam id, student id) -> (opens, closes, time limit) as Moodle holds it for the student:
    the activity's own unless their override says otherwise."""
    import httpx

    from lms_bridge.sync import naming

    by_id = {e.exam_id: e for e in period.exams}
    out: dict[tuple[str, str], tuple] = {}
    with httpx.Client(timeout=60) as http:
        cache: dict[int, tuple[dict[int, str], dict, dict]] = {}
        for exam_id in exams:
            exam = by_id[exam_id]
            cid = int(exam.course.split(":", 1)[1])
            if cid not in cache:
                users = {u["id"]: u.get("idnumber") for u in moodle.ws(http, "core_enrol_get_enrolled_users",
                                                                       courseid=cid)
                         if any(r["shortname"] == "student" for r in u["roles"])}
                quizzes = {q["name"]: q for q in moodle.ws(http, "mod_quiz_get_quizzes_by_courses",
                                                           courseids=[cid])["quizzes"]}
                assigns = {a["name"]: a for c in moodle.ws(http, "mod_assign_get_assignments", courseids=[cid],
                                                           includenotenrolledcourses=1)["courses"]
                           for a in c["assignments"]}
                cache[cid] = (users, quizzes, assigns)
            users, quizzes, assigns = cache[cid]
            name = naming.assessment_name(exam.title, exam.exam_id)
            if name in quizzes:
                q = quizzes[name]
                rows = {o["userid"]: o for o in moodle.ws(http, "mod_quiz_get_overrides", quizid=q["id"])["overrides"]}
                own = (q["timeopen"], q["timeclose"], q["timelimit"])
                keys = ("timeopen", "timeclose", "timelimit")
            elif name in assigns:
                a = assigns[name]
                function = "mod_assign_get_overrides" if version == "5.3" else "local_lmsbridge_get_assign_overrides"
                rows = {o["userid"]: o for o in moodle.ws(http, function, assignid=a["id"])["overrides"]}
                own = (a["allowsubmissionsfromdate"], a["cutoffdate"], a["timelimit"])
                keys = ("allowsubmissionsfromdate", "cutoffdate", "timelimit")
            else:
                continue
            for uid, sid in users.items():
                o = rows.get(uid, {})
                out[(exam_id, sid)] = tuple(o.get(k) or v for k, v in zip(keys, own, strict=True))
    return out


# -- report ---------------------------------------------------------------------------------------


def _kinds(requests: list[tuple[float, float, str, str]]) -> Counter:
    return Counter(KIND.get(function, function) for _, _, function, _ in requests)


def _reads_per_course(requests: list[tuple[float, float, str, str]]) -> list[int]:
    per: Counter = Counter()
    for _, _, function, course in requests:
        if function in ("core_webservice_get_site_info",):
            continue
        per[course or "(other)"] += 1
    return sorted(per.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark applying an exam period to a simulated Moodle.")
    parser.add_argument("--exams", type=int, default=300)
    parser.add_argument("--courses", type=int, default=100)
    parser.add_argument("--candidates", type=int, default=200, help="candidates per exam (its course's roster)")
    parser.add_argument("--baseline-exams", type=int, default=20, help="exams the naive script runs (0: skip it)")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--in-flight", type=int, default=DEFAULT_IN_FLIGHT, help="calls lms_bridge keeps in flight")
    parser.add_argument("--moodle-version", choices=("4.5", "5.0", "5.3"), default="4.5")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--quick", action="store_true", help="30 exams in 10 courses, a 5-exam baseline")
    parser.add_argument("--in-process", action="store_true", help="run the simulator in a thread of this process")
    parser.add_argument("--keep", metavar="DIR", help="write the CSV files here and keep them")
    args = parser.parse_args(argv)
    if args.quick:
        args.exams, args.courses, args.baseline_exams = 30, 10, 5

    tmp = tempfile.mkdtemp(prefix="lms_bridge_bench_moodle_")
    try:
        return _run(args, Path(args.keep) if args.keep else Path(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(args: argparse.Namespace, folder: Path) -> int:
    t = time.perf_counter()
    period_rows = craft_period(args.exams, args.courses, args.candidates, args.seed)
    files = period_rows.write(folder)
    gen_s = time.perf_counter() - t

    from adapters.moodle.adapter import MoodleAdapter
    from lms_bridge.domain.model import Delivery
    from lms_bridge.inputs import read_period
    from lms_bridge.policies import load_policy

    policy, _ = load_policy(POLICY)
    period = read_period(policy, files["timetable"], files["plans"])
    config: dict[str, Any] = {"version": args.moodle_version, "plugin": True, "latency_ms": args.latency_ms}
    latency_s = args.latency_ms / 1000
    deliveries = Counter(e.delivery.value for e in period.exams)
    students = {r["student_id"] for r in period_rows.candidates}
    exam_ids = sorted(e.exam_id for e in period.exams)
    sample = baseline_sample(exam_ids, args.seed, args.baseline_exams)

    # -- lms_bridge: apply, then a no-op re-apply on the same Moodle -------------------------------
    with SimMoodle(config, files, args.in_process) as moodle:
        seeded = moodle.info
        first = run_lms_bridge(moodle, policy, period, args.in_flight)
        again = run_lms_bridge(moodle, policy, period, args.in_flight)
        written_by_bridge = read_back(moodle, period, sample, args.moodle_version) if sample else {}

    report = first.plan.report
    adjust = MoodleAdapter(None, policy.calendar.zone).adjust_target  # type: ignore[arg-type]
    targets = [adjust(t) for t in report.targets]
    minimum = minimum_calls(targets)
    bound = lower_bound(minimum.total, latency_s, args.in_flight)
    actual_bound = lower_bound(first.metrics["calls"], latency_s, args.in_flight)
    full_calls, full_writes = baseline_counts(targets)

    # -- the naive baseline, on a fresh Moodle ------------------------------------------------------
    baseline: Baseline | None = None
    written_by_script: dict = {}
    if sample:
        with SimMoodle(config, files, args.in_process) as moodle_b:
            baseline = run_baseline(moodle_b, policy, period, sample, args.moodle_version, period_rows.candidates)
            written_by_script = read_back(moodle_b, period, sample, args.moodle_version)
        baseline.full_calls, baseline.full_writes = full_calls, full_writes
        baseline.sample_counted = baseline_counts(targets, set(sample))[0]

    # -- report -------------------------------------------------------------------------------------
    m, s = first.metrics, first.stats
    plans_n = len(period_rows.plans)
    print(f"lms_bridge Moodle apply benchmark: policy {POLICY}, seed {args.seed}")
    print(f"period: {len(period.exams):,} exams in {len(report.targets):,} Moodle courses, {args.candidates} "
          f"candidates each ({len(period_rows.candidates):,} sittings); {len(students):,} students, {plans_n:,} with "
          f"plans ({plans_n / len(students):.1%}); " + ", ".join(f"{k} {v}" for k, v in sorted(deliveries.items())))
    timed = sum(1 for e in period.exams if e.delivery is not Delivery.DROPBOX)
    print(f"  per exam: {minimum.override_students / max(1, minimum.assessments):.1f} students with a window or "
          f"time limit of their own ({minimum.assessments_with_overrides} of {minimum.assessments} assessments have "
          f"any); {timed} timed quizzes")
    print(f"Moodle: simulator {args.moodle_version} with the lms_bridge plugin in "
          f"{'this process' if args.in_process else 'a child process'}, latency {args.latency_ms:g} ms, no throttle; "
          f"lms_bridge keeps at most {args.in_flight} calls in flight")
    print(f"path: {first.path}")
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
        ("calls (simulator)", f"{s['total']:,}", f"{s['writes']:,} writes, peak {s['peak_concurrent']} in flight"),
        ("faults, retries", f"{m['faults']}", f"{m['retries']} retries; most in flight {m['max_in_flight']}"),
        ("courses failed", f"{len(first.failed)}", "; ".join(first.failed[:3])),
        ("steps by hand", f"{first.manual}", ""),
        ("round trips", f"{mean_rtt * 1000:.1f} ms mean",
         (f"sum {busy:,.1f} s -> {mean_conc:.2f} calls in flight on average (plan {plan_conc:.2f}, "
          f"apply {apply_conc:.2f})")),
        ("CPU time of this process", _fmt_s(first.cpu_s),
         f"{first.cpu_s / first.wall:.0%} of the wall time (the client's event loop"
         + (")" if not args.in_process else " and the simulator)")),
    ]
    if first.sim_cpu_s is not None:
        rows.append(("CPU time of the simulator", _fmt_s(first.sim_cpu_s),
                     f"{first.sim_cpu_s / first.wall:.0%} of the wall time, {first.sim_cpu_s / m['calls'] * 1000:.1f} ms "
                     "a call, in one interpreter: time a real site spends in PHP, on top of the latency"))
    width = max(len(r[0]) for r in rows)
    for name, value, extra in rows:
        print(f"  {name:<{width}}  {value:>14}  {extra}".rstrip())
    print()

    kinds = _kinds(first.requests)
    print("calls by kind, lms_bridge vs the minimum for its approach:")
    names = list(dict.fromkeys([*minimum.calls, *sorted(kinds)]))
    width = max(len(n) for n in names)
    for name in names:
        have, need = kinds.get(name, 0), minimum.calls.get(name, 0)
        note = "" if have == need else f"  {have - need:+,}"
        print(f"  {name:<{width}}  {have:>6,}  {need:>6,}{note}")
    print(f"  {'total':<{width}}  {sum(kinds.values()):>6,}  {minimum.total:>6,}  "
          f"({sum(kinds.values()) / minimum.total:.2f}x the minimum)")
    print()

    reads = _reads_per_course(again.requests)
    a_m, a_s = again.metrics, again.stats
    per_course = (a_m["reads"] - 1) / max(1, again.courses)  # site info once per connection
    print("no-op re-apply (fresh connections, same Moodle):")
    print(f"  wall {_fmt_s(again.wall)}; operations {again.operations}; writes {a_m['writes']} (simulator "
          f"{a_s['writes']}); reads {a_m['reads']:,} = site info + {per_course:.1f} per course "
          f"(min {reads[0] if reads else 0}, max {reads[-1] if reads else 0}: the roster, the course read and "
          f"one override read per assessment); courses failed {len(again.failed)}")
    print()

    print("lower bound:")
    print(f"  minimum calls {minimum.total:,}; Moodle has no throttle, the client keeps {args.in_flight} calls in "
          "flight (a site's PHP workers are the limit)")
    print(f"  bound = {minimum.total:,} calls x {latency_s * 1000:g} ms / {args.in_flight} = {_fmt_s(bound)}; with the "
          f"calls lms_bridge made ({m['calls']:,}) it would be {_fmt_s(actual_bound)}")
    if mean_conc:
        print(f"  wall / bound = {first.wall / bound:.2f} = calls {m['calls'] / minimum.total:.2f} x round trip "
              f"{mean_rtt / latency_s:.2f} ({mean_rtt * 1000:.1f} ms / {latency_s * 1000:g} ms) x concurrency "
              f"{args.in_flight / mean_conc:.2f} ({args.in_flight} / {mean_conc:.2f} in flight)")
    if first.sim_cpu_s is not None:
        served = max(bound, first.sim_cpu_s)
        print(f"  the simulator alone needed {_fmt_s(first.sim_cpu_s)} of CPU in one interpreter: no client could "
              f"finish sooner than max(bound, that) = {_fmt_s(served)}; wall / that = {first.wall / served:.2f}")
    print()

    base_time = None
    if baseline is not None:
        b = baseline
        per_call = b.wall / max(1, b.calls)
        base_time = b.wall * b.full_calls / max(1, b.sample_counted)
        print(f"naive baseline (sequential script, one call per student), run on {len(b.exams)} of "
              f"{len(period.exams)} exams ({b.courses} courses), on a fresh Moodle:")
        print(f"  sample: {b.calls:,} calls ({b.stats['total']:,} at the simulator, counted in advance "
              f"{b.sample_counted:,}), {b.writes:,} writes, {_fmt_s(b.wall)} ({per_call * 1000:.1f} ms a call)")
        print(f"  whole period, calls counted exactly from the same windows: {b.full_calls:,} calls "
              f"({b.full_writes:,} writes)")
        print(f"  whole period, wall EXTRAPOLATED from the {len(b.exams)}-exam sample: {_fmt_s(base_time)} "
              "(linear in calls)")
        compared = [k for k in written_by_script if k in written_by_bridge]
        differ = [k for k in compared if written_by_script[k] != written_by_bridge[k]]
        missing = len(set(written_by_bridge) ^ set(written_by_script))
        usual = {}
        for exam_id in {k[0] for k in compared}:
            usual[exam_id] = Counter(written_by_bridge[k] for k in compared if k[0] == exam_id).most_common(1)[0][0]
        special = sum(1 for k in compared if written_by_bridge[k] != usual[k[0]])
        print(f"  read back from both Moodles: {len(compared):,} (exam, student) windows compared ({special:,} "
              f"with their own times), {len(differ)} differ, {missing} missing on one side"
              + ("" if not differ and not missing else "  <-- the two runs did not write the same thing"))
        if differ:
            k = differ[0]
            print(f"    e.g. {k}: lms_bridge {written_by_bridge[k]}, script {written_by_script[k]}")
        print()

    print("summary:")
    rows = [("", "lms_bridge", "naive baseline", "ratio")]
    if baseline is not None:
        rows += [
            ("calls, whole period", f"{m['calls']:,}", f"{baseline.full_calls:,}",
             f"{baseline.full_calls / m['calls']:.1f}x"),
            ("writes, whole period", f"{m['writes']:,}", f"{baseline.full_writes:,}",
             f"{baseline.full_writes / max(1, m['writes']):.1f}x"),
            ("wall time, whole period", _fmt_s(first.wall), f"{_fmt_s(base_time)} (extrap.)",
             f"{base_time / first.wall:.1f}x"),
        ]
    else:
        rows += [("calls, whole period", f"{m['calls']:,}", f"{full_calls:,} (counted)",
                  f"{full_calls / m['calls']:.1f}x")]
    rows += [("lower bound", _fmt_s(bound), "", f"wall {first.wall / bound:.2f}x the bound")]
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print(f"  {r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:>{w[2]}}  {r[3]}")
    print()

    ratio = (baseline.full_calls if baseline else full_calls) / m["calls"]
    no_error = not first.failed and not again.failed
    print(f"  target calls >= {TARGET_CALL_RATIO:.0f}x fewer than the baseline:  {ratio:8.1f}x   "
          f"{_verdict(ratio >= TARGET_CALL_RATIO)}")
    print(f"  target wall <= {TARGET_BOUND_RATIO}x the lower bound:          {first.wall / bound:8.2f}x   "
          f"{_verdict(first.wall <= TARGET_BOUND_RATIO * bound)}")
    print(f"  target no error reaching the user:              {len(first.failed) + len(again.failed):5d} courses failed "
          f"({m['faults']} faults absorbed)   {_verdict(no_error)}")
    print(f"  target no-op re-apply writes nothing:           {a_m['writes']:5d} writes   {_verdict(a_m['writes'] == 0)}")
    print(f"  target no-op re-apply <= {TARGET_READS_PER_COURSE:.0f} reads per course:     {per_course:8.1f}     "
          f"{_verdict(per_course <= TARGET_READS_PER_COURSE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
