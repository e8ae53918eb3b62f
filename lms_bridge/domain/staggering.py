"""Release staggering: spread candidate starts so the LMS is not hit all at once.

When the candidates starting in one slot exceed the policy's `max_concurrent_starts`, short
exams released in that slot may move later by one of the policy's shifts (15 or 30 minutes,
never more). The exam with the most candidates in the slot stays put, and 24-hour exams never
move. Among the others, the planner chooses the shifts that make the busiest of the slot's
start times as small as possible, then that move the fewest candidates, then by the fewest
minutes. Slots are settled earliest first, so a slot that exams moved into is settled in turn
by moving its own exams. Anything still over the limit is reported.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from .model import Exam
from .policy import Policy
from .timeutil import minutes

_SEARCH_BUDGET = 50_000  # search nodes per slot; the greedy start is kept if the budget runs out


@dataclass(frozen=True, slots=True)
class ReleaseShift:
    exam_id: str
    original_start: datetime
    new_start: datetime
    shift_minutes: int
    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class StaggerPlan:
    shifts: tuple[ReleaseShift, ...]
    still_crowded: tuple[tuple[datetime, int], ...]  # (start, candidates) still over the limit


def plan_staggering(policy: Policy, exams: Iterable[Exam], candidates: Mapping[str, int]) -> StaggerPlan:
    limit = policy.staggering.max_concurrent_starts
    exams = list(exams)
    if limit is None:
        return StaggerPlan((), ())
    size = {e.exam_id: candidates.get(e.exam_id, 0) for e in exams}
    load: dict[datetime, int] = defaultdict(int)
    at_slot: dict[datetime, list[Exam]] = defaultdict(list)
    for e in exams:
        load[e.start] += size[e.exam_id]
        at_slot[e.start].append(e)
    offsets = (0, *sorted(set(policy.staggering.shift_minutes)))

    shifts: list[ReleaseShift] = []
    queue = [s for s, n in load.items() if n > limit]
    heapq.heapify(queue)
    settled: set[datetime] = set()
    while queue:
        slot = heapq.heappop(queue)
        if slot in settled or load[slot] <= limit:
            continue
        settled.add(slot)
        # the biggest released here stays; exams moved in from earlier slots have moved once
        ranked = sorted(at_slot[slot], key=lambda e: (-size[e.exam_id], e.exam_id))
        movable = [e for e in ranked[1:] if not e.is_24_hour]
        if not movable:
            continue
        targets = [slot + minutes(o) for o in offsets]
        base = [load[t] for t in targets]
        base[0] -= sum(size[e.exam_id] for e in movable)
        choice = _best_assignment([size[e.exam_id] for e in movable], base, offsets)
        slot_total = load[slot]
        for exam, k in zip(movable, choice):
            if k == 0:
                continue
            n, target = size[exam.exam_id], targets[k]
            load[slot] -= n
            load[target] += n
            if load[target] > limit:
                heapq.heappush(queue, target)
            shifts.append(
                ReleaseShift(
                    exam_id=exam.exam_id,
                    original_start=slot,
                    new_start=target,
                    shift_minutes=offsets[k],
                    rule=policy.rule("stagger"),
                    reason=(
                        f"{slot_total} candidates would start at once against a limit of {limit}; "
                        f"these {n} start {offsets[k]} minutes later"
                    ),
                )
            )
    crowded = tuple(sorted((s, n) for s, n in load.items() if n > limit))
    return StaggerPlan(tuple(shifts), crowded)


def _best_assignment(sizes: Sequence[int], base: Sequence[int], offsets: Sequence[int]) -> list[int]:
    """Offset index per exam (sizes largest first) minimising, in order: the busiest start,
    the candidates moved, the minutes moved. Branch and bound from a greedy start (each exam
    to the least busy start); every part of the score only grows as exams are placed, so a
    partial score no better than the best complete one is pruned."""
    bins = len(offsets)
    loads = list(base)
    choice = [0] * len(sizes)
    for i, n in enumerate(sizes):
        k = min(range(bins), key=lambda j: (loads[j] + n, j))
        choice[i] = k
        loads[k] += n
    best_choice = list(choice)
    best = (max(loads), sum(n for n, k in zip(sizes, choice) if k), sum(offsets[k] for k in choice))

    loads = list(base)
    remaining = [0] * (len(sizes) + 1)
    for i in range(len(sizes) - 1, -1, -1):
        remaining[i] = remaining[i + 1] + sizes[i]
    nodes = 0

    def search(i: int, moved: int, shifted: int) -> None:
        nonlocal best, best_choice, nodes
        nodes += 1
        if nodes > _SEARCH_BUDGET:
            return
        spread = -(-(sum(loads) + remaining[i]) // bins)  # the busiest start can be no less
        score = (max(*loads, spread), moved, shifted)
        if score >= best:
            return
        if i == len(sizes):
            best, best_choice = score, list(choice)
            return
        for k in range(bins):
            loads[k] += sizes[i]
            choice[i] = k
            search(i + 1, moved + (sizes[i] if k else 0), shifted + offsets[k])
            loads[k] -= sizes[i]

    search(0, 0, 0)
    return best_choice
