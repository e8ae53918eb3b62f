"""The sample exam periods shipped in config/samples, and the generator that makes them.

Each sample must validate and compute under its policy, look like a real exam period (about
15% of students with a support plan, no exam on a public holiday of the policy's region),
and be exactly what `bench/period.py` regenerates: the generator is seeded and deterministic.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from datetime import date, time
from pathlib import Path

import holidays
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # plain `pytest` without an installed package
    sys.path.insert(0, str(ROOT))

from lms_bridge import report, services  # noqa: E402
from lms_bridge.inputs import read_period  # noqa: E402
from lms_bridge.policies import load_policy  # noqa: E402

SAMPLES = ROOT / "config" / "samples"
POLICIES = ("nottingham", "qmu", "default")
COURSE_PREFIX = {"nottingham": ("moodle:",), "qmu": ("canvas:",), "default": ("canvas:", "moodle:")}


def _load_generator():
    spec = importlib.util.spec_from_file_location("bench_period", ROOT / "bench" / "period.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


period_gen = _load_generator()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


class Sample:
    def __init__(self, name: str) -> None:
        self.name = name
        self.folder = SAMPLES / name
        self.files = [self.folder / f"{n}.csv" for n in ("timetable", "plans", "candidates")]
        self.policy, _ = load_policy(name)
        self.period = read_period(self.policy, *self.files)
        self.result = services.windows_for(self.policy, self.period)


@pytest.fixture(scope="module", params=POLICIES)
def sample(request: pytest.FixtureRequest) -> Sample:
    return Sample(request.param)


@pytest.fixture(scope="module")
def nottingham() -> Sample:
    return Sample("nottingham")


def test_sample_validates_and_computes(sample: Sample) -> None:
    period, result = sample.period, sample.result
    assert len(result.windows) == len(period.sittings)
    assert {(w.exam_id, w.student_id) for w in result.windows} == {(s.exam_id, s.student_id) for s in period.sittings}
    assert all(w.opens_at < w.due_at <= w.closes_at for w in result.windows)
    assert report.windows_json(sample.policy.name, result.windows, result.warnings).startswith('{"policy"')


def test_sample_is_demo_sized(sample: Sample) -> None:
    students = {s.student_id for s in sample.period.sittings}
    assert 25 <= len(sample.period.exams) <= 40
    assert 400 <= len(students) <= 800
    assert 1500 <= len(sample.period.sittings) <= 3000
    per_student: dict[str, int] = {}
    for s in sample.period.sittings:
        per_student[s.student_id] = per_student.get(s.student_id, 0) + 1
    assert set(per_student.values()) <= {2, 3, 4, 5, 6}


def test_about_15_percent_of_students_have_plans(sample: Sample) -> None:
    students = {s.student_id for s in sample.period.sittings}
    with_plans = [s for s in students if s in sample.period.plans]
    assert 0.12 <= len(with_plans) / len(students) <= 0.18
    assert set(sample.period.plans) <= students  # every plan belongs to a candidate
    extra = [float(p.extra_time_percent) for p in sample.period.plans.values()]
    assert extra.count(25) + extra.count(50) > len(extra) / 2  # mostly 25% or 50%
    assert 100 in extra
    assert any(p.rest_break_minutes_per_hour == 10 for p in sample.period.plans.values())


def test_no_exam_on_a_public_holiday_or_weekend(sample: Sample) -> None:
    cal = sample.policy.calendar
    public = holidays.country_holidays(cal.country, subdiv=cal.subdivision)
    zone = cal.zone
    for exam in sample.period.exams:
        day = exam.start.astimezone(zone).date()
        assert day not in public, f"{exam.exam_id} is on {public.get(day)} ({day})"
        assert day not in cal.closures
        assert day.weekday() < 5, f"{exam.exam_id} is released on a weekend"


def test_known_holidays_are_avoided() -> None:
    """The two holidays the sample periods straddle (POLICY.md regions ENG and SCT)."""
    starts = {
        name: {r["start"][:10] for r in _rows(SAMPLES / name / "timetable.csv")} for name in ("nottingham", "qmu")
    }
    assert "2026-05-25" not in starts["nottingham"]  # Spring Bank Holiday, England
    assert {"2026-05-22", "2026-05-26"} <= starts["nottingham"]  # either side of it
    assert "2026-11-30" not in starts["qmu"]  # St Andrew's Day, Scotland
    assert "2026-12-01" in starts["qmu"]


def test_timetable_columns_are_realistic(sample: Sample) -> None:
    for exam in sample.period.exams:
        assert exam.course and exam.course.startswith(COURSE_PREFIX[sample.name])
        if exam.delivery.value == "new_quiz":
            assert exam.course.startswith("canvas:")
        module_code = exam.exam_id.rsplit("-", 1)[0]  # CHEM2041-MAY26 -> CHEM2041
        assert exam.title.startswith(module_code + " ")
    if sample.name == "nottingham":
        assert {e.duration_minutes for e in sample.period.exams} <= {60, 120, 180, 1440}


def test_nottingham_sample_shows_the_clash_rule_and_a_few_warnings(nottingham: Sample) -> None:
    rules = {r for w in nottingham.result.windows for r in w.rules}
    assert "nottingham.clash" in rules
    assert "nottingham.24h_plan" in rules
    assert 1 <= len(nottingham.result.warnings) <= 20
    assert {w.rule for w in nottingham.result.warnings} <= {"nottingham.release_slot", "nottingham.max_short_per_day"}


@pytest.mark.parametrize("name", POLICIES)
def test_shipped_sample_is_what_the_generator_writes(name: str) -> None:
    """config/samples/README.md says how to regenerate them; this keeps that true."""
    period = period_gen.generate_period(name, "sample")
    assert _rows(SAMPLES / name / "timetable.csv") == period.timetable
    assert _rows(SAMPLES / name / "plans.csv") == period.plans
    assert _rows(SAMPLES / name / "candidates.csv") == period.candidates


def test_generator_is_deterministic() -> None:
    first = period_gen.generate_period("nottingham", "tiny", seed=7)
    again = period_gen.generate_period("nottingham", "tiny", seed=7)
    other = period_gen.generate_period("nottingham", "tiny", seed=8)
    assert (first.timetable, first.plans, first.candidates) == (again.timetable, again.plans, again.candidates)
    assert first.notes == again.notes
    assert (first.timetable, first.candidates) != (other.timetable, other.candidates)


def test_generator_writes_readable_csv(tmp_path: Path) -> None:
    period = period_gen.generate_period("qmu", "tiny", seed=3)
    paths = period.write(tmp_path)
    policy, _ = load_policy("qmu")
    read = read_period(policy, paths["timetable"], paths["plans"], paths["candidates"])
    assert len(read.sittings) == len(period.candidates)
    assert len(read.exams) == len(period.timetable)


def test_generator_refuses_clock_change_times() -> None:
    cal = period_gen._Calendar("nottingham")
    assert not cal.valid_local(date(2026, 3, 29), time(1, 30))  # clocks go forward
    assert not cal.valid_local(date(2026, 10, 25), time(1, 30))  # clocks go back
    assert cal.valid_local(date(2026, 5, 11), time(9, 0))
    assert not cal.is_release_day(date(2026, 5, 25))
    assert cal.next_exam_day(date(2026, 5, 22)) == date(2026, 5, 23)  # Saturday is a Nottingham exam day
    assert cal.next_exam_day(date(2026, 5, 23)) == date(2026, 5, 26)
