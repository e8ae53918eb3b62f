"""Release staggering: spread candidate starts so the LMS is not hit all at once.

When the candidates starting in one slot exceed the policy's `max_concurrent_starts`, short
exams are moved later by one of the policy's shifts (15 or 30 minutes, never more). The
largest exams are placed first and stay put while they fit; each smaller one takes the
shift that keeps the busiest start smallest, preferring no shift and then the smallest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from .model import Exam
from .policy import Policy
from .timeutil import minutes


@dataclass(frozen=True, slots=True)
class ReleaseShift:
    exam_id: str
    original_start: datetime
    new_start: datetime
    shift_minutes: int
    rule: str
    reason: str


def plan_staggering(policy: Policy, exams: Iterable[Exam], candidates: Mapping[str, int]) -> list[ReleaseShift]:
    """The release shifts that keep every start slot within the policy's limit, if it can."""
    limit = policy.staggering.max_concurrent_starts
    exams = list(exams)
    if limit is None:
        return []
    load: dict[datetime, int] = defaultdict(int)
    for e in exams:
        load[e.start] += candidates.get(e.exam_id, 0)
    crowded = sorted(s for s, n in load.items() if n > limit)
    if not crowded:
        return []

    offsets = (0, *sorted(policy.staggering.shift_minutes))
    shifts: list[ReleaseShift] = []
    for slot in crowded:
        movable = sorted(
            (e for e in exams if e.start == slot and not e.is_24_hour),
            key=lambda e: (-candidates.get(e.exam_id, 0), e.exam_id),
        )
        slot_total = load[slot]
        for e in movable:  # take them out, then place them again one by one, largest first
            load[slot] -= candidates.get(e.exam_id, 0)
        for e in movable:
            n = candidates.get(e.exam_id, 0)
            if load[slot] + n <= limit:
                best = 0
            else:
                best = min(offsets, key=lambda o: (load[slot + minutes(o)] + n, o))
            target = slot + minutes(best)
            load[target] += n
            if best:
                shifts.append(
                    ReleaseShift(
                        exam_id=e.exam_id,
                        original_start=slot,
                        new_start=target,
                        shift_minutes=best,
                        rule=policy.rule("stagger"),
                        reason=(
                            f"{slot_total} candidates would start at once against a limit of {limit}; "
                            f"{n} of them move {best} minutes later"
                        ),
                    )
                )
    return shifts
