"""The student's page, under /me/: their own exams in this course, in plain words.

Only the launch's own student id is ever used: windows are computed for that one student, and
only that student's plan is read into them. The page shows the effect of the adjustments (extra
minutes, a later deadline) and the rules in words, never the plan's numbers as such.
"""

from __future__ import annotations


from flask import Blueprint, render_template

from ...domain.model import ExamPeriod
from .. import csrf
from ..context import now as _now
from ..context import private_pages
from ..session import current_launch, require_launch
from ..timeline import Bar, text_alternative, timeline_svg
from . import courses, sessions, settings, wording

bp = Blueprint("student", __name__, url_prefix="/me")
csrf.protect(bp)


# Pages name students and their times: no browser or proxy may keep a copy.
private_pages(bp, "pages/error.html")


def _only(period: ExamPeriod, student_id: str | None) -> ExamPeriod:
    """The period with every other student's plan and sittings removed, before anything is
    computed: nothing of anyone else can reach the page, even by mistake."""
    return ExamPeriod(
        exams=period.exams,
        plans={k: v for k, v in period.plans.items() if student_id is not None and k == student_id},
        sittings=tuple(s for s in period.sittings if student_id is not None and s.student_id == student_id),
    )


@bp.get("/")
@require_launch
def my_exams():  # noqa: ANN201
    ctx = current_launch()
    loaded = courses.load(sessions(), settings())
    policy = loaded.policy
    zone = policy.calendar.zone
    period = _only(loaded.period, ctx.student_id)
    exams = courses.course_exams(period, ctx.course)
    # Without a student number no plan can be matched: the standard times are shown, and said so.
    me = ctx.student_id or "(you)"
    windows = {w.exam_id: w for w in courses.course_windows(policy, period, ctx.course, [me])}
    now = _now()
    items = []
    bars = []
    for exam in exams:
        window = windows[exam.exam_id]
        standard = courses.standard_timing(policy, exam)
        item = wording.for_student(exam, window, standard, zone)
        items.append({"view": item, "status": wording.status(standard, now),
                      "delivery": wording.delivery_name(exam.delivery)})
        bars.append(Bar(exam.title, window.opens_at, window.due_at, window.closes_at))
    return render_template(
        "pages/student/my_exams.html", ctx=ctx, items=items, zone=zone, known=ctx.student_id is not None,
        timeline=timeline_svg(bars, zone, title="Your exam times", element_id="my-timeline") if bars else None,
        timeline_text=text_alternative(bars, zone),
    )
