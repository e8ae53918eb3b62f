"""The exam period at a glance: candidates starting in each slot (day × start time, local).

Pure: exams, candidate counts and the zone in; a grid of numbers out, each cell with a heat
level relative to the policy's limit on concurrent starts (or to the busiest slot when the
policy sets none). The page shows the number in every cell and marks a slot over the limit
in words, so nothing is told by colour alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from ...domain.model import Exam

LEVELS = 4  # heat-1 .. heat-4, then heat-over


@dataclass(frozen=True, slots=True)
class Cell:
    count: int
    exams: tuple[str, ...]
    level: str  # css class: heat-0 (no exam), heat-1..heat-4, heat-over
    over: bool


EMPTY = Cell(0, (), "heat-0", False)


@dataclass
class Grid:
    days: list[date]
    times: list[str]  # "HH:MM", local
    cells: dict[tuple[date, str], Cell] = field(default_factory=dict)
    limit: int | None = None

    def cell(self, day: date, time: str) -> Cell:
        return self.cells.get((day, time), EMPTY)

    @property
    def busiest(self) -> int:
        return max((c.count for c in self.cells.values()), default=0)

    @property
    def over(self) -> list[tuple[date, str, Cell]]:
        return [(d, t, c) for (d, t), c in sorted(self.cells.items()) if c.over]

    @property
    def total(self) -> int:
        return sum(c.count for c in self.cells.values())


def slots(exams: Iterable[Exam], counts: Mapping[str, int], zone: ZoneInfo) -> dict[tuple[date, str], list[Exam]]:
    """Exams by the local day and start time they release at."""
    out: dict[tuple[date, str], list[Exam]] = defaultdict(list)
    for exam in exams:
        local = exam.start.astimezone(zone)
        out[(local.date(), local.strftime("%H:%M"))].append(exam)
    return out


def level(count: int, limit: int | None, scale: int) -> tuple[str, bool]:
    """The heat class of a slot: a quarter of the limit (or of `scale`) per level; over the
    limit is its own class."""
    if count <= 0:
        return "heat-0", False
    if limit is not None and count > limit:
        return "heat-over", True
    top = limit if limit is not None else max(scale, 1)
    step = min(LEVELS, max(1, -(-count * LEVELS // top)))
    return f"heat-{step}", False


def grid(exams: Iterable[Exam], counts: Mapping[str, int], zone: ZoneInfo, limit: int | None,
         *, times: Iterable[str] = (), days: Iterable[date] = (), scale: int | None = None) -> Grid:
    """The grid of one period. `times`/`days` add columns/rows (so two grids can be compared
    side by side); `scale` is the count the top level stands for when there is no limit."""
    by_slot = slots(exams, counts, zone)
    totals = {key: sum(counts.get(e.exam_id, 0) for e in found) for key, found in by_slot.items()}
    top = scale if scale is not None else max(totals.values(), default=0)
    g = Grid(sorted({d for d, _ in by_slot} | set(days)), sorted({t for _, t in by_slot} | set(times)), limit=limit)
    for key, found in by_slot.items():
        css, over = level(totals[key], limit, top)
        g.cells[key] = Cell(totals[key], tuple(sorted(e.exam_id for e in found)), css, over)
    return g


def compared(before: Iterable[Exam], after: Iterable[Exam], counts: Mapping[str, int], zone: ZoneInfo,
             limit: int | None) -> tuple[Grid, Grid]:
    """Two grids with the same rows, columns and scale: the period as it stands, and as the
    stagger proposal would make it."""
    before, after = list(before), list(after)
    first = grid(before, counts, zone, limit)
    second = grid(after, counts, zone, limit)
    times, days = set(first.times) | set(second.times), set(first.days) | set(second.days)
    scale = max(first.busiest, second.busiest)
    return (grid(before, counts, zone, limit, times=times, days=days, scale=scale),
            grid(after, counts, zone, limit, times=times, days=days, scale=scale))
