"""Classic Quizzes, extensions and submissions; New Quizzes and their accommodations."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from . import render
from .params import as_list
from .web import base, count_batch, course_id, json_response, nested, paged, params, sim

classic = Blueprint("quizzes", __name__, url_prefix="/api/v1/courses/<course_ref>")
new = Blueprint("new_quizzes", __name__, url_prefix="/api/quiz/v1/courses/<course_ref>")


@classic.get("/quizzes")
def list_quizzes(course_ref: str) -> Response:
    s = sim()
    term = str(params().get("search_term") or "").lower()
    with s.lock:
        rows = [q for q in s.course_quizzes(course_id(course_ref)) if term in q.title.lower()]
        return paged(rows, lambda q: render.quiz(s, q, base()))


@classic.post("/quizzes")
def create_quiz(course_ref: str) -> Response:
    s = sim()
    with s.lock:
        return json_response(render.quiz(s, s.create_quiz(course_id(course_ref), nested("quiz")), base()))


@classic.route("/quizzes/<quiz_id>", methods=["GET", "PUT", "DELETE"])
def one_quiz(course_ref: str, quiz_id: str) -> Response:
    s = sim()
    cid = course_id(course_ref)
    with s.lock:
        if request.method == "GET":
            quiz = s.get_quiz(cid, quiz_id)
        elif request.method == "PUT":
            quiz = s.update_quiz(cid, quiz_id, nested("quiz"))
        else:
            quiz = s.delete_quiz(cid, quiz_id)
        return json_response(render.quiz(s, quiz, base()))


def _extension_entries() -> Any:
    entries = params().get("quiz_extensions")
    count_batch(len(as_list(entries)))
    return entries


@classic.post("/quizzes/<quiz_id>/extensions")
def quiz_extensions(course_ref: str, quiz_id: str) -> Response:
    s = sim()
    rows = s.set_quiz_extensions(course_id(course_ref), quiz_id, _extension_entries())
    return json_response({"quiz_extensions": [render.quiz_extension(r) for r in rows]})


@classic.post("/quiz_extensions")
def course_quiz_extensions(course_ref: str) -> Response:
    s = sim()
    rows = s.set_course_quiz_extensions(course_id(course_ref), _extension_entries())
    return json_response({"quiz_extensions": [render.quiz_extension(r) for r in rows]})


@classic.get("/quizzes/<quiz_id>/submissions")
def quiz_submissions(course_ref: str, quiz_id: str) -> Response:
    s = sim()
    cid = course_id(course_ref)
    with s.lock:
        rows = s.quiz_submission_rows(cid, quiz_id)
        return paged(rows, lambda r: render.quiz_submission(r, base(), cid), wrap="quiz_submissions")


@classic.get("/new_quizzes/<assignment_id>/accommodations")
@classic.get("/new_quizzes/<assignment_id>/accommodations/<user_id>")
def get_accommodations(course_ref: str, assignment_id: str, user_id: str | None = None) -> Response:
    """The canvas-lms proxy to the New Quizzes service (recent; may be absent on a real site)."""
    s = sim()
    wanted = user_id or params().get("user_id")
    rows = s.quiz_accommodations(course_id(course_ref), assignment_id, wanted)
    return json_response({"accommodations": [render.accommodation(r) for r in rows]})


# -- New Quizzes (/api/quiz/v1) ---------------------------------------------------------------------


@new.get("/quizzes")
def list_new_quizzes(course_ref: str) -> Response:
    s = sim()
    with s.lock:
        return paged(s.new_quizzes(course_id(course_ref)), render.new_quiz)


@new.post("/quizzes")
def create_new_quiz(course_ref: str) -> Response:
    s = sim()
    with s.lock:
        return json_response(render.new_quiz(s.create_new_quiz(course_id(course_ref), nested("quiz"))))


@new.route("/quizzes/<assignment_id>", methods=["GET", "PATCH", "PUT", "DELETE"])
def one_new_quiz(course_ref: str, assignment_id: str) -> Response:
    s = sim()
    cid = course_id(course_ref)
    with s.lock:
        if request.method == "GET":
            quiz = s.get_new_quiz(cid, assignment_id)
        elif request.method == "DELETE":
            quiz = s.delete_new_quiz(cid, assignment_id)
        else:
            quiz = s.update_new_quiz(cid, assignment_id, nested("quiz"))
        return json_response(render.new_quiz(quiz))


def _accommodation_body() -> Any:
    body = params().get("_json")
    count_batch(len(body) if isinstance(body, list) else 0)
    return body


@new.post("/quizzes/<assignment_id>/accommodations")
def quiz_accommodations(course_ref: str, assignment_id: str) -> Response:
    return json_response(sim().set_accommodations(course_id(course_ref), assignment_id, _accommodation_body()))


@new.post("/accommodations")
def course_accommodations(course_ref: str) -> Response:
    return json_response(sim().set_accommodations(course_id(course_ref), None, _accommodation_body()))
