"""Rendering results: JSON as INTERFACES.md fixes it, and readable tables in local time."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from json.encoder import encode_basestring as _string  # type: ignore[attr-defined]
from typing import TextIO
from zoneinfo import ZoneInfo

from .domain.incidents import IncidentDecision
from .domain.model import LintWarning, Window
from .domain.staggering import StaggerPlan
from .domain.timeutil import iso_utc


class _Iso:
    """ISO strings for instants; windows share instants, so each is formatted once."""

    def __init__(self) -> None:
        self._seen: dict[datetime, str] = {}

    def __call__(self, instant: datetime) -> str:
        text = self._seen.get(instant)
        if text is None:
            text = self._seen[instant] = iso_utc(instant)
        return text


def window_dicts(windows: Iterable[Window]) -> list[dict]:
    iso = _Iso()
    return [
        {
            "exam_id": w.exam_id,
            "student_id": w.student_id,
            "opens_at": iso(w.opens_at),
            "due_at": iso(w.due_at),
            "closes_at": iso(w.closes_at),
            "time_limit_minutes": w.time_limit_minutes,
            "rules": list(w.rules),
        }
        for w in windows
    ]


def _window_objects(windows: Iterable[Window]) -> Iterator[str]:
    """Each window as a JSON object, key for key as `window_dicts`. Windows that share a
    timing share everything but the ids, so that part is serialised once per timing."""
    iso = _Iso()
    bodies: dict[tuple, str] = {}
    for w in windows:
        shape = (w.opens_at, w.due_at, w.closes_at, w.time_limit_minutes, w.rules)
        body = bodies.get(shape)
        if body is None:
            body = bodies[shape] = json.dumps(
                {
                    "opens_at": iso(w.opens_at),
                    "due_at": iso(w.due_at),
                    "closes_at": iso(w.closes_at),
                    "time_limit_minutes": w.time_limit_minutes,
                    "rules": list(w.rules),
                },
                ensure_ascii=False,
            )[1:]
        yield f'{{"exam_id": {_string(w.exam_id)}, "student_id": {_string(w.student_id)}, {body}'


def _json_list(items: Iterable[str]) -> Iterator[str]:
    yield "["
    for i, item in enumerate(items):
        yield item if i == 0 else ", " + item
    yield "]"


def warning_dicts(warnings: Iterable[LintWarning]) -> list[dict]:
    return [{"rule": w.rule, "message": w.message, "exam_id": w.exam_id, "student_id": w.student_id} for w in warnings]


def write_windows_json(out: TextIO, policy_name: str, windows: Iterable[Window], warnings: Sequence[LintWarning]) -> None:
    """The `windows` JSON document, streamed: 200,000 windows need not sit in memory twice."""
    out.write(f'{{"policy": {_string(policy_name)}, "windows": ')
    out.writelines(_json_list(_window_objects(windows)))
    out.write(f', "warnings": {json.dumps(warning_dicts(warnings), ensure_ascii=False)}}}\n')


def windows_json(policy_name: str, windows: Sequence[Window], warnings: Sequence[LintWarning]) -> str:
    buffer = io.StringIO()
    write_windows_json(buffer, policy_name, windows, warnings)
    return buffer.getvalue().rstrip("\n")


def incident_json(exam_id: str, decision: IncidentDecision) -> str:
    return json.dumps(
        {
            "decision": decision.decision,
            "rule": decision.rule,
            "exam_id": exam_id,
            "fraction": float(round(decision.fraction, 4)),
            "disruption_minutes": decision.disruption_minutes,
            "affected": list(decision.affected),
            "windows": window_dicts(decision.windows),
        },
        ensure_ascii=False,
    )


def shifts_json(plan: StaggerPlan) -> str:
    iso = _Iso()
    return json.dumps(
        {
            "shifts": [
                {
                    "exam_id": s.exam_id,
                    "from": iso(s.original_start),
                    "to": iso(s.new_start),
                    "minutes": s.shift_minutes,
                    "rule": s.rule,
                    "reason": s.reason,
                }
                for s in plan.shifts
            ],
            "still_crowded": [{"at": iso(at), "candidates": n} for at, n in plan.still_crowded],
        }
    )


def local(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z")


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    rows = [list(map(str, r)) for r in rows]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    line = "  ".join("{:<%d}" % w for w in widths)
    out = [line.format(*headers).rstrip(), line.format(*("-" * w for w in widths)).rstrip()]
    out += [line.format(*r).rstrip() for r in rows]
    return "\n".join(out)


def windows_table(windows: Sequence[Window], warnings: Sequence[LintWarning], zone: ZoneInfo) -> str:
    rows = (
        (
            w.exam_id,
            w.student_id,
            local(w.opens_at, zone),
            local(w.due_at, zone),
            local(w.closes_at, zone) if w.closes_at != w.due_at else "= due",
            "-" if w.time_limit_minutes is None else f"{w.time_limit_minutes} min",
            ", ".join(w.rules) or "-",
        )
        for w in windows
    )
    text = table(("exam", "student", "opens", "due", "closes", "time limit", "rules"), rows)
    text += f"\n\n{len(windows)} windows; times in {zone.key}."
    if warnings:
        text += f"\n\n{len(warnings)} warnings:\n" + "\n".join(f"  [{w.rule}] {w.message}" for w in warnings)
    return text


def incident_table(exam_id: str, d: IncidentDecision, zone: ZoneInfo) -> str:
    head = (
        f"Exam {exam_id}: {d.decision.upper()} under {d.rule}\n"
        f"The disruption of {d.disruption_minutes} min began {float(d.fraction):.0%} of the way into the "
        f"published time.\n{len(d.affected)} candidates affected.\n\n"
    )
    return head + windows_table(d.windows, (), zone)


def shifts_table(plan: StaggerPlan, limit: int | None, zone: ZoneInfo) -> str:
    if not plan.shifts and not plan.still_crowded:
        return "No release needs to move: every start slot is within the policy's limit."
    rows = ((s.exam_id, local(s.original_start, zone), local(s.new_start, zone), s.reason) for s in plan.shifts)
    text = table(("exam", "release", "proposed", "why"), rows) if plan.shifts else "No release can usefully move."
    if plan.still_crowded:
        text += f"\n\nStill over the limit of {limit} candidates starting at once (no allowed shift relieves them):\n"
        text += "\n".join(f"  {local(at, zone)}: {n} candidates" for at, n in plan.still_crowded)
    return text
