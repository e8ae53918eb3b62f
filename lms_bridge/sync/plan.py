"""Desired − observed = operations. Pure; an empty list means the course has converged."""

from __future__ import annotations

from collections.abc import Iterable

from ..domain.model import ExamSetup
from ..lms import AssessmentTarget, CourseTarget, ExamTarget, ObservedAssessment, ObservedCourse, ObservedExam
from .operations import Action, Change, Operation, OverridePlan

MISSING = ("missing",)
DRIFT = ("drift",)
SETTINGS = ("attempts", "access_code", "shuffle_answers", "hide_results_until_close")


def plan_course(target: CourseTarget, observed: ObservedCourse) -> list[Operation]:
    ops: list[Operation] = []
    for exam in target.exams:
        ops += plan_exam(exam, observed.exams.get(exam.exam_id, ObservedExam(None, None)))
    return ops


def plan_exam(t: ExamTarget, o: ObservedExam) -> list[Operation]:
    def op(action: Action, subject: str, reasons: Iterable[str], role: str = "exam", **kw: object) -> Operation:
        return Operation(t.exam_id, action, role, subject, tuple(reasons), t, o, **kw)  # type: ignore[arg-type]

    ops: list[Operation] = []
    area = o.area
    module = f"module '{t.area.module_name}'"
    if area is None or area.module_id is None:
        ops.append(op(Action.CREATE_MODULE, module, MISSING))
    else:
        changes = [Change("published", False, True)] if not area.published else []
        if area.module_name != t.area.module_name:  # the exam's title changed: rename, never duplicate
            changes.append(Change("name", area.module_name, t.area.module_name))
        if changes:
            ops.append(op(Action.UPDATE_MODULE, module, DRIFT, changes=tuple(changes)))

    page = f"page '{t.area.page_title}'"
    if area is None or area.page_id is None:
        ops.append(op(Action.CREATE_PAGE, page, MISSING))
    else:
        changes = []
        if area.page_title is not None and area.page_title != t.area.page_title:
            changes.append(Change("title", area.page_title, t.area.page_title))
        if area.page_html != t.area.page_html:
            changes.append(Change("body", "(differs)", "(exam information)"))
        if changes:
            ops.append(op(Action.UPDATE_PAGE, page, DRIFT, changes=tuple(changes)))

    if t.area.paper is not None:
        paper = f"paper '{t.area.paper_name}'"
        if area is None or area.paper_id is None:
            ops.append(op(Action.UPLOAD_PAPER, paper, MISSING))
        elif area.paper_name is not None and area.paper_name != t.area.paper_name:
            # a corrected paper (or a retitled exam): the new file replaces the old one
            ops.append(op(Action.UPLOAD_PAPER, paper, ("paper replaced",),
                          changes=(Change("paper", area.paper_name, t.area.paper_name),)))
        elif area.paper_locked_until != t.area.release_at:
            change = Change("locked until", area.paper_locked_until, t.area.release_at)
            ops.append(op(Action.LOCK_PAPER, paper, DRIFT, changes=(change,)))

    ops += _assessment_ops(t, o.assessment, t.assessment, "exam", op)
    if t.practice is not None:
        ops += _assessment_ops(t, o.practice, t.practice, "practice", op)

    wanted = {"page", "assessment"} | ({"paper"} if t.area.paper is not None else set())
    wanted |= {"practice"} if t.practice is not None else set()
    linked = _linked_kinds(o)
    # an assessment made now (missing, or replacing one of another delivery) is not linked yet
    linked -= {"assessment" if x.role == "exam" else "practice" for x in ops if x.action is Action.CREATE_ASSESSMENT}
    linked -= {"paper" for x in ops if x.action is Action.UPLOAD_PAPER}
    if not wanted <= linked:
        ops.append(op(Action.LINK_ITEMS, module, MISSING,
                      changes=(Change("linked items", sorted(linked & wanted), sorted(wanted)),)))
    return ops


def _linked_kinds(o: ObservedExam) -> set[str]:
    """Which of the exam's objects the module links to, from the adapter's item refs."""
    area = o.area
    if area is None or area.module_id is None:
        return set()
    ids = {
        "page": area.page_id,
        "paper": area.paper_id,
        "assessment": o.assessment.id if o.assessment else None,
        "practice": o.practice.id if o.practice else None,
    }
    return {kind for kind, ident in ids.items() if ident is not None and f"{kind}:{ident}" in area.item_refs}


