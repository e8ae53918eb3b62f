"""/office/clarifications: one message to every candidate of an exam, in every course the exam
runs in (a Canvas announcement; a post in Moodle's announcements forum), seeds 002 §9.4.4 and
003 §11.1.

The jobs' `create_clarification` stores it (audited with its text) and queues the
`send_clarification` work that posts it once in each course (`jobs.clarify.exam_courses`:
the exam's course and those of the same paper sat elsewhere at the same time).

An announcement reaches every candidate, so it must not single anyone out: a message or
subject that names a student of the timetable (a candidate's or a support plan's student id)
is refused, and this page never adds anything from a support plan to the text.
"""

from __future__ import annotations

import re

from flask import redirect, request
from sqlalchemy import select

from ...jobs.clarify import exam_courses
from ...jobs.converge import JobError, StoreState
from ...jobs.office import create_clarification
from ...store.job_models import ClarificationRow
from ..session import launch_url
from . import common
from .common import bp

MAX_SUBJECT = 200
MAX_MESSAGE = 5000
LABELS = {"exam": "Exam", "subject": "Subject", "message": "Message"}


def _courses(state: StoreState, exam_id: str) -> list[str]:
    try:
        return [str(c) for c in exam_courses(state.period, exam_id)]
    except KeyError:
        return []


def names_a_student(state: StoreState, text: str) -> bool:
    """True if `text` contains, as a whole word, the id of a student the store knows."""
    students = {s.student_id for s in state.period.sittings} | set(state.period.plans)
    if not students:
        return False
    words = set(re.findall(r"[\w.@\-]+", text))
    # ids may hold punctuation at their ends ("s1."): try the word trimmed as well
    words |= {w.strip(".-@") for w in words}
    return bool(words & students)


def validate(form, state: StoreState | None) -> tuple[dict[str, str], dict[str, str]]:  # noqa: ANN001
    values = {"exam": (form.get("exam") or "").strip(), "subject": (form.get("subject") or "").strip(),
              "message": (form.get("message") or "").strip()}
    errors: dict[str, str] = {}
    if state is None:
        return values, {"exam": "Nothing has been imported yet: upload a timetable first."}
    if not values["exam"]:
        errors["exam"] = "Choose the exam whose candidates get the clarification."
    elif values["exam"] not in {e.exam_id for e in state.period.exams}:
        errors["exam"] = "There is no exam with that id in the timetable."
    elif not _courses(state, values["exam"]):
        errors["exam"] = "This exam has no course in an LMS, so there is nowhere to announce it."
    if not values["subject"]:
        errors["subject"] = "Enter a subject."
    elif len(values["subject"]) > MAX_SUBJECT:
        errors["subject"] = f"Use at most {MAX_SUBJECT} characters (this has {len(values['subject'])})."
    if not values["message"]:
        errors["message"] = "Enter the clarification."
    elif len(values["message"]) > MAX_MESSAGE:
        errors["message"] = f"Use at most {MAX_MESSAGE} characters (this has {len(values['message'])})."
    for name in ("subject", "message"):
        if name not in errors and names_a_student(state, values[name]):
            errors[name] = ("This names a student (a student number from the timetable or the support plans). "
                            "A clarification goes to every candidate: write it for all of them and name no one.")
    return values, errors


def _page(state: StoreState | None, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
          status: int = 200):  # noqa: ANN202
    zone = common.zone_of(state)
    with common.sessions()() as session:
        sent = list(session.scalars(select(ClarificationRow).order_by(ClarificationRow.created_at.desc(),
                                                                      ClarificationRow.id.desc()).limit(100)))
    options = []
    if state is not None:
        for e in state.period.exams:
            where = ", ".join(_courses(state, e.exam_id)) or "no course"
            options.append((e.exam_id, f"{e.title} ({e.exam_id}), {common.when(e.start, zone)}: {where}"))
    rows = [{"row": r, "created": common.when(r.created_at, zone),
             "sent": common.when(r.sent_at, zone) if r.sent_at else None,
             "courses": ", ".join(_courses(state, r.exam_id)) if state is not None else ""} for r in sent]
    just_sent = request.args.get("sent")
    return common.render(
        "office/clarifications.html", status, imported=state is not None, options=options,
        values=values or {"exam": request.args.get("exam", ""), "subject": "", "message": ""},
        errors=errors or {}, labels=LABELS, rows=rows, just_sent=int(just_sent) if (just_sent or "").isdigit() else None,
        max_subject=MAX_SUBJECT, max_message=MAX_MESSAGE,
    )


@bp.get("/clarifications")
def clarifications():  # noqa: ANN201
    with common.sessions()() as session:
        state = common.store_state(session)
    return _page(state)


@bp.post("/clarifications")
def clarification_send():  # noqa: ANN201
    with common.sessions()() as session:
        state = common.store_state(session)
    values, errors = validate(request.form, state)
    if errors:
        return _page(state, values, errors, 400)
    try:
        with common.sessions()() as session, session.begin():
            ident = create_clarification(session, values["exam"], values["subject"], values["message"],
                                         actor=common.actor(), now=common.now())
    except (JobError, ValueError) as exc:
        return _page(state, values, {"exam": f"The clarification could not be queued: {exc}."}, 400)
    return redirect(launch_url("office.clarifications", sent=ident) + f"#clarification-{ident}", code=303)
