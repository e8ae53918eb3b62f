"""Exam days and working hours in the policy's zone.

An exam day is one of the policy's exam weekdays that is neither a public holiday of its
region (the `holidays` package, always with a subdivision: without one GB omits Easter
Monday) nor an institutional closure. Working hours are wall-clock, so they never touch the
01:00-02:00 UK clock changes.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from .policy import CalendarSettings
from .timeutil import latest_local_to_utc

_SEARCH_LIMIT = 800  # days; a calendar with no exam day for two years is a broken policy


class ExamCalendar:
    def __init__(self, settings: CalendarSettings) -> None:
        self.zone: ZoneInfo = settings.zone
        self.day_start, self.day_end = settings.working_hours
        self._weekdays = settings.weekday_numbers
        self._closures = frozenset(settings.closures)
        self._public = holidays.country_holidays(settings.country, subdiv=settings.subdivision)
        self._exam_day: dict[date, bool] = {}
        self._instants: dict[tuple[date, time], datetime] = {}

    def is_exam_day(self, day: date) -> bool:
        known = self._exam_day.get(day)
        if known is None:
            known = (
                day.weekday() in self._weekdays
                and day not in self._closures
                and day not in self._public
            )
            self._exam_day[day] = known
        return known

    def next_exam_day(self, day: date) -> date:
        """The first exam day strictly after `day`."""
        for offset in range(1, _SEARCH_LIMIT):
            candidate = day + timedelta(days=offset)
            if self.is_exam_day(candidate):
                return candidate
        raise ValueError(f"no exam day within {_SEARCH_LIMIT} days after {day}")

    def at(self, day: date, clock: time) -> datetime:
        """The UTC instant of a wall-clock time, the later one where the clock is ambiguous."""
        key = (day, clock)
        found = self._instants.get(key)
        if found is None:
            found = self._instants[key] = latest_local_to_utc(day, clock, self.zone)
        return found

    def add_working_minutes(self, instant: datetime, minutes: int) -> datetime:
        """`instant` plus `minutes` counted only within working hours on exam days.

        Counting starts at `instant`: before the day's start it starts at the start; after the
        day's end, or on a day that is not an exam day, at the start of the next exam day.
        """
        local = instant.astimezone(self.zone)
        day, clock = local.date(), local.time().replace(tzinfo=None)
        if not self.is_exam_day(day) or clock >= self.day_end:
            day, clock = self.next_exam_day(day), self.day_start
        elif clock < self.day_start:
            clock = self.day_start
        remaining = timedelta(minutes=minutes)
        while True:
            available = datetime.combine(day, self.day_end) - datetime.combine(day, clock)
            if remaining <= available:
                return self.at(day, (datetime.combine(day, clock) + remaining).time())
            remaining -= available
            day, clock = self.next_exam_day(day), self.day_start