def _assessment_ops(t: ExamTarget, o: ObservedAssessment | None, want: AssessmentTarget, role: str, op) -> list[Operation]:  # noqa: ANN001
    subject = f"{want.delivery.value} '{want.name}'"
    retire: list[Operation] = []
    if o is not None and o.delivery is not want.delivery:
        # an LMS cannot turn a drop-box into a quiz: the old one is retired, a new one made
        retire = [op(Action.RETIRE_ASSESSMENT, f"{o.delivery.value} '{o.name}'", ("delivery changed",), role,
                     changes=(Change("delivery", o.delivery.value, want.delivery.value),))]
        o = None
    if o is None:
        ops = retire + [op(Action.CREATE_ASSESSMENT, subject, MISSING, role)]
        if want.overrides:
            plan = OverridePlan((), want.overrides, ())
            ops.append(op(Action.SET_OVERRIDES, subject, MISSING + _rules(want), role, overrides=plan,
                          changes=tuple(Change("override", None, _describe(x)) for x in want.overrides)))
        if want.extra_minutes:
            ops.append(op(Action.SET_EXTRA_TIME, subject, MISSING + _rules(want), role, extra_minutes=dict(want.extra_minutes),
                          changes=(Change("extra time", None, f"{len(want.extra_minutes)} students"),)))
        return ops

    ops = []
    changes = _assessment_changes(want, o)
    if changes:
        ops.append(op(Action.UPDATE_ASSESSMENT, subject, DRIFT, role, changes=changes))
    plan = match_overrides(want, o)
    if plan.create or plan.delete or any(_differs(obs, tgt) for obs, tgt in plan.keep):
        ops.append(op(Action.SET_OVERRIDES, subject, _rules(want) or DRIFT, role, overrides=plan,
                      changes=_override_changes(plan)))
    extra = {u: m for u, m in want.extra_minutes.items() if o.extra_minutes.get(u, 0) != m}
    extra |= {u: 0 for u, m in o.extra_minutes.items() if m and u not in want.extra_minutes}
    if extra:
        ops.append(op(Action.SET_EXTRA_TIME, subject, _rules(want) or DRIFT, role, extra_minutes=extra,
                      changes=(Change("extra time", f"{len(o.extra_minutes)} students", f"{len(want.extra_minutes)} students"),)))
    return ops


def _assessment_changes(want: AssessmentTarget, o: ObservedAssessment) -> tuple[Change, ...]:
    changes = []
    for name, before, after in (
        ("name", o.name, want.name),
        ("opens", o.dates.opens_at, want.dates.opens_at),
        ("due", o.dates.due_at, want.dates.due_at),
        ("closes", o.dates.closes_at, want.dates.closes_at),
        ("time limit", o.time_limit_minutes, want.time_limit_minutes),
        ("published", o.published, True),
    ):
        if before != after:
            changes.append(Change(name, before, after))
    for key in SETTINGS:
        if key in o.settings and o.settings[key] != _setting(want.setup, key):
            changes.append(Change(key.replace("_", " "), o.settings[key], _setting(want.setup, key)))
    return tuple(changes)


def _setting(setup: ExamSetup, key: str) -> object:
    return getattr(setup, key)


def match_overrides(want: AssessmentTarget, o: ObservedAssessment) -> OverridePlan:
    """Pair observed overrides with desired ones: same students first (dates may change), then
    same dates (students may change); what is left is created or deleted."""
    observed = list(o.overrides)
    targets = list(want.overrides)
    keep = []
    for same in (lambda a, b: a.lms_user_ids == b.lms_user_ids, lambda a, b: a.dates == b.dates):
        for tgt in list(targets):
            found = next((obs for obs in observed if same(obs, tgt)), None)
            if found is not None:
                keep.append((found, tgt))
                observed.remove(found)
                targets.remove(tgt)
    return OverridePlan(tuple(keep), tuple(targets), tuple(observed))


def _differs(obs, tgt) -> bool:  # noqa: ANN001
    return obs.dates != tgt.dates or obs.lms_user_ids != tgt.lms_user_ids


def _describe(t) -> str:  # noqa: ANN001
    return f"{len(t.lms_user_ids)} students, due {t.dates.due_at:%Y-%m-%d %H:%M}Z, closes {t.dates.closes_at:%Y-%m-%d %H:%M}Z"


def _override_changes(plan: OverridePlan) -> tuple[Change, ...]:
    out = [Change("override", _describe(obs), _describe(tgt)) for obs, tgt in plan.keep if _differs(obs, tgt)]
    out += [Change("override", None, _describe(t)) for t in plan.create]
    out += [Change("override", _describe(obs), None) for obs in plan.delete]
    return tuple(out)


def _rules(want: AssessmentTarget) -> tuple[str, ...]:
    return tuple(sorted({r for o in want.overrides for r in o.rules}))
