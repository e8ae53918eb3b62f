"""Showing a sync plan to people (like `terraform plan`) and its summary to scripts."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from .engine import SyncPlan
from .operations import Action, Operation

_SIGN = {
    Action.CREATE_MODULE: "+", Action.CREATE_PAGE: "+", Action.UPLOAD_PAPER: "+", Action.CREATE_ASSESSMENT: "+",
    Action.LINK_ITEMS: "+",
}


def value_text(v: object, zone: ZoneInfo) -> str:
    if v is None:
        return "(none)"
    if isinstance(v, datetime):
        return v.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z")
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v)) or "(none)"
    return str(v)


def plan_text(plan: SyncPlan, zone: ZoneInfo) -> str:
    lines: list[str] = []
    for course in plan.courses:
        if course.error:
            lines.append(f"! {course.course}: cannot be planned: {course.error}")
            continue
        by_hand = f", {len(course.manual)} steps by hand" if course.manual else ""
        if not course.operations:
            lines.append(f"= {course.course}: up to date{by_hand}")
        else:
            lines.append(f"~ {course.course}: {len(course.operations)} changes{by_hand}")
        for op in course.operations:
            lines.append(f"    {_SIGN.get(op.action, '~')} {op.exam_id}: {op.action.value} {op.subject}"
                         f"  ({', '.join(op.reasons)})")
            for c in op.changes:
                lines.append(f"        {c.field}: {value_text(c.before, zone)} -> {value_text(c.after, zone)}")
        for step in course.manual:
            lines.append(f"    ! {step.exam_id}: BY HAND {step.subject}: {step.instruction}")
            lines.append(f"        (why: {step.reason})")
            if step.detail:
                lines.append(f"        content: {step.detail}")
    r = plan.report
    if r.exams_without_course:
        lines.append(f"\n{len(r.exams_without_course)} exams have no course and are not synced: "
                     + ", ".join(r.exams_without_course))
    for course, n in sorted(r.students_without_id.items()):
        lines.append(f"{course}: {n} students have no student id in the LMS; no support plan can apply to them")
    if r.plans_not_enrolled:
        lines.append(f"{len(r.plans_not_enrolled)} students with support plans are enrolled in none of these courses: "
                     + ", ".join(r.plans_not_enrolled))
    ops = plan.operations
    drift = sum(op.drift for op in ops)
    lines.append(f"\nPlan: {len(ops)} changes in {sum(bool(c.operations) for c in plan.courses)} courses "
                 f"({drift} repair drift); {sum(c.error is not None for c in plan.courses)} courses could not be read.")
    if plan.manual:
        lines.append(f"{len(plan.manual)} steps must be done by hand in the LMS (marked ! BY HAND above); "
                     "run plan again afterwards to check them.")
    return "\n".join(lines)


def drift_entries(plan: SyncPlan) -> list[str]:
    return [f"{c.course}/{op.exam_id}: {op.action.value} {op.subject}" for c in plan.courses for op in c.operations if op.drift]


def summary_json(plan: SyncPlan, reads: int, writes: int, drift: list[str]) -> str:
    failed = [
        {"course": str(c.course), "error": c.error or c.failed_at}
        for c in plan.courses if c.failed
    ]
    manual = [
        {"course": str(c.course), "exam_id": m.exam_id, "subject": m.subject, "instruction": m.instruction,
         "reason": m.reason} | ({"detail": m.detail} if m.detail else {})
        for c in plan.courses for m in c.manual
    ]
    return json.dumps({"courses": len(plan.courses), "reads": reads, "writes": writes, "failed": failed, "drift": drift,
                       "manual": manual})


def op_line(op: Operation) -> str:
    return f"{op.exam_id}: {op.action.value} {op.subject}"
