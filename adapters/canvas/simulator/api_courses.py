"""Courses, sections, enrolments, users and assignment groups."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from . import render
from .params import as_list
from .records import Enrollment, User
from .web import base, course_id, include, json_response, nested, paged, params, sim

bp = Blueprint("courses", __name__, url_prefix="/api/v1/courses/<course_ref>")

_TYPE_NAMES = {"student": "StudentEnrollment", "teacher": "TeacherEnrollment", "ta": "TaEnrollment",
               "observer": "ObserverEnrollment", "designer": "DesignerEnrollment"}


@bp.get("")
def get_course(course_ref: str) -> Response:
    return json_response(render.course(sim().course(course_ref)))


@bp.get("/sections")
def list_sections(course_ref: str) -> Response:
    return paged(sim().course_sections(course_id(course_ref)), render.section)


@bp.post("/sections")
def create_section(course_ref: str) -> Response:
    fields = nested("course_section")
    section = sim().create_section(course_id(course_ref), str(fields.get("name") or ""), fields.get("sis_section_id"))
    return json_response(render.section(section))


@bp.get("/enrollments")
def list_enrollments(course_ref: str) -> Response:
    p = params()
    s = sim()
    cid = course_id(course_ref)
    user_id = str(p.get("user_id") or "")
    with s.lock:
        rows = s.course_enrollments(
            cid,
            types=[str(t) for t in as_list(p.get("type"))] or None,
            states=[str(t) for t in as_list(p.get("state"))] or None,
            sis_user_ids=[str(t) for t in as_list(p.get("sis_user_id"))] if "sis_user_id" in p else None,
            user_id=int(user_id) if user_id.isdigit() else None,
        )
        return paged(rows, lambda e: render.enrollment(s, e))


@bp.get("/users")
@bp.get("/search_users")
def list_users(course_ref: str) -> Response:
    p = params()
    s = sim()
    cid = course_id(course_ref)
    types = [_TYPE_NAMES.get(str(t), str(t)) for t in as_list(p.get("enrollment_type"))] or None
    states = [str(t) for t in as_list(p.get("enrollment_state"))] or None
    wanted_ids = {str(u) for u in as_list(p.get("user_ids"))}
    term = str(p.get("search_term") or "").lower()
    with s.lock:
        enrollments = s.course_enrollments(cid, types=types, states=states)
        seen: dict[int, list[Enrollment]] = {}
        for e in enrollments:
            seen.setdefault(e.user_id, []).append(e)
        users = [s.users[uid] for uid in seen
                 if (not wanted_ids or str(uid) in wanted_ids)
                 and (not term or term in s.users[uid].name.lower() or term in (s.users[uid].sis_user_id or "").lower())]
        users.sort(key=lambda u: (render.user(u)["sortable_name"].lower(), u.id))
        with_enrollments = "enrollments" in include()

        def one(u: User) -> dict[str, Any]:
            out = render.user(u)
            if with_enrollments:
                out["enrollments"] = [render.enrollment(s, e) for e in seen[u.id]]
            return out

        return paged(users, one)


@bp.get("/assignment_groups")
def list_groups(course_ref: str) -> Response:
    s = sim()
    cid = course_id(course_ref)
    with_assignments = "assignments" in include()
    with s.lock:
        return paged(s.list_assignment_groups(cid), lambda g: render.assignment_group(s, g, with_assignments, base()))


@bp.post("/assignment_groups")
def create_group(course_ref: str) -> Response:
    s = sim()
    with s.lock:
        group = s.create_assignment_group(course_id(course_ref), params())
        return json_response(render.assignment_group(s, group, False, base()))


@bp.route("/assignment_groups/<group_id>", methods=["GET", "PUT", "DELETE"])
def one_group(course_ref: str, group_id: str) -> Response:
    s = sim()
    cid = course_id(course_ref)
    with s.lock:
        if request.method == "GET":
            group = s.get_assignment_group(cid, group_id)
        elif request.method == "PUT":
            group = s.update_assignment_group(cid, group_id, params())
        else:
            group = s.delete_assignment_group(cid, group_id)
        return json_response(render.assignment_group(s, group, "assignments" in include(), base()))
