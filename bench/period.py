"""A realistic, seeded exam period for a policy: timetable.csv, plans.csv and candidates.csv.

    python bench/period.py --policy nottingham --out config/samples/nottingham --scale sample
    python bench/period.py --policy nottingham --out /tmp/big --exams 2000 --sittings 200000

The same policy, scale and seed always give the same rows (only `random.Random` seeded with
a string is used, and nothing iterates a set), so the shipped samples can be regenerated and
compared byte for byte.

What makes it realistic, per policy (the `PROFILES` below):

* nottingham (seed 001): Moodle courses (`moodle:<id>`), drop-box and Moodle-quiz exams of
  60/120/180 minutes in the 09:00, 13:30 and 16:30 release slots (a few staggered 15 or 30
  minutes later), 16:30 only for one-hour papers; about 12% 24-hour exams released at 09:00
  Monday to Friday. 11-29 May 2026; Monday 25 May (Spring Bank Holiday) has no exams.
* qmu (seed 002): Canvas courses (`canvas:<id>`), drop-box, Classic Quiz and New Quizzes;
  60/90/120/180 minutes with 5 minutes' reading on most papers, a few 24-hour exams;
  releases 09:30 and 14:00. 30 Nov - 11 Dec 2026; 30 Nov (St Andrew's Day) has no exams.
* default: a mix of Canvas and Moodle courses (New Quizzes only on Canvas), slots 09:00,
  10:00, 13:00 and 14:00, some papers with reading or upload time. 11-22 Jan 2027.

Everywhere: module-style ids and titles ("CHEM2041 Organic Chemistry II"), skewed cohorts
(most 20-150 candidates, a few 300-900), every student sitting 2-6 exams spread over the
period with at most two on one day and never two overlapping, about 15% of students with a
support plan (mostly 25% or 50%, some 100%, a few with 10 min/hour rest breaks), and some
deliberate situations listed in `Period.notes`: a Nottingham 24-hour exam whose
plan-extended deadline falls on the day of another exam (nottingham.clash), a 24-hour exam
released just before a bank holiday sat by a student with 100% extra time, a short exam on
the first exam day after a holiday, one Nottingham exam outside the release slots, and about
0.5% of students with three exams on one day (nottingham.max_short_per_day). Local start times that fall in a clock-change gap or fold are never produced, nor
exams on public holidays (the `holidays` package, with the policy's subdivision).
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

ROOT = Path(__file__).resolve().parent.parent
POLICY_DIR = ROOT / "config" / "policies"

TIMETABLE_COLUMNS = (
    "exam_id", "title", "delivery", "start", "duration_minutes", "course", "reading_minutes", "upload_minutes",
)
PLAN_COLUMNS = ("student_id", "extra_time_percent", "rest_break_minutes_per_hour")
CANDIDATE_COLUMNS = ("exam_id", "student_id")

# exams, sittings
SCALES: dict[str, tuple[int, int]] = {
    "tiny": (12, 300),
    "sample": (32, 2200),
    "bench": (2000, 200_000),
}
DEFAULT_SEED = 2026
PLAN_SHARE = 0.15
EXAMS_PER_STUDENT = ((2, 12), (3, 22), (4, 30), (5, 22), (6, 14))  # (count, weight)
# (extra_time_percent, weight); 0 means a rest-break-only plan
EXTRA_TIME = ((25, 30), (50, 40), (100, 8), (10, 3), (15, 4), (20, 3), (33, 3), (75, 4), (0, 5))
REST_BREAK_SHARE = 0.12  # of plans with extra time, who also get 10 min/hour
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Slot:
    clock: time
    weight: float
    durations: tuple[int, ...]  # short durations this slot takes


@dataclass(frozen=True)
class Profile:
    first_day: date
    last_day: date
    id_suffix: str  # exam ids are "<module code>-<suffix>"
    code_style: str  # nottingham | qmu | default
    slots: tuple[Slot, ...]
    durations: tuple[tuple[int, float], ...]  # short durations and weights
    long_share: float  # share of 24-hour exams
    long_release: tuple[time, ...]
    stagger: tuple[tuple[int, float], ...] = ((0, 1.0),)  # minutes later, weight (short exams)
    lms: tuple[tuple[str, float], ...] = (("moodle", 1.0),)
    deliveries: tuple[tuple[str, float], ...] = (("dropbox", 0.55), ("quiz", 0.45))
    reading: tuple[tuple[int | None, float], ...] = ((None, 1.0),)  # None: blank cell (policy default)
    upload: tuple[tuple[int | None, float], ...] = ((None, 1.0),)
    upload_extended: bool = False  # for the generator's own overlap check
    default_upload: int = 0
    student_id: str = "{:08d}"
    student_base: int = 20_000_000
    clash_case: bool = False  # place a 24-hour exam/clash situation (nottingham.clash)
    off_slot_case: bool = False  # one exam outside the release slots (lint example)
    overload_share: float = 0.005  # students given a third exam on one day


PROFILES: dict[str, Profile] = {
    "nottingham": Profile(
        first_day=date(2026, 5, 11),
        last_day=date(2026, 5, 29),
        id_suffix="MAY26",
        code_style="nottingham",
        slots=(
            Slot(time(9, 0), 0.45, (60, 120, 180)),
            Slot(time(13, 30), 0.40, (60, 120, 180)),
            Slot(time(16, 30), 0.15, (60,)),
        ),
        durations=((60, 0.30), (120, 0.45), (180, 0.25)),
        long_share=0.12,
        long_release=(time(9, 0),),
        stagger=((0, 0.88), (15, 0.09), (30, 0.03)),
        lms=(("moodle", 1.0),),
        deliveries=(("dropbox", 0.55), ("quiz", 0.45)),
        upload_extended=True,
        default_upload=30,
        student_id="{:08d}",
        student_base=20_300_000,
        clash_case=True,
        off_slot_case=True,
    ),
    "qmu": Profile(
        first_day=date(2026, 11, 30),
        last_day=date(2026, 12, 11),
        id_suffix="DEC26",
        code_style="qmu",
        slots=(Slot(time(9, 30), 0.55, (60, 90, 120, 180)), Slot(time(14, 0), 0.45, (60, 90, 120, 180))),
        durations=((60, 0.20), (90, 0.22), (120, 0.36), (180, 0.22)),
        long_share=0.06,
        long_release=(time(9, 30),),
        lms=(("canvas", 1.0),),
        deliveries=(("dropbox", 0.40), ("quiz", 0.35), ("new_quiz", 0.25)),
        reading=((5, 0.85), (None, 0.15)),
        student_id="{:07d}",
        student_base=2_410_000,
    ),
    "default": Profile(
        first_day=date(2027, 1, 11),
        last_day=date(2027, 1, 22),
        id_suffix="JAN27",
        code_style="default",
        slots=(
            Slot(time(9, 0), 0.35, (60, 90, 120, 180)),
            Slot(time(10, 0), 0.15, (60, 90, 120)),
            Slot(time(13, 0), 0.20, (60, 90, 120, 180)),
            Slot(time(14, 0), 0.30, (60, 90, 120)),
        ),
        durations=((60, 0.25), (90, 0.20), (120, 0.35), (180, 0.20)),
        long_share=0.10,
        long_release=(time(9, 0), time(10, 0)),
        lms=(("canvas", 0.5), ("moodle", 0.5)),
        deliveries=(("dropbox", 0.45), ("quiz", 0.35), ("new_quiz", 0.20)),
        reading=((None, 0.75), (10, 0.15), (15, 0.10)),
        upload=((None, 0.80), (15, 0.15), (30, 0.05)),
        student_id="S{:07d}",
        student_base=1_100_000,
    ),
}

# department: (weight, Nottingham-style 4-letter code, short code, topics)
DEPARTMENTS: tuple[tuple[float, str, str, tuple[str, ...]], ...] = (
    (1.2, "CHEM", "CH", ("Organic Chemistry", "Inorganic Chemistry", "Physical Chemistry", "Analytical Chemistry",
                         "Spectroscopy", "Chemical Thermodynamics", "Quantum Chemistry", "Medicinal Chemistry")),
    (1.3, "MATH", "MA", ("Calculus", "Linear Algebra", "Probability", "Real Analysis", "Differential Equations",
                         "Statistical Inference", "Numerical Methods", "Group Theory", "Complex Analysis")),
    (1.0, "PHYS", "PH", ("Classical Mechanics", "Electromagnetism", "Quantum Physics", "Thermal Physics",
                         "Optics", "Nuclear and Particle Physics", "Condensed Matter", "Astrophysics")),
    (1.4, "COMP", "CS", ("Programming", "Algorithms and Data Structures", "Databases", "Operating Systems",
                         "Computer Networks", "Machine Learning", "Software Engineering", "Computer Security")),
    (1.1, "BIOS", "BI", ("Cell Biology", "Genetics", "Ecology", "Biochemistry", "Microbiology",
                         "Plant Physiology", "Evolution", "Molecular Biology")),
    (1.3, "LAWS", "LW", ("Contract Law", "Criminal Law", "Public Law", "Tort Law", "Land Law",
                         "Equity and Trusts", "EU Law", "Company Law")),
    (1.5, "BUSI", "BM", ("Accounting", "Marketing", "Operations Management", "Corporate Finance",
                         "Organisational Behaviour", "Business Strategy", "Economics for Business")),
    (1.0, "ECON", "EC", ("Microeconomics", "Macroeconomics", "Econometrics", "Public Economics",
                         "Development Economics", "Game Theory", "Labour Economics")),
    (0.9, "PSYC", "PS", ("Cognitive Psychology", "Social Psychology", "Developmental Psychology",
                         "Research Methods", "Biological Psychology", "Clinical Psychology")),
    (1.0, "MMME", "ME", ("Engineering Mathematics", "Thermodynamics", "Fluid Mechanics", "Materials Science",
                         "Solid Mechanics", "Manufacturing Processes", "Control Systems")),
    (0.8, "EEEE", "EE", ("Circuit Analysis", "Electronics", "Signals and Systems", "Power Systems",
                         "Digital Design", "Communications Engineering")),
    (0.9, "MEDS", "MD", ("Human Physiology", "Pharmacology", "Anatomy", "Pathology", "Clinical Skills",
                         "Public Health")),
    (1.1, "NURS", "NU", ("Adult Nursing Practice", "Pharmacology for Nurses", "Evidence-Based Practice",
                         "Mental Health Nursing", "Child Health Nursing", "Community Care")),
    (0.6, "HIST", "HI", ("Medieval Europe", "Modern British History", "The Cold War", "Early Modern Europe",
                         "History of Science")),
    (0.6, "ENGL", "EN", ("Shakespeare", "Victorian Literature", "Modern Poetry", "Linguistics",
                         "Old and Middle English")),
    (0.5, "GEOG", "GE", ("Physical Geography", "Human Geography", "Geographical Information Systems",
                         "Climate Change")),
    (0.5, "PHIL", "PL", ("Logic", "Ethics", "Philosophy of Mind", "Epistemology")),
    (0.7, "PHAR", "PA", ("Pharmaceutics", "Pharmacology", "Medicinal Chemistry", "Clinical Pharmacy")),
    (0.6, "SPTH", "SL", ("Speech Science", "Language Development", "Audiology", "Dysphagia")),
    (0.5, "DIET", "DN", ("Nutrition Science", "Dietetic Practice", "Food Science")),
)
LEVEL_SUFFIX = {1: "I", 2: "II", 3: "III", 4: "IV"}


@dataclass
class Period:
    """Rows ready for the three CSV files, plus what was placed deliberately."""

    policy: str
    seed: int
    timetable: list[dict[str, str]]
    plans: list[dict[str, str]]
    candidates: list[dict[str, str]]
    notes: list[str] = field(default_factory=list)

    def write(self, folder: str | Path) -> dict[str, Path]:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        out = {}
        for name, rows, columns in (
            ("timetable", self.timetable, TIMETABLE_COLUMNS),
            ("plans", self.plans, PLAN_COLUMNS),
            ("candidates", self.candidates, CANDIDATE_COLUMNS),
        ):
            path = folder / f"{name}.csv"
            with path.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
                writer.writeheader()
                writer.writerows(rows)
            out[name] = path
        return out

    def summary(self) -> str:
        students = {r["student_id"] for r in self.candidates}
        return (
            f"{self.policy}: {len(self.timetable)} exams, {len(students)} students, "
            f"{len(self.candidates)} sittings, {len(self.plans)} plans "
            f"({len(self.plans) / max(1, len(students)):.1%} of students)"
        )


# -- the calendar ---------------------------------------------------------------------------


class _Calendar:
    """Exam days as the policy file defines them, and local-time sanity checks."""

    def __init__(self, policy: str) -> None:
        settings: dict = {}
        path = POLICY_DIR / f"{policy}.toml"
        if path.is_file():
            settings = tomllib.loads(path.read_text(encoding="utf-8")).get("calendar", {})
        self.zone = ZoneInfo(settings.get("timezone", "Europe/London"))
        self.public = holidays.country_holidays(
            settings.get("country", "GB"), subdiv=settings.get("subdivision", "ENG")
        )
        self.weekdays = frozenset(
            WEEKDAY_NAMES.index(d) for d in settings.get("exam_weekdays", ["Mon", "Tue", "Wed", "Thu", "Fri"])
        )
        self.closures = frozenset(date.fromisoformat(d) for d in settings.get("closures", []))

    def is_holiday(self, day: date) -> bool:
        return day in self.public or day in self.closures

    def is_exam_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and not self.is_holiday(day)

    def is_release_day(self, day: date) -> bool:
        """Exams are released Monday to Friday on exam days (Saturday only ever takes deadlines)."""
        return day.weekday() < 5 and self.is_exam_day(day)

    def next_exam_day(self, day: date) -> date:
        for offset in range(1, 400):
            candidate = day + timedelta(days=offset)
            if self.is_exam_day(candidate):
                return candidate
        raise ValueError(f"no exam day after {day}")

    def valid_local(self, day: date, clock: time) -> bool:
        """False for a time in a spring-forward gap or an autumn fold."""
        naive = datetime.combine(day, clock)
        first, second = (naive.replace(tzinfo=self.zone, fold=f) for f in (0, 1))
        if first.utcoffset() != second.utcoffset():
            return False  # a fold (ambiguous) or a gap (the two folds disagree there too)
        back = first.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None)
        return back == naive


# -- the generator --------------------------------------------------------------------------


@dataclass
class _Exam:
    exam_id: str
    title: str
    dept: int
    delivery: str
    day: date
    clock: time
    duration: int
    course: str
    reading: int | None
    upload: int | None
    size: int  # target cohort
    days: tuple[date, ...] = ()  # days it takes in a student's timetable
    start_min: int = 0  # local minutes since midnight
    students: list[int] = field(default_factory=list)

    @property
    def is_24_hour(self) -> bool:
        return self.duration == 1440


@dataclass
class _Student:
    number: int
    dept: int
    need: int
    extra: int = 0  # percent
    rest: int = 0  # minutes per hour
    has_plan: bool = False
    exams: list[int] = field(default_factory=list)
    per_day: dict[date, int] = field(default_factory=dict)
    busy: list[tuple[date, int, int]] = field(default_factory=list)  # short exams: day, start, end


def _pick(rng: random.Random, options: Sequence[tuple[object, float]]):  # noqa: ANN202
    values, weights = zip(*options)
    return rng.choices(values, weights=weights)[0]


class _Generator:
    def __init__(self, policy: str, exams: int, sittings: int, seed: int) -> None:
        if policy not in PROFILES:
            raise ValueError(f"no period profile for policy {policy!r} (known: {', '.join(PROFILES)})")
        if exams < 4 or sittings < 2 * exams:
            raise ValueError("need at least 4 exams and 2 sittings per exam")
        self.policy = policy
        self.p = PROFILES[policy]
        self.cal = _Calendar(policy)
        self.n_exams, self.n_sittings, self.seed = exams, sittings, seed
        self.rng = random.Random(f"lms_bridge-period:{policy}:{exams}:{sittings}:{seed}")
        self.notes: list[str] = []
        self.release_days = [
            d for d in _days(self.p.first_day, self.p.last_day) if self.cal.is_release_day(d)
        ]
        if not self.release_days:
            raise ValueError(f"no exam days between {self.p.first_day} and {self.p.last_day}")

    # -- exams --------------------------------------------------------------------------
    def cohort_sizes(self) -> list[int]:
        """Most cohorts 20-150, a few 300-900 (fewer, and smaller, in a small period)."""
        rng, n = self.rng, self.n_exams
        students = self.n_sittings / _mean_exams_per_student()
        top = int(min(900, 0.6 * students))
        n_big = max(1, round(n * 0.04)) if top >= 300 else 0
        big = [rng.randint(300, top) for _ in range(n_big)]
        small = [rng.triangular(20, 150, 45) for _ in range(n - n_big)]
        budget = self.n_sittings - sum(big)
        if budget < 15 * len(small):
            big, budget = [], self.n_sittings
            small = [rng.triangular(20, 150, 45) for _ in range(n)]
        scale = budget / sum(small)
        sizes = big + [max(8, min(250, round(s * scale))) for s in small]
        rng.shuffle(sizes)
        return sizes

    def module_codes(self) -> list[tuple[int, str, str]]:
        """(department index, module code, title) for every exam, unique codes."""
        rng, style = self.rng, self.p.code_style
        weights = [d[0] for d in DEPARTMENTS]
        used: set[str] = set()
        titles_used: dict[str, int] = {}
        out = []
        while len(out) < self.n_exams:
            dept = rng.choices(range(len(DEPARTMENTS)), weights=weights)[0]
            _, long_code, short_code, topics = DEPARTMENTS[dept]
            level = _pick(rng, ((1, 0.30), (2, 0.30), (3, 0.28), (4, 0.12)))
            number = rng.randint(1, 99 if len(used) < 1200 else 999)
            if style == "nottingham":
                code = f"{long_code}{level}{number:03d}"
            elif style == "qmu":
                code = f"{short_code}{level}{number:03d}"
            else:
                code = f"{long_code}-{level}{number:02d}" if number < 100 else f"{long_code}-{level}{number}"
            if code in used:
                continue
            used.add(code)
            fresh = [t for t in topics if f"{t} {LEVEL_SUFFIX[level]}" not in titles_used]
            topic = rng.choice(fresh or topics)
            base = f"{topic} {LEVEL_SUFFIX[level]}"
            seen = titles_used.get(base, 0)
            titles_used[base] = seen + 1
            title = base if not seen else f"{base}: Paper {seen + 1}"
            out.append((dept, code, f"{code} {title}"))
        return out

    def course_ids(self, n: int) -> list[str]:
        rng = self.rng
        ids = rng.sample(range(10_000, 99_999), n)
        out = []
        for i in ids:
            lms = _pick(rng, self.p.lms)
            out.append(f"moodle:{100_000 + i}" if lms == "moodle" else f"canvas:{i}")
        return out

    def make_exams(self) -> list[_Exam]:
        rng, p = self.rng, self.p
        sizes = self.cohort_sizes()
        modules = self.module_codes()
        courses = self.course_ids(self.n_exams)
        exams = []
        for i, ((dept, code, title), size, course) in enumerate(zip(modules, sizes, courses)):
            long = rng.random() < p.long_share
            day = rng.choice(self.release_days)
            if long:
                clock, duration = rng.choice(p.long_release), 1440
            else:
                slot = _pick(rng, [(s, s.weight) for s in p.slots])
                allowed = [(d, w) for d, w in p.durations if d in slot.durations]
                duration = _pick(rng, allowed)
                shift = _pick(rng, p.stagger)
                clock = (datetime.combine(day, slot.clock) + timedelta(minutes=shift)).time()
            exams.append(self._exam(code, title, dept, course, day, clock, duration, size))
        self._deliberate_schedule(exams)
        for e in exams:
            if not self.cal.valid_local(e.day, e.clock) or not self.cal.is_release_day(e.day):
                raise AssertionError(f"generator placed {e.exam_id} on an impossible time {e.day} {e.clock}")
            e.start_min = e.clock.hour * 60 + e.clock.minute
            if e.is_24_hour:
                e.days = (e.day, self.cal.next_exam_day(e.day))
            else:
                e.days = (e.day,)
        return exams

    def _exam(self, code: str, title: str, dept: int, course: str, day: date, clock: time, duration: int,
              size: int) -> _Exam:
        rng, p = self.rng, self.p
        canvas = course.startswith("canvas:")
        if duration == 1440:
            delivery = "dropbox" if rng.random() < 0.9 or "quiz" not in dict(p.deliveries) else "quiz"
            reading, upload = None, None
        else:
            options = [(d, w) for d, w in p.deliveries if canvas or d != "new_quiz"]
            delivery = _pick(rng, options)
            reading = _pick(rng, p.reading)
            upload = _pick(rng, p.upload) if delivery == "dropbox" else None
        return _Exam(f"{code}-{p.id_suffix}", title, dept, delivery, day, clock, duration, course, reading, upload, size)

    def _deliberate_schedule(self, exams: list[_Exam]) -> None:
        """Exams either side of each bank holiday in (or just before) the period; an off-slot exam."""
        cal, p = self.cal, self.p
        shorts = [e for e in exams if not e.is_24_hour]
        longs = [e for e in exams if e.is_24_hour]
        moved: set[str] = set()
        span = _days(p.first_day - timedelta(days=3), p.last_day)
        for holiday in (d for d in span if d.weekday() < 5 and cal.is_holiday(d)):
            name = cal.public.get(holiday, "closure")
            before = [d for d in self.release_days if d < holiday]
            after = [d for d in self.release_days if d > holiday]
            if before and longs and (before[-1] - holiday).days >= -3:
                e = next((x for x in longs if x.exam_id not in moved), None)
                if e is not None:
                    e.day = before[-1]
                    moved.add(e.exam_id)
                    self.notes.append(
                        f"{e.exam_id} (24-hour) is released {_fmt(e.day, e.clock)}, the last exam day before "
                        f"{holiday:%a %d %b} ({name}); its plan-extended deadlines skip the holiday"
                    )
            if after and (after[0] - holiday).days <= 3:
                e = next((x for x in shorts if x.exam_id not in moved), None)
                if e is not None:
                    e.day = after[0]
                    moved.add(e.exam_id)
                    self.notes.append(f"{e.exam_id} starts {_fmt(e.day, e.clock)}, the first exam day after "
                                      f"{holiday:%a %d %b} ({name})")
        if p.off_slot_case:
            e = next((x for x in shorts if x.exam_id not in moved and x.duration <= 120), None)
            if e is not None:
                e.clock = time(11, 0)
                moved.add(e.exam_id)
                self.notes.append(f"{e.exam_id} starts at 11:00, outside the release slots "
                                  "(a lint warning: nottingham.release_slot)")

    # -- students -----------------------------------------------------------------------
    def make_students(self) -> list[_Student]:
        rng = self.rng
        n = max(10, math.ceil(self.n_sittings / _mean_exams_per_student()))
        numbers = rng.sample(range(self.p.student_base, self.p.student_base + 20 * n + 1000), n)
        weights = [d[0] for d in DEPARTMENTS]
        students = [
            _Student(number, rng.choices(range(len(DEPARTMENTS)), weights=weights)[0], _pick(rng, EXAMS_PER_STUDENT))
            for number in numbers
        ]
        for si in sorted(rng.sample(range(n), round(n * PLAN_SHARE))):
            s = students[si]
            s.has_plan = True
            s.extra = _pick(rng, EXTRA_TIME)
            s.rest = 10 if s.extra == 0 or rng.random() < REST_BREAK_SHARE else 0
        return students

    def _end(self, exam: _Exam, s: _Student) -> int:
        """A generous end of the student's window (local minutes), for the overlap check."""
        p = self.p
        factor = 1 + s.extra / 100
        work = (exam.reading or 0) + exam.duration
        upload = exam.upload if exam.upload is not None else p.default_upload
        return exam.start_min + math.ceil(work * factor) + s.rest * math.ceil(exam.duration / 60) + math.ceil(
            upload * (factor if p.upload_extended else 1)
        )

    def fits(self, exam: _Exam, s: _Student, limit: int = 2) -> bool:
        for day in exam.days:
            if s.per_day.get(day, 0) >= limit:
                return False
        if not exam.is_24_hour:
            start, end = exam.start_min - 15, self._end(exam, s) + 15
            for day, b_start, b_end in s.busy:
                if day == exam.day and start < b_end and b_start < end:
                    return False
        return True

    def add(self, exam_index: int, exam: _Exam, si: int, s: _Student) -> None:
        exam.students.append(si)
        s.exams.append(exam_index)
        s.need -= 1
        for day in exam.days:
            s.per_day[day] = s.per_day.get(day, 0) + 1
        if not exam.is_24_hour:
            s.busy.append((exam.day, exam.start_min, self._end(exam, s)))

    def allocate(self, exams: list[_Exam], students: list[_Student]) -> None:
        rng = self.rng
        pools: dict[int, list[int]] = {}
        for si, s in enumerate(students):
            pools.setdefault(s.dept, []).append(si)
        everyone = list(range(len(students)))
        order = sorted(range(len(exams)), key=lambda i: (-exams[i].size, exams[i].exam_id))
        for ei in order:
            exam = exams[ei]
            taken: set[int] = set()
            own = pools.get(exam.dept, [])
            attempts = 40 * exam.size + 200
            while len(exam.students) < exam.size and attempts:
                attempts -= 1
                pool = own if own and rng.random() < 0.7 else everyone
                if not pool:
                    break
                j = rng.randrange(len(pool))
                si = pool[j]
                s = students[si]
                if s.need <= 0:
                    pool[j] = pool[-1]
                    pool.pop()
                    continue
                if si in taken or not self.fits(exam, s):
                    continue
                taken.add(si)
                self.add(ei, exam, si, s)
        # nobody sits a single exam: give them one more that fits
        for si, s in enumerate(students):
            tries = 60
            while 0 < len(s.exams) < 2 and tries:
                tries -= 1
                ei = rng.randrange(len(exams))
                if ei not in s.exams and self.fits(exams[ei], s):
                    self.add(ei, exams[ei], si, s)

    def clash_case(self, exams: list[_Exam], students: list[_Student]) -> None:
        """A student with extra time, a 24-hour exam, and a short exam on its deadline's day."""
        cal, rng = self.cal, self.rng
        longs = [i for i, e in enumerate(exams) if e.is_24_hour and e.day.weekday() < 4]
        rng.shuffle(longs)
        planned = [
            si for si, s in enumerate(students) if s.has_plan and s.extra in (25, 50) and 0 < len(s.exams) <= 4
        ]
        for li in longs:
            due_day = cal.next_exam_day(exams[li].day)
            shorts = [i for i, e in enumerate(exams) if not e.is_24_hour and e.day == due_day]
            for si in planned:
                s = students[si]
                if li in s.exams or not self.fits(exams[li], s):
                    continue
                self.add(li, exams[li], si, s)
                for sh in shorts:
                    if sh not in s.exams and self.fits(exams[sh], s):
                        self.add(sh, exams[sh], si, s)
                        self.notes.append(
                            f"student {self.p.student_id.format(s.number)} ({s.extra}% extra time) sits "
                            f"{exams[li].exam_id} (24-hour, released {_fmt(exams[li].day, exams[li].clock)}) and "
                            f"{exams[sh].exam_id} ({_fmt(exams[sh].day, exams[sh].clock)}): the plan-extended "
                            f"24-hour deadline falls on the short exam's day (nottingham.clash)"
                        )
                        return
                self._remove(li, exams[li], si, s)
        self.notes.append("no clash situation could be placed")

    def overload_case(self, exams: list[_Exam], students: list[_Student]) -> None:
        """A few students with a third short exam on a day (timetables only aim for two)."""
        rng, p = self.rng, self.p
        wanted = max(2, round(len(students) * p.overload_share)) if p.overload_share else 0
        shorts_on: dict[date, list[int]] = {}
        for i, e in enumerate(exams):
            if not e.is_24_hour:
                shorts_on.setdefault(e.day, []).append(i)
        placed = []
        order = list(range(len(students)))
        rng.shuffle(order)
        for si in order:
            if len(placed) >= wanted:
                break
            s = students[si]
            if len(s.exams) >= 6:
                continue
            full = [d for d, n in s.per_day.items() if n == 2 and d in shorts_on]
            for day in sorted(full):
                options = [i for i in shorts_on[day] if i not in s.exams and self.fits(exams[i], s, limit=3)]
                if options:
                    ei = rng.choice(options)
                    self.add(ei, exams[ei], si, s)
                    placed.append(f"{p.student_id.format(s.number)} ({day:%a %d %b})")
                    break
        if placed:
            rule = "nottingham.max_short_per_day" if self.policy == "nottingham" else "no lint in this policy"
            self.notes.append(f"{len(placed)} students have three exams on one day ({rule}): " + ", ".join(placed[:5])
                              + (", ..." if len(placed) > 5 else ""))

    def _remove(self, exam_index: int, exam: _Exam, si: int, s: _Student) -> None:
        exam.students.remove(si)
        s.exams.remove(exam_index)
        s.need += 1
        for day in exam.days:
            s.per_day[day] -= 1

    def bank_holiday_plan(self, exams: list[_Exam], students: list[_Student]) -> None:
        """A student with 100% extra time on a 24-hour exam released just before a holiday."""
        cal = self.cal
        for ei, e in enumerate(exams):
            if not e.is_24_hour:
                continue
            later = [d for d in self.release_days if d > e.day]
            if not later or not any(cal.is_holiday(d) for d in _days(e.day, later[0])):
                continue
            takers = [si for si in e.students if students[si].has_plan and students[si].extra]
            # someone who already has 100%, else someone with a plan who sits it, else add one
            chosen = next((si for si in takers if students[si].extra == 100), None)
            if chosen is None and takers:
                chosen = min(takers, key=lambda i: students[i].number)
            if chosen is None:
                chosen = next(
                    (si for si, s in enumerate(students) if s.has_plan and s.extra and 0 < len(s.exams) < 6 and self.fits(e, s)),
                    None,
                )
                if chosen is None:
                    continue
                self.add(ei, e, chosen, students[chosen])
            s = students[chosen]
            s.extra = 100
            self.notes.append(
                f"student {self.p.student_id.format(s.number)} has 100% extra time on {e.exam_id}: 10 working "
                f"hours from the standard deadline, skipping days that are not exam days (the holiday too)"
            )
            return

    # -- output -------------------------------------------------------------------------
    def run(self) -> Period:
        exams = self.make_exams()
        students = self.make_students()
        self.allocate(exams, students)
        self.overload_case(exams, students)
        if self.p.clash_case:
            self.clash_case(exams, students)
        self.bank_holiday_plan(exams, students)

        fmt = self.p.student_id.format
        timetable = [
            {
                "exam_id": e.exam_id,
                "title": e.title,
                "delivery": e.delivery,
                "start": _fmt(e.day, e.clock),
                "duration_minutes": str(e.duration),
                "course": e.course,
                "reading_minutes": "" if e.reading is None else str(e.reading),
                "upload_minutes": "" if e.upload is None else str(e.upload),
            }
            for e in sorted(exams, key=lambda e: (e.day, e.clock, e.exam_id))
            if e.students
        ]
        candidates = sorted(
            ({"exam_id": e.exam_id, "student_id": fmt(students[si].number)} for e in exams for si in e.students),
            key=lambda r: (r["exam_id"], r["student_id"]),
        )
        plans = sorted(
            (
                {
                    "student_id": fmt(s.number),
                    "extra_time_percent": str(s.extra),
                    "rest_break_minutes_per_hour": str(s.rest) if s.rest else "",
                }
                for s in students
                if s.has_plan and s.exams
            ),
            key=lambda r: r["student_id"],
        )
        return Period(self.policy, self.seed, timetable, plans, candidates, self.notes)


