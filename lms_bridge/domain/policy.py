"""An institution's timing policy: every number of POLICY.md is a setting here.

The schema validates a mapping (as parsed from a policy TOML file); reading the file is
the caller's job. Rule ids are the policy's name and the rule's key (`qmu.rest_breaks`).
"""

from __future__ import annotations

import re
from datetime import date, time
from fractions import Fraction
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
Weekday = Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
Decision = Literal["extend", "end", "void", "reschedule", "abandon"]


def _fraction(value: Any) -> Fraction:
    """Exact numbers: 0.75, "2/3" and 1 all parse without float rounding."""
    if isinstance(value, bool):
        raise ValueError("expected a number")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(str(value))
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            pass
    raise ValueError("expected a number or a fraction such as \"2/3\"")


def _clock(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{2}:\d{2}", value):
        return time.fromisoformat(value)
    raise ValueError("expected a time as \"HH:MM\"")


Exact = Annotated[Fraction, BeforeValidator(_fraction)]
Clock = Annotated[time, BeforeValidator(_clock)]
Minutes = Annotated[int, Field(ge=0, le=10_000)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class CalendarSettings(_Section):
    timezone: str = "Europe/London"
    country: str = "GB"
    subdivision: str | None = "ENG"
    exam_weekdays: tuple[Weekday, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri")
    closures: tuple[date, ...] = ()
    working_hours: tuple[Clock, Clock] = (time(9), time(17))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("exam_weekdays")
    @classmethod
    def _some_days(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one exam weekday is needed")
        return value

    @field_validator("working_hours")
    @classmethod
    def _ordered_hours(cls, value: tuple[time, time]) -> tuple[time, time]:
        if not value[0] < value[1]:
            raise ValueError("working hours must start before they end")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def weekday_numbers(self) -> frozenset[int]:
        return frozenset(WEEKDAYS.index(d) for d in self.exam_weekdays)


class DurationSettings(_Section):
    """Which published durations are exams under this policy (D = 1440 is the 24-hour exam)."""

    short_max_minutes: int = Field(180, ge=1, le=1439)
    short_allowed_minutes: tuple[int, ...] = ()  # empty: any whole number up to short_max

    @model_validator(mode="after")
    def _allowed_are_short(self) -> DurationSettings:
        bad = [d for d in self.short_allowed_minutes if not 0 < d <= self.short_max_minutes]
        if bad:
            raise ValueError(f"short_allowed_minutes {bad} exceed short_max_minutes")
        return self


class DefaultSettings(_Section):
    reading_minutes: Minutes = 0
    upload_minutes: Minutes = 0


class LimitSettings(_Section):
    """Bounds beyond which an input value is treated as a mistake, not a request."""

    max_reading_minutes: Minutes = 60
    max_upload_minutes: Minutes = 240
    max_extra_time_percent: Minutes = 300
    max_rest_break_minutes_per_hour: Minutes = 30


class ShortExamSettings(_Section):
    extend_upload: bool = False  # U' = ceil(U x (1 + p/100)) instead of U
    rest_breaks: Literal["ignored", "per_started_period"] = "per_started_period"
    rest_break_period_minutes: int = Field(30, ge=1, le=60)


class TwentyFourHourSettings(_Section):
    due: Literal["next_exam_day", "plus_24_hours"] = "plus_24_hours"
    plan: Literal["working_hours", "none"] = "working_hours"
    working_hours_per_percent: Exact = Fraction(1, 10)  # p/10 working hours
    clash: bool = False


class IncidentSettings(_Section):
    """Decision = void if longer than void_after_minutes, else by the fraction elapsed."""

    void_after_minutes: int | None = Field(None, ge=0)
    threshold: Exact = Fraction(1)
    threshold_inclusive: bool = True  # fraction == threshold counts as "early"
    early: Decision = "extend"
    late: Decision = "extend"


class LintSettings(_Section):
    release_slots: tuple[Clock, ...] = ()
    release_stagger_minutes: tuple[int, ...] = (0,)
    release_24h_time: Clock | None = None
    release_24h_weekdays: tuple[Weekday, ...] = ()
    max_short_exams_per_day: int | None = Field(None, ge=1)


class StaggerSettings(_Section):
    max_concurrent_starts: int | None = Field(None, ge=1)  # None: never stagger
    shift_minutes: tuple[Annotated[int, Field(ge=1, le=30)], ...] = (15, 30)


class Policy(_Section):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
    title: str = ""
    late_minutes: Minutes = 0
    calendar: CalendarSettings = CalendarSettings()
    durations: DurationSettings = DurationSettings()
    defaults: DefaultSettings = DefaultSettings()
    limits: LimitSettings = LimitSettings()
    short: ShortExamSettings = ShortExamSettings()
    twenty_four_hour: TwentyFourHourSettings = TwentyFourHourSettings()
    incident: IncidentSettings = IncidentSettings()
    lint: LintSettings = LintSettings()
    staggering: StaggerSettings = StaggerSettings()

    def rule(self, key: str) -> str:
        """The rule id for one of this policy's rules, e.g. `nottingham.clash`."""
        return f"{self.name}.{key}"


class PolicyError(ValueError):
    """A policy mapping that does not validate; the message names every bad key."""


def parse_policy(data: dict[str, Any], source: str = "policy") -> Policy:
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{source}: {'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise PolicyError("\n".join(problems)) from None
