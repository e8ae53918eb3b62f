"""Benchmark: every candidate's window for a whole exam period, nottingham policy.

    python bench/bench_windows.py                          # 2,000 exams, ~200,000 sittings
    python bench/bench_windows.py --exams 500 --sittings 50000
    python bench/bench_windows.py --profile                # and a cProfile of the compute phase

The period comes from bench/period.py (seeded, so every run measures the same data), written
as CSV to a temporary folder by a child process, so this process's peak RSS is the pipeline's
own. Measured separately, in this order:

1. read + validate: `lms_bridge.inputs.read_period` over the three CSV files;
2. compute: `lms_bridge.services.windows_for` (windows, the clash rule and lint);
3. JSON: `lms_bridge.report.windows_json`;
4. end-to-end = policy load + 1 + 2 + 3 in one pass, as `lms-bridge windows --format json` does
   it minus interpreter start and imports (reported on their own) and writing to stdout; with
   `--repeat N` each figure is the best of N passes (end-to-end: the best whole pass);
5. peak memory: process peak RSS after that pass (`resource.getrusage`), and the tracemalloc
   peak of a second, traced compute run (traced separately: tracing slows Python down);
   `--trace-all` traces the read and JSON phases too;
6. baseline: no memoisation, a fresh `WindowCalculator` per sitting (sharing one ExamCalendar)
   on a sample of sittings, extrapolated to all of them. The baseline covers the per-sitting
   timing only (no clash rule, lint or sorting), so the speed-up it shows is a lower bound.
   The sampled sittings' windows are also compared with the memoised ones (clash-moved
   windows excepted): any difference is a bug.

A benchmark, not a test: it exits 0 whether or not the targets are met.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 2.0
TARGET_MB = 500.0
POLICY = "nottingham"


def _fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:8.0f} ms" if seconds < 10 else f"{seconds:8.2f} s "


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def generate(folder: Path, exams: int, sittings: int, seed: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "period.py"), "--policy", POLICY, "--out", str(folder),
         "--exams", str(exams), "--sittings", str(sittings), "--seed", str(seed), "--quiet"],
        check=True,
    )
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark window computation for a whole exam period.")
    parser.add_argument("--exams", type=int, default=2000)
    parser.add_argument("--sittings", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=1, help="end-to-end passes; the best time of each phase is shown")
    parser.add_argument("--baseline-sample", type=int, default=20_000, help="sittings timed without memoisation")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of each phase")
    parser.add_argument("--profile-top", type=int, default=15, metavar="N", help="functions shown per profile")
    parser.add_argument("--trace-all", action="store_true", help="also trace the read and JSON phases' memory")
    parser.add_argument("--keep", metavar="DIR", help="write the CSV files here and keep them")
    args = parser.parse_args(argv)

    tmp = tempfile.mkdtemp(prefix="lms_bridge_bench_")
    try:
        return _run(args, Path(args.keep) if args.keep else Path(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(args: argparse.Namespace, folder: Path) -> int:
    gen_s = generate(folder, args.exams, args.sittings, args.seed)
    files = [folder / f"{n}.csv" for n in ("timetable", "plans", "candidates")]

    t = time.perf_counter()
    from lms_bridge import report, services
    from lms_bridge.domain.calendar import ExamCalendar
    from lms_bridge.domain.model import NO_PLAN
    from lms_bridge.domain.windows import WindowCalculator
    from lms_bridge.inputs import read_period
    from lms_bridge.policies import load_policy
    import_s = time.perf_counter() - t

    # -- end-to-end passes, phase by phase (the best of --repeat) ----------------------
    best: list[float] | None = None
    for _ in range(max(1, args.repeat)):
        period = result = text = None
        gc.collect()
        t0 = time.perf_counter()
        policy, _ = load_policy(POLICY)
        t1 = time.perf_counter()
        period = read_period(policy, *files)
        t2 = time.perf_counter()
        result = services.windows_for(policy, period)
        t3 = time.perf_counter()
        text = report.windows_json(policy.name, result.windows, result.warnings)
        t4 = time.perf_counter()
        times = [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0]
        best = times if best is None else [min(a, b) for a, b in zip(best, times)]
    policy_s, read_s, compute_s, json_s, e2e_s = best
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    n_sittings, n_exams = len(period.sittings), len(period.exams)
    students = {s.student_id for s in period.sittings}
    with_plans = sum(1 for s in students if s in period.plans)
    rules: dict[str, int] = {}
    for w in result.windows:
        for r in w.rules:
            rules[r] = rules.get(r, 0) + 1
    warnings: dict[str, int] = {}
    for w in result.warnings:
        warnings[w.rule] = warnings.get(w.rule, 0) + 1
    json_mb = len(text.encode("utf-8")) / 1e6
    del text

    # -- compute, split: windows vs lint (as windows_for calls them) ------------------
    split = None
    try:
        from lms_bridge.domain.lint import lint_timetable
        from lms_bridge.domain.windows import compute_windows

        gc.collect()
        a = time.perf_counter()
        cal = ExamCalendar(policy.calendar)
        calc = WindowCalculator(policy, cal)
        wins = compute_windows(policy, period.exams, period.plans, period.sittings, calc)
        b = time.perf_counter()
        lint_timetable(policy, calc, period.exams, period.sittings)
        c = time.perf_counter()
        split = (b - a, c - b)
        del wins
    except Exception as exc:  # noqa: BLE001 - the core's internals may change under us
        split = exc

    # -- tracemalloc peaks, each phase traced on its own ------------------------------
    def traced(call):  # noqa: ANN001, ANN202
        gc.collect()
        tracemalloc.start()
        call()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    traced_peak = traced(lambda: services.windows_for(policy, period))
    read_peak = traced(lambda: read_period(policy, *files)) if args.trace_all else None
    json_peak = traced(lambda: report.windows_json(policy.name, result.windows, result.warnings)) if args.trace_all else None

    # -- baseline: no memoisation --------------------------------------------------
    rng = random.Random(args.seed)
    sample = rng.sample(period.sittings, min(args.baseline_sample, n_sittings))
    by_id = {e.exam_id: e for e in period.exams}
    shared = ExamCalendar(policy.calendar)
    gc.collect()
    b0 = time.perf_counter()
    naive = [
        WindowCalculator(policy, shared).timing(by_id[s.exam_id], period.plans.get(s.student_id, NO_PLAN))
        for s in sample
    ]
    base_sample_s = time.perf_counter() - b0
    base_total_s = base_sample_s * n_sittings / len(sample)
    memo = {(w.exam_id, w.student_id): w for w in result.windows}
    clash_rule = policy.rule("clash")
    compared = mismatched = 0
    for s, timing in zip(sample, naive):
        w = memo[(s.exam_id, s.student_id)]
        if clash_rule in w.rules:
            continue
        compared += 1
        if (w.opens_at, w.due_at, w.closes_at, w.time_limit_minutes, tuple(w.rules)) != (
            timing.opens_at, timing.due_at, timing.closes_at, timing.time_limit_minutes, tuple(timing.rules)
        ):
            mismatched += 1

    # -- report -------------------------------------------------------------------------
    print(f"lms_bridge windows benchmark: policy {POLICY}, seed {args.seed}")
    print(
        f"period: {n_exams:,} exams, {n_sittings:,} sittings, {len(students):,} students, "
        f"{with_plans:,} with plans ({with_plans / len(students):.1%}); "
        f"{len(result.windows):,} windows, {len(result.warnings):,} warnings; JSON {json_mb:.1f} MB"
    )
    print(f"  rules:    " + ", ".join(f"{k} {v:,}" for k, v in sorted(rules.items())))
    print(f"  warnings: " + (", ".join(f"{k} {v:,}" for k, v in sorted(warnings.items())) or "none"))
    print(f"(setup, not measured: CSV generation {gen_s:.2f} s in a child process; imports {import_s * 1000:.0f} ms)")
    print()
    rate = lambda s: f"{n_sittings / s:>12,.0f} sittings/s"  # noqa: E731
    rows = [
        ("policy load", _fmt_s(policy_s), ""),
        ("CSV read + validate (read_period)", _fmt_s(read_s), ""),
        ("compute (services.windows_for)", _fmt_s(compute_s), rate(compute_s)),
    ]
    if isinstance(split, tuple):
        rows += [
            ("  of which compute_windows (rerun)", _fmt_s(split[0]), ""),
            ("  of which lint_timetable (rerun)", _fmt_s(split[1]), ""),
        ]
    rows += [
        ("JSON (report.windows_json)", _fmt_s(json_s), ""),
        ("end-to-end", _fmt_s(e2e_s), rate(e2e_s)),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, extra in rows:
        print(f"  {name:<{width}}  {value}  {extra}".rstrip())
    if isinstance(split, Exception):
        print(f"  (compute split unavailable: {split!r})")
    print()
    print(f"  tracemalloc peak, compute phase   {traced_peak / 2**20:8.1f} MB")
    if read_peak is not None:
        print(f"  tracemalloc peak, read phase      {read_peak / 2**20:8.1f} MB")
        print(f"  tracemalloc peak, JSON phase      {json_peak / 2**20:8.1f} MB")
    print(f"  process peak RSS (after e2e pass) {rss_mb:8.1f} MB")
    print()
    print(
        f"  baseline, no memoisation: {len(sample):,} sittings in {base_sample_s * 1000:.0f} ms "
        f"-> {base_total_s:.2f} s extrapolated to {n_sittings:,} ({n_sittings / base_total_s:,.0f} sittings/s)"
    )
    print(f"  speed-up over the baseline: windows_for {base_total_s / compute_s:.1f}x (it also lints; the "
          "baseline has no clash rule, lint or sort)"
          + (f", compute_windows alone {base_total_s / split[0]:.1f}x" if isinstance(split, tuple) else ""))
    print(f"  baseline vs memoised windows: {compared:,} compared, {mismatched:,} differ"
          + ("" if not mismatched else "  <-- BUG"))
    print()
    print(f"  target end-to-end < {TARGET_SECONDS:.0f} s:    {e2e_s:6.2f} s   {_verdict(e2e_s < TARGET_SECONDS)}")
    print(f"  target peak RSS < {TARGET_MB:.0f} MB:  {rss_mb:6.0f} MB  {_verdict(rss_mb < TARGET_MB)}")

    if args.profile:
        import cProfile
        import io
        import pstats

        for label, call in (
            ("inputs.read_period", lambda: read_period(policy, *files)),
            ("services.windows_for", lambda: services.windows_for(policy, period)),
            ("report.windows_json", lambda: report.windows_json(policy.name, result.windows, result.warnings)),
        ):
            prof = cProfile.Profile()
            prof.enable()
            call()
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).strip_dirs().sort_stats("tottime").print_stats(args.profile_top)
            print(f"\ncProfile of {label} (top {args.profile_top} by own time):")
            print(out.getvalue().split("\n", 1)[1].strip("\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