def _mean_exams_per_student() -> float:
    return sum(k * w for k, w in EXAMS_PER_STUDENT) / sum(w for _, w in EXAMS_PER_STUDENT)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _fmt(day: date, clock: time) -> str:
    return f"{day:%Y-%m-%d} {clock:%H:%M}"


def generate_period(
    policy: str,
    scale: str = "sample",
    seed: int = DEFAULT_SEED,
    *,
    exams: int | None = None,
    sittings: int | None = None,
) -> Period:
    """The exam period for `policy` at a named scale (tiny, sample, bench), or explicit sizes."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r} (known: {', '.join(SCALES)})")
    n_exams, n_sittings = SCALES[scale]
    return _Generator(policy, exams or n_exams, sittings or n_sittings, seed).run()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policy", required=True, choices=sorted(PROFILES))
    parser.add_argument("--out", required=True, help="folder for timetable.csv, plans.csv, candidates.csv")
    parser.add_argument("--scale", default="sample", choices=sorted(SCALES))
    parser.add_argument("--exams", type=int, help="number of exams (overrides the scale)")
    parser.add_argument("--sittings", type=int, help="number of sittings, roughly (overrides the scale)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        period = generate_period(args.policy, args.scale, args.seed, exams=args.exams, sittings=args.sittings)
    except ValueError as exc:
        print(f"period.py: {exc}", file=sys.stderr)
        return 2
    paths = period.write(args.out)
    if not args.quiet:
        print(period.summary())
        for note in period.notes:
            print(f"  - {note}")
        print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
