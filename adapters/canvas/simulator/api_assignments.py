"""Assignments, assignment overrides (single and batch) and learning object dates."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from . import render
from .errors import bad_request
from .pagination import paginate
from .params import as_list, to_bool
from .records import Override
from .state import DatedKind
from .web import (
    base,
    count_batch,
    course_id,
    include,
    json_response,
    nested,
    no_content,
    paged,
    params,
    sim,
)

bp = Blueprint("assignments", __name__, url_prefix="/api/v1/courses/<course_ref>")


def _override_dates_flag() -> bool:
    raw = params().get("override_assignment_dates")
    return True if raw is None else to_bool(raw)


def _students_in(items: Any) -> int:
    return sum(len(as_list(i.get("student_ids"))) or 1 for i in as_list(items) if isinstance(i, dict))


@bp.get("/assignments")
def list_assignments(course_ref: str) -> Response:
    s = sim()
    cid = course_id(course_ref)
    wanted, flag = include(), _override_dates_flag()
    term = str(params().get("search_term") or "").lower()
    with s.lock:
        rows = [a for a in s.course_assignments(cid) if term in a.name.lower()]
        return paged(rows, lambda a: render.assignment(s, a, base(), include=wanted, override_dates=flag))


@bp.post("/assignments")
def create_assignment(course_ref: str) -> Response:
    s = sim()
    fields = nested("assignment")
    count_batch(_students_in(fields.get("assignment_overrides")))
    with s.lock:
        assignment = s.create_assignment(course_id(course_ref), fields)
        return json_response(render.assignment(s, assignment, base(), include={"overrides"} & include()))


@bp.route("/assignments/<assignment_id>", methods=["GET", "PUT", "DELETE"])
def one_assignment(course_ref: str, assignment_id: str) -> Response:
    s = sim()
    cid = course_id(course_ref)
    with s.lock:
        if request.method == "GET":
            assignment = s.get_assignment(cid, assignment_id)
            return json_response(render.assignment(s, assignment, base(), include=include(),
                                                   override_dates=_override_dates_flag()))
        if request.method == "PUT":
            fields = nested("assignment")
            count_batch(_students_in(fields.get("assignment_overrides")))
            assignment = s.update_assignment(cid, assignment_id, fields)
        else:
            assignment = s.delete_assignment(cid, assignment_id)
        return json_response(render.assignment(s, assignment, base(), include=include()))


# -- overrides, one assignment ---------------------------------------------------------------------


@bp.get("/assignments/<assignment_id>/overrides")
def list_overrides(course_ref: str, assignment_id: str) -> Response:
    s = sim()
    with s.lock:
        return paged(s.list_overrides(course_id(course_ref), assignment_id), lambda o: render.override(s, o))


@bp.post("/assignments/<assignment_id>/overrides")
def create_override(course_ref: str, assignment_id: str) -> Response:
    s = sim()
    data = nested("assignment_override")
    count_batch(len(as_list(data.get("student_ids"))))
    with s.lock:
        return json_response(render.override(s, s.create_override(course_id(course_ref), assignment_id, data)))


@bp.route("/assignments/<assignment_id>/overrides/<override_id>", methods=["GET", "PUT", "DELETE"])
def one_override(course_ref: str, assignment_id: str, override_id: str) -> Response:
    s = sim()
    cid = course_id(course_ref)
    with s.lock:
        if request.method == "GET":
            override = s.get_override(cid, assignment_id, override_id)
        elif request.method == "PUT":
            data = nested("assignment_override")
            count_batch(len(as_list(data.get("student_ids"))))
            override = s.update_override(cid, assignment_id, override_id, data)
        else:
            override = s.delete_override(cid, assignment_id, override_id)
        return json_response(render.override(s, override))


# -- overrides, batch -------------------------------------------------------------------------------


@bp.get("/assignments/overrides")
def batch_get(course_ref: str) -> Response:
    s = sim()
    items = as_list(params().get("assignment_overrides"))
    if not items:
        raise bad_request({"errors": ["no assignment override data present"]})
    with s.lock:
        found: list[Override | None] = s.batch_get_overrides(course_id(course_ref), items)
        return json_response([render.override(s, o) if o else None for o in found])


@bp.route("/assignments/overrides", methods=["POST", "PUT"])
def batch_write(course_ref: str) -> Response:
    s = sim()
    items = params().get("assignment_overrides")
    count_batch(_students_in(items))
    with s.lock:
        written = s.batch_overrides(course_id(course_ref), items, create=request.method == "POST")
        return json_response([render.override(s, o) for o in written])


# -- learning object dates ---------------------------------------------------------------------------


def _date_details(course_ref: str, kind: DatedKind, object_id: str) -> Response:
    s = sim()
    cid = course_id(course_ref)
    if request.method == "PUT":
        fields = params()
        count_batch(_students_in(fields.get("assignment_overrides")))
        s.update_date_details(cid, kind, object_id, fields)
        return no_content()
    with s.lock:
        details = s.date_details(cid, kind, object_id)
        config = s.config
        page, link = paginate(details.overrides, request.base_url, list(request.args.items(multi=True)),
                              default_per_page=config.default_per_page, max_per_page=config.max_per_page)
        request.environ["sim.listed"] = len(page)
        return json_response(render.date_details(s, details, page), headers={"Link": link})


@bp.route("/assignments/<assignment_id>/date_details", methods=["GET", "PUT"])
def assignment_date_details(course_ref: str, assignment_id: str) -> Response:
    return _date_details(course_ref, "assignments", assignment_id)


@bp.route("/quizzes/<quiz_id>/date_details", methods=["GET", "PUT"])
def quiz_date_details(course_ref: str, quiz_id: str) -> Response:
    return _date_details(course_ref, "quizzes", quiz_id)
