"""The kinds of work, and the arguments each takes: ids only, checked on the way in.

A work item's arguments are stored in the database and shown in listings, so they name
things (an exam id, a course, an incident number) and never carry plan data: a value that is
not an identifier is refused before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

RECONCILE_COURSE = "reconcile_course"  # {"course": "canvas:101"}: converge every exam of the course
APPLY_EXAM = "apply_exam"  # {"exam_id": "E1"[, "verify_round": 1]}: converge one exam (T-24h; a repair
#                                re-verifies when it is done)
VERIFY_EXAM = "verify_exam"  # {"exam_id": "E1", "round": 0}: read back; zero changes needed = verified
APPLY_INCIDENT = "apply_incident"  # {"incident_id": 3}: an incident's extension, in the LMS
APPLY_STAGGER = "apply_stagger"  # {"exam_id": "E1"}: a staggered release, in the LMS
SEND_CLARIFICATION = "send_clarification"  # {"clarification_id": 7}: an announcement in each course
PROBE = "probe"  # {"key": "k", "sleep_ms": 0}: does nothing but complete (health checks, benchmarks)

# Exam ids and course refs as timetables write them: word characters and a little punctuation.
_ID = re.compile(r"^\w[\w :\-./@+#()\[\]]{0,254}$")

# kind -> {argument: (type, required)}
ARGS: dict[str, dict[str, tuple[type, bool]]] = {
    RECONCILE_COURSE: {"course": (str, True)},
    APPLY_EXAM: {"exam_id": (str, True), "verify_round": (int, False)},
    VERIFY_EXAM: {"exam_id": (str, True), "round": (int, False)},
    APPLY_INCIDENT: {"incident_id": (int, True)},
    APPLY_STAGGER: {"exam_id": (str, True)},
    SEND_CLARIFICATION: {"clarification_id": (int, True)},
    PROBE: {"key": (str, True), "sleep_ms": (int, False)},
}
KINDS = tuple(ARGS)


class BadArguments(ValueError):
    """Work whose arguments are not the ids its kind takes (the message names keys, not values)."""


def check_args(kind: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """`args` as stored, or BadArguments. Strings must be identifiers; integers small and
    non-negative; no other key is allowed."""
    spec = ARGS.get(kind)
    if spec is None:
        raise BadArguments(f"unknown kind of work {kind!r} (known: {', '.join(KINDS)})")
    unknown = sorted(set(args) - set(spec))
    if unknown:
        raise BadArguments(f"{kind}: unexpected arguments {', '.join(unknown)} (work carries ids only)")
    out: dict[str, Any] = {}
    for name, (type_, required) in spec.items():
        if name not in args:
            if required:
                raise BadArguments(f"{kind}: argument {name} is required")
            continue
        value = args[name]
        if type_ is int:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
                raise BadArguments(f"{kind}: argument {name} must be a non-negative integer id")
        elif not isinstance(value, str) or not _ID.match(value):
            raise BadArguments(f"{kind}: argument {name} must be an identifier")
        out[name] = value
    return out
