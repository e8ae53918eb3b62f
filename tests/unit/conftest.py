"""Shared helpers for the unit tests of the pure core.

Helpers are fixtures (factories), so test modules never import this file: several
conftest.py files live side by side in tests/, and all of them are plain modules named
`conftest`. Every fixture here is session-scoped and stateless, so hypothesis tests can
use them too.

Conventions used throughout tests/unit:
- a "local" time is the string "YYYY-MM-DD HH:MM" in Europe/London, as a timetable has it;
- `wall(instant)` renders an instant as "YYYY-MM-DD HH:MM GMT|BST" so assertions read like
  the policy's worked examples, and `elapsed(window)` is `due_at - opens_at` in minutes.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lms_bridge.domain.calendar import ExamCalendar
from lms_bridge.domain.model import Delivery, Exam, ExamPeriod, Sitting, SupportPlan, Window
from lms_bridge.domain.policy import Policy, parse_policy
from lms_bridge.domain.timeutil import strict_local_to_utc
from lms_bridge.domain.windows import WindowCalculator, compute_windows
from lms_bridge.policies import config_dir, load_policy

LONDON = ZoneInfo("Europe/London")
POLICY_NAMES = ("nottingham", "qmu", "default")


def _number(value: int | float | str | Fraction) -> Fraction:
    """Exact plan numbers: 33.3 means 333/10, never the float's binary expansion."""
    if isinstance(value, Fraction):
        return value
    return Fraction(str(value))


def _merge(base: dict, overrides: Mapping) -> dict:
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class Kit:
    """The helpers, bundled: `kit.at("2026-05-18 09:00")`, `kit.exam(...)`, `kit.window(...)`."""

    policies: Mapping[str, Policy]

    # -- policies -------------------------------------------------------------------
    def policy(self, name: str) -> Policy:
        return self.policies[name]

    def variant(self, base: str, **overrides: object) -> Policy:
        """A shipped policy's TOML with some settings replaced (sections merge key by key)."""
        path = config_dir() / "policies" / f"{base}.toml"
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return parse_policy(_merge(data, overrides), source=f"{base} variant")

    def calendar(self, policy: Policy | str) -> ExamCalendar:
        pol = self.policies[policy] if isinstance(policy, str) else policy
        return ExamCalendar(pol.calendar)

    # -- instants -------------------------------------------------------------------
    @staticmethod
    def at(text: str) -> datetime:
        """The UTC instant of a Europe/London wall-clock time "YYYY-MM-DD HH:MM[:SS]"."""
        return strict_local_to_utc(datetime.fromisoformat(text), LONDON)

    @staticmethod
    def wall(instant: datetime) -> str:
        """"YYYY-MM-DD HH:MM GMT|BST": the instant as an exams officer reads it."""
        return instant.astimezone(LONDON).strftime("%Y-%m-%d %H:%M %Z")

    @staticmethod
    def utc(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    @staticmethod
    def elapsed(window: Window) -> int:
        """due_at - opens_at in whole minutes (asserting it is whole)."""
        seconds = (window.due_at - window.opens_at).total_seconds()
        assert seconds % 60 == 0, seconds
        return int(seconds // 60)

    # -- inputs ---------------------------------------------------------------------
    def exam(
        self,
        exam_id: str = "E1",
        start: str | datetime = "2026-05-18 09:00",
        duration: int = 60,
        delivery: str | Delivery = "dropbox",
        reading: int | None = None,
        upload: int | None = None,
        title: str | None = None,
    ) -> Exam:
        instant = start if isinstance(start, datetime) else self.at(start)
        return Exam(
            exam_id=exam_id,
            title=title or f"Exam {exam_id}",
            delivery=Delivery(delivery),
            start=instant,
            duration_minutes=duration,
            reading_minutes=reading,
            upload_minutes=upload,
        )

    @staticmethod
    def plan(student_id: str, p: int | float | str | Fraction = 0, b: int | float | str | Fraction = 0) -> SupportPlan:
        return SupportPlan(student_id, _number(p), _number(b))

    # -- computing ------------------------------------------------------------------
    def windows(
        self,
        policy: Policy | str,
        exams: Sequence[Exam],
        plans: Iterable[SupportPlan] = (),
        sittings: Iterable[tuple[str, str]] | None = None,
    ) -> list[Window]:
        """compute_windows; without `sittings`, every planned student (or "s0") sits every exam."""
        pol = self.policies[policy] if isinstance(policy, str) else policy
        plan_map = {p.student_id: p for p in plans}
        if sittings is None:
            students = list(plan_map) or ["s0"]
            sittings = [(e.exam_id, s) for e in exams for s in students]
        return compute_windows(pol, exams, plan_map, [Sitting(e, s) for e, s in sittings])

    def window(self, policy: Policy | str, exam: Exam, plan: SupportPlan | None = None) -> Window:
        """The one window of one student (with `plan`, else without one) for one exam."""
        plans = [plan] if plan is not None else []
        student = plan.student_id if plan is not None else "s0"
        (only,) = self.windows(policy, [exam], plans, [(exam.exam_id, student)])
        return only

    def by_key(self, windows: Iterable[Window]) -> dict[tuple[str, str], Window]:
        return {(w.exam_id, w.student_id): w for w in windows}

    def calculator(self, policy: Policy | str) -> WindowCalculator:
        pol = self.policies[policy] if isinstance(policy, str) else policy
        return WindowCalculator(pol)

    @staticmethod
    def period(exams: Sequence[Exam], plans: Iterable[SupportPlan], sittings: Iterable[tuple[str, str]]) -> ExamPeriod:
        return ExamPeriod(tuple(exams), {p.student_id: p for p in plans}, tuple(Sitting(e, s) for e, s in sittings))


@pytest.fixture(scope="session")
def policies() -> dict[str, Policy]:
    """The three shipped policies, loaded as the CLI loads them."""
    return {name: load_policy(name)[0] for name in POLICY_NAMES}


@pytest.fixture(scope="session")
def nottingham(policies: dict[str, Policy]) -> Policy:
    return policies["nottingham"]


@pytest.fixture(scope="session")
def qmu(policies: dict[str, Policy]) -> Policy:
    return policies["qmu"]


@pytest.fixture(scope="session")
def default(policies: dict[str, Policy]) -> Policy:
    return policies["default"]


@pytest.fixture(scope="session")
def kit(policies: dict[str, Policy]) -> Kit:
    return Kit(policies)


@pytest.fixture
def write_file(tmp_path: Path):
    """Write `name` in a fresh folder (text as UTF-8, or bytes as given) and return its path."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write
