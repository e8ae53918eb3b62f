"""Pages for exam setters and exams officers (course staff), under /course/.

Every route is staff-only twice over: the blueprint refuses a non-staff launch before any view
(so no route can forget), and each view carries `require_staff` as well. Everything is read
for the launch's own course only.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, redirect, request

from ...domain.rules import describe
from ...store.errors import NotFoundError
from ...store.exams import ExamIdTakenError, course_exam, last_applied, save_course_exam
from ...sync.operations import Action
from ...sync.render import value_text as _plan_value
from .. import csrf
from ..context import actor, private_pages
from ..context import now as _now
from ..context import render as _render
from ..session import StaffRequired, current_launch, launch_url, require_staff
from ..timeline import group_windows, text_alternative, timeline_svg
from . import courses, exam_form, runner, sessions, settings, wording

bp = Blueprint("staff", __name__, url_prefix="/course")
csrf.protect(bp)


@bp.before_request
def _staff_only() -> None:
    if not current_launch().is_staff:
        raise StaffRequired()


# Pages name students and their times: no browser or proxy may keep a copy.
private_pages(bp, "pages/error.html")


# --- the course's exams -----------------------------------------------------------------------


@bp.get("/")
@require_staff
def course_home():  # noqa: ANN201
    ctx = current_launch()
    loaded = courses.load(sessions(), settings())
    zone = loaded.policy.calendar.zone
    with sessions()() as session:
        applied = last_applied(session, ctx.course)
    now = _now()
    rows = []
    for exam in courses.course_exams(loaded.period, ctx.course):
        standard = courses.standard_timing(loaded.policy, exam)
        rows.append({
            "exam": exam,
            "delivery": wording.delivery_name(exam.delivery),
            "start": wording.when_short(exam.start, zone),
            "duration": wording.duration(exam.duration_minutes),
            "status": wording.status(standard, now),
            "applied": wording.when_short(applied[exam.exam_id], zone) if exam.exam_id in applied else "never",
        })
    return _render("pages/staff/home.html", rows=rows, policy=loaded.policy, zone=zone,
                   connected=courses.has_connection(loaded.connections, ctx.course))


def _form_page(form: exam_form.ExamForm, policy, *, editing: str | None, status: int = 200):  # noqa: ANN001, ANN202
    labels = {
        "exam_id": "Exam id",
        "title": "Title",
        "delivery": "Delivery",
        "start": f"Start (local time, {policy.calendar.timezone})",
        "duration_minutes": "Duration in minutes",
        "reading_minutes": "Reading time in minutes",
        "upload_minutes": "Upload time in minutes",
    }
    return _render(
        "pages/staff/exam_form.html", status, form=form, labels=labels, policy=policy, editing=editing,
        choices=exam_form.delivery_choices(), duration_hint=exam_form.duration_hint(policy),
    )


@bp.route("/exams/new", methods=["GET", "POST"])
@require_staff
def exam_new():  # noqa: ANN201
    return _edit(None)


@bp.route("/exams/<path:exam_id>/edit", methods=["GET", "POST"])
@require_staff
def exam_edit(exam_id: str):  # noqa: ANN201
    return _edit(exam_id)


def _edit(exam_id: str | None):  # noqa: ANN202
    ctx = current_launch()
    factory = sessions()
    with factory() as session:
        policy = courses.policy_in_use(session, settings().default_policy)
        existing = course_exam(session, ctx.course, exam_id) if exam_id is not None else None
    if exam_id is not None and existing is None:
        abort(404, description="This course has no exam with that id.")
    if request.method == "GET":
        values = exam_form.values_of(existing, policy) if existing else exam_form.blank(policy)
        return _form_page(exam_form.ExamForm(values), policy, editing=exam_id)

    form = exam_form.validate(request.form, policy, ctx.course, exam_id=exam_id)
    if form.ok:
        assert form.exam is not None
        try:
            with factory() as session, session.begin():
                save_course_exam(session, ctx.course, form.exam, create=exam_id is None, actor=actor(), now=_now())
        except ExamIdTakenError:
            form.errors["exam_id"] = "This exam id is already in use. Choose another."
        except NotFoundError:
            abort(404, description="This course has no exam with that id.")
        else:
            return redirect(launch_url("staff.exam_detail", exam_id=form.exam.exam_id, saved=1), code=303)
    return _form_page(form, policy, editing=exam_id, status=400)


# --- one exam: every candidate's window -------------------------------------------------------


@bp.get("/exams/<path:exam_id>/")
@require_staff
def exam_detail(exam_id: str):  # noqa: ANN201
    ctx = current_launch()
    loaded = courses.load(sessions(), settings())
    exam = next((e for e in courses.course_exams(loaded.period, ctx.course) if e.exam_id == exam_id), None)
    if exam is None:
        abort(404, description="This course has no exam with that id.")
    zone = loaded.policy.calendar.zone
    who = courses.candidates(loaded, ctx.course)
    windows = [w for w in courses.course_windows(loaded.policy, loaded.period, ctx.course, who.student_ids)
               if w.exam_id == exam_id]
    standard = courses.standard_timing(loaded.policy, exam)
    std_key = (standard.opens_at, standard.due_at, standard.closes_at)
    bars = group_windows(windows, std_key, zone)
    rows = [{
        "student_id": w.student_id,
        "plan": wording.plan_summary(loaded.period.plans.get(w.student_id)),
        "opens": wording.when_short(w.opens_at, zone),
        "due": wording.when_short(w.due_at, zone),
        "closes": wording.when_short(w.closes_at, zone),
        "limit": wording.duration(w.time_limit_minutes) if w.time_limit_minutes is not None else "none",
        "rules": w.rules,
        "standard": (w.opens_at, w.due_at, w.closes_at, w.time_limit_minutes) == (*std_key, standard.time_limit_minutes),
    } for w in windows]
    return _render(
        "pages/staff/exam.html", exam=exam, zone=zone, who=who, rows=rows, policy=loaded.policy,
        delivery=wording.delivery_name(exam.delivery),
        start=wording.when(exam.start, zone),
        duration=wording.duration(exam.duration_minutes),
        reading=exam.reading_minutes, upload=exam.upload_minutes,
        default_reading=loaded.policy.defaults.reading_minutes, default_upload=loaded.policy.defaults.upload_minutes,
        standard={"opens": wording.when(standard.opens_at, zone), "due": wording.when(standard.due_at, zone),
                  "closes": wording.when(standard.closes_at, zone),
                  "limit": wording.duration(standard.time_limit_minutes) if standard.time_limit_minutes else None,
                  "rules": standard.rules},
        timeline=timeline_svg(bars, zone, title=f"Windows of {exam.title}", element_id="timeline"),
        timeline_text=text_alternative(bars, zone),
        saved=request.args.get("saved") == "1",
    )


# --- the plan, drift and apply ----------------------------------------------------------------

_SIGNS = {
    Action.CREATE_MODULE: ("+", "create"), Action.CREATE_PAGE: ("+", "create"),
    Action.UPLOAD_PAPER: ("+", "create"), Action.CREATE_ASSESSMENT: ("+", "create"),
    Action.LINK_ITEMS: ("+", "create"), Action.RETIRE_ASSESSMENT: ("-", "retire"),
}
_REASONS = {
    "missing": "not in the LMS yet",
    "drift": "the LMS differs from the plan (changed in the LMS by hand, or the timetable, a plan "
             "or the roster changed since the last apply)",
}


def reason_words(reason: str) -> str:
    if reason in _REASONS:
        return _REASONS[reason]
    if "." in reason:
        return f"{describe(reason)} ({reason})"
    return reason


def _override_words(dates, students: int, zone) -> str:  # noqa: ANN001
    text = f"{students} student{'s' if students != 1 else ''}: due {_plan_value(dates.due_at, zone)}"
    if dates.closes_at != dates.due_at:
        text += f", closes {_plan_value(dates.closes_at, zone)}"
    return text


def _changes(op, zone) -> list[tuple[str, str, str]]:  # noqa: ANN001
    """What changes, in local time: the plan's own changes, with overrides spelt out from the
    override plan (the operation's summary of them is in UTC, for logs)."""
    rows = [(c.field, _plan_value(c.before, zone), _plan_value(c.after, zone))
            for c in op.changes if not (op.overrides is not None and c.field == "override")]
    if op.overrides is None:
        return rows
    plan = op.overrides
    none = _plan_value(None, zone)
    overrides = [("override", _override_words(o.dates, len(o.lms_user_ids), zone),
                  _override_words(t.dates, len(t.lms_user_ids), zone))
                 for o, t in plan.keep if o.dates != t.dates or o.lms_user_ids != t.lms_user_ids]
    overrides += [("override", none, _override_words(t.dates, len(t.lms_user_ids), zone)) for t in plan.create]
    overrides += [("override", _override_words(o.dates, len(o.lms_user_ids), zone), none) for o in plan.delete]
    return overrides + rows


@bp.get("/plan")
@require_staff
def plan():  # noqa: ANN201
    ctx = current_launch()
    loaded = courses.load(sessions(), settings())
    zone = loaded.policy.calendar.zone
    exams = courses.course_exams(loaded.period, ctx.course)
    error = None
    groups: list[dict[str, Any]] = []
    drift: list[dict[str, Any]] = []
    total = 0
    without_id = 0
    manual: list[dict[str, Any]] = []
    if exams:
        try:
            result = courses.plan_for(loaded, ctx.course)
        except Exception as exc:  # noqa: BLE001 - an unreadable LMS is shown, not a 500
            error = f"The LMS could not be read: {exc or type(exc).__name__}"
        else:
            course_plan = result.courses[0] if result.courses else None
            if course_plan is not None and course_plan.error:
                error = course_plan.error
            elif course_plan is not None:
                titles = {e.exam_id: e.title for e in exams}
                by_exam: dict[str, list[dict[str, Any]]] = {}
                for op in course_plan.operations:
                    sign, kind = _SIGNS.get(op.action, ("~", "change"))
                    item = {
                        "sign": sign, "kind": kind, "action": op.action.value, "subject": op.subject,
                        "reasons": [reason_words(r) for r in op.reasons], "drift": op.drift,
                        "changes": _changes(op, zone),
                        "exam_id": op.exam_id,
                    }
                    by_exam.setdefault(op.exam_id, []).append(item)
                    if op.drift:
                        drift.append(item)
                groups = [{"exam_id": k, "title": titles.get(k, k), "ops": v} for k, v in by_exam.items()]
                total = len(course_plan.operations)
                manual = [{"exam_id": m.exam_id, "title": titles.get(m.exam_id, m.exam_id), "subject": m.subject,
                           "instruction": m.instruction, "reason": m.reason, "detail": m.detail}
                          for m in getattr(course_plan, "manual", ())]
            without_id = result.report.students_without_id.get(ctx.course, 0)
    return _render("pages/staff/plan.html", exams=exams, error=error, groups=groups, drift=drift, total=total,
                   manual=manual,
                   without_id=without_id, lms=ctx.platform.capitalize(),
                   connected=courses.has_connection(loaded.connections, ctx.course))


@bp.post("/apply")
@require_staff
def apply():  # noqa: ANN201
    ctx = current_launch()
    run_id = runner().start(ctx.course, actor())
    return redirect(launch_url("staff.apply_progress", run_id=run_id), code=303)


def _run_of_this_course(run_id: str) -> dict[str, Any]:
    found = runner().progress(run_id)
    if found is None or found.get("course") != current_launch().course:
        abort(404, description="There is no apply run with that id for this course.")
    return found


def _progress_view(run: dict[str, Any]) -> dict[str, Any]:
    done, total, state = run["done"], run["total"], run["state"]
    words = {
        "queued": "Waiting to start.",
        "planning": "Reading the course from the LMS and planning.",
        "applying": f"Applying: {done} of {total} changes done.",
        "done": run.get("message") or "Finished.",
        "failed": run.get("message") or "The apply failed.",
    }
    return {"state": state, "done": done, "total": total, "failed": run["failed"],
            "finished": state in ("done", "failed"), "text": words.get(state, state)}


@bp.get("/apply/<run_id>")
@require_staff
def apply_progress(run_id: str):  # noqa: ANN201
    run = _run_of_this_course(run_id)
    return _render("pages/staff/progress.html", run=_progress_view(run), run_id=run_id)


@bp.get("/apply/<run_id>/progress.json")
@require_staff
def apply_progress_json(run_id: str):  # noqa: ANN201
    run = _run_of_this_course(run_id)
    response = jsonify(_progress_view(run))
    response.headers["Cache-Control"] = "no-store"
    return response

