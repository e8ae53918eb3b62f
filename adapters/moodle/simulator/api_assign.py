"""mod_assign: assignments, extensions (user flags), and the 5.3 override functions."""

from __future__ import annotations

from typing import Any

from . import overrides
from .config import (
    CAP_ASSIGN_GRADE,
    CAP_ASSIGN_GRANT_EXTENSION,
    CAP_ASSIGN_MANAGE_OVERRIDES,
    CAP_ASSIGN_VIEW,
    CAP_COURSE_VIEW,
    CAP_VIEW_HIDDEN_ACTIVITIES,
)
from .context import Call
from .errors import MoodleError
from .records import Assign
from .registry import ExternalFunction, register
from .schema import (
    BOOL,
    DEFAULT,
    INT,
    OPTIONAL,
    RAW,
    TEXT,
    Multiple,
    Single,
    dflt,
    opt,
    req,
    warnings_desc,
)

WARNING_MESSAGES = {
    "couldnotgrantextensions": "Could not grant submission date extensions.",
    "invalidparameters": "Invalid parameters.",
}


def _warning(assignid: int, code: str, detail: str) -> dict[str, Any]:
    text = detail.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return {"item": text, "itemid": assignid, "warningcode": code,
            "message": WARNING_MESSAGES.get(code, "Unknown warning type.")}


def validate_assign(call: Call, assignid: int) -> Assign:
    """mod_assign_external::validate_assign(): the row, its course access and mod/assign:view."""
    sim = call.sim
    assign = sim.assign(assignid)
    call.validate_course(sim.course(assign.course))
    call.require(CAP_ASSIGN_VIEW)
    return assign


# -- mod_assign_get_assignments --------------------------------------------------------------------------

ASSIGNMENT = Single({
    "id": req(INT), "cmid": req(INT), "course": req(INT), "name": req(RAW), "nosubmissions": req(INT),
    "submissiondrafts": req(INT), "sendnotifications": req(INT), "sendlatenotifications": req(INT),
    "sendstudentnotifications": req(INT), "duedate": req(INT), "allowsubmissionsfromdate": req(INT),
    "grade": req(INT), "timemodified": req(INT), "completionsubmit": req(INT), "cutoffdate": req(INT),
    "gradingduedate": req(INT), "teamsubmission": req(INT), "requireallteammemberssubmit": req(INT),
    "teamsubmissiongroupingid": req(INT), "blindmarking": req(INT), "hidegrader": req(INT),
    "revealidentities": req(INT), "attemptreopenmethod": req(TEXT), "maxattempts": req(INT),
    "markingworkflow": req(INT), "markingallocation": req(INT), "markinganonymous": req(INT),
    "requiresubmissionstatement": req(INT), "preventsubmissionnotingroup": opt(INT),
    "submissionstatement": opt(RAW), "submissionstatementformat": opt(INT),
    "configs": Multiple(Single({"id": opt(INT), "assignment": opt(INT), "plugin": req(TEXT), "subtype": req(TEXT),
                                "name": req(TEXT), "value": req(TEXT)})),
    "intro": opt(RAW), "introformat": opt(INT),
    "introfiles": Multiple(Single({"filename": opt(TEXT)}), OPTIONAL),
    "introattachments": Multiple(Single({"filename": opt(TEXT)}), OPTIONAL),
    "activity": opt(RAW), "activityformat": opt(INT),
    "activityattachments": Multiple(Single({"filename": opt(TEXT)}), OPTIONAL),
    "timelimit": opt(INT), "submissionattachments": opt(INT),
})


def _assignment(call: Call, assign: Assign, cmid: int) -> dict[str, Any]:
    a = assign
    return {
        "id": a.id, "cmid": cmid, "course": a.course, "name": a.name, "nosubmissions": a.nosubmissions,
        "submissiondrafts": a.submissiondrafts, "sendnotifications": a.sendnotifications,
        "sendlatenotifications": a.sendlatenotifications, "sendstudentnotifications": a.sendstudentnotifications,
        "duedate": a.duedate, "allowsubmissionsfromdate": a.allowsubmissionsfromdate, "grade": a.grade,
        "timemodified": a.timemodified, "completionsubmit": a.completionsubmit, "cutoffdate": a.cutoffdate,
        "gradingduedate": a.gradingduedate, "teamsubmission": a.teamsubmission,
        "requireallteammemberssubmit": a.requireallteammemberssubmit,
        "teamsubmissiongroupingid": a.teamsubmissiongroupingid, "blindmarking": a.blindmarking,
        "hidegrader": a.hidegrader, "revealidentities": a.revealidentities,
        "attemptreopenmethod": a.attemptreopenmethod, "maxattempts": a.maxattempts,
        "markingworkflow": a.markingworkflow, "markingallocation": a.markingallocation,
        "markinganonymous": a.markinganonymous, "requiresubmissionstatement": a.requiresubmissionstatement,
        "preventsubmissionnotingroup": a.preventsubmissionnotingroup,
        "configs": [{"plugin": p, "subtype": s, "name": n, "value": v} for p, s, n, v in a.configs],
        "intro": a.intro, "introformat": a.introformat, "introfiles": [], "introattachments": [],
        "timelimit": a.timelimit, "submissionattachments": a.submissionattachments,
    }


def get_assignments(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    sim = call.sim
    warnings: list[dict[str, Any]] = []
    with sim.lock:
        mine = sorted({e.course for e in sim.user_enrolments(call.account.userid) if e.status == "active"})
        wanted = params["courseids"] or mine
        courses: list[int] = []
        for cid in wanted:
            if cid in mine and cid in sim.courses:
                courses.append(cid)
            elif params["includenotenrolledcourses"] and cid in sim.courses and call.can(CAP_COURSE_VIEW):
                courses.append(cid)
            elif params["includenotenrolledcourses"] and cid not in sim.courses:
                warnings.append({"item": "course", "itemid": cid, "warningcode": "1",
                                 "message": "No access rights in course context"})
            else:
                warnings.append({"item": "course", "itemid": cid, "warningcode": "2",
                                 "message": "User is not enrolled or does not have requested capability"})
        out = []
        for cid in courses:
            if any(not call.can(c) for c in params["capabilities"]) or not call.can(CAP_ASSIGN_VIEW):
                continue
            course = sim.courses[cid]
            assignments = [_assignment(call, sim.assigns[cm.instance], cm.id) for cm in sim.course_modules(cid)
                           if cm.modname == "assign" and (cm.visible or call.can(CAP_VIEW_HIDDEN_ACTIVITIES))]
            out.append({"id": course.id, "fullname": course.fullname, "shortname": course.shortname,
                        "timemodified": course.timemodified, "assignments": assignments})
        return {"courses": out, "warnings": warnings}


register(ExternalFunction(
    "mod_assign_get_assignments", "mod_assign", "read",
    Single({"courseids": Multiple(req(INT), DEFAULT, []), "capabilities": Multiple(req(TEXT), DEFAULT, []),
            "includenotenrolledcourses": dflt(BOOL, False)}),
    Single({"courses": Multiple(Single({"id": req(INT), "fullname": req(RAW), "shortname": req(RAW),
                                        "timemodified": req(INT), "assignments": Multiple(ASSIGNMENT)})),
            "warnings": warnings_desc()}),
    get_assignments))

# -- extensions ------------------------------------------------------------------------------------


def save_user_extensions(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    sim = call.sim
    assignid, userids, dates = params["assignmentid"], params["userids"], params["dates"]
    if len(userids) != len(dates):
        return [_warning(assignid, "invalidparameters", "Length of userids and dates parameters differ.")]
    with sim.lock:
        assign = validate_assign(call, assignid)
        warnings = []
        for userid, date in zip(userids, dates, strict=True):
            call.require(CAP_ASSIGN_GRANT_EXTENSION)
            if not sim.save_user_extension(assign, userid, date):
                warnings.append(_warning(assignid, "couldnotgrantextensions",
                                         f"User id: {userid}, Assignment id: {assignid}, Extension date: {date}"))
        return warnings


register(ExternalFunction(
    "mod_assign_save_user_extensions", "mod_assign", "write",
    Single({"assignmentid": req(INT), "userids": Multiple(req(INT)), "dates": Multiple(req(INT))}),
    Multiple(Single({"item": opt(TEXT), "itemid": opt(INT), "warningcode": req("alphanum"), "message": req(RAW)})),
    save_user_extensions))


def get_user_flags(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    sim = call.sim
    warnings: list[dict[str, Any]] = []
    out = []
    with sim.lock:
        requested = list(dict.fromkeys(params["assignmentids"]))
        readable = []
        for assignid in requested:
            assign = sim.assigns.get(assignid)
            if assign is None:
                continue
            try:
                call.validate_course(sim.course(assign.course))
                call.require(CAP_ASSIGN_GRADE)
                readable.append(assignid)
            except MoodleError:
                warnings.append({"item": "assignment", "itemid": assignid, "warningcode": "1",
                                 "message": "No access rights in module context"})
        for assignid in readable:
            flags = sim.user_flags(assignid)
            if not flags:
                warnings.append({"item": "assignment", "itemid": assignid, "warningcode": "3",
                                 "message": "No user flags found"})
                continue
            out.append({"assignmentid": assignid, "userflags": [
                {"id": f.id, "userid": f.userid, "locked": f.locked, "mailed": f.mailed,
                 "extensionduedate": f.extensionduedate, "workflowstate": f.workflowstate,
                 "allocatedmarker": f.allocatedmarker} for f in flags]})
        return {"assignments": out, "warnings": warnings}


register(ExternalFunction(
    "mod_assign_get_user_flags", "mod_assign", "read", Single({"assignmentids": Multiple(req(INT))}),
    Single({"assignments": Multiple(Single({"assignmentid": req(INT), "userflags": Multiple(Single({
        "id": req(INT), "userid": req(INT), "locked": req(INT), "mailed": req(INT), "extensionduedate": req(INT),
        "workflowstate": opt("alpha"), "allocatedmarker": req(INT)}))})),
        "warnings": warnings_desc()}),
    get_user_flags))

# -- overrides (core 5.3) ---------------------------------------------------------------------------

OVERRIDE_IN = Single({
    "id": dflt(INT, None), "groupid": dflt(INT, None), "userid": dflt(INT, None),
    "allowsubmissionsfromdate": dflt(INT, None), "duedate": dflt(INT, None), "cutoffdate": dflt(INT, None),
    "timelimit": dflt(INT, None), "reason": opt(RAW), "reasonformat": dflt(INT, 0),
})
OVERRIDE_OUT = Single({
    "id": req(INT), "assignid": req(INT), "userid": dflt(INT, None), "groupid": dflt(INT, None),
    "sortorder": dflt(INT, None), "allowsubmissionsfromdate": dflt(INT, None), "duedate": dflt(INT, None),
    "cutoffdate": dflt(INT, None), "timelimit": dflt(INT, None), "reason": dflt(RAW, None),
    "reasonformat": dflt(INT, 0),
})
IDS = Single({"ids": Multiple(req(INT))})


def _manage(call: Call, assignid: int) -> Assign:
    sim = call.sim
    assign = sim.assign(assignid)
    call.validate_course(sim.course(assign.course))
    call.require(CAP_ASSIGN_MANAGE_OVERRIDES)
    return assign


def override_row(row: Any, *, with_reason: bool = True) -> dict[str, Any]:
    out = {"id": row.id, "assignid": row.assignid, "userid": row.userid, "groupid": row.groupid,
           "sortorder": row.sortorder, "allowsubmissionsfromdate": row.allowsubmissionsfromdate,
           "duedate": row.duedate, "cutoffdate": row.cutoffdate, "timelimit": row.timelimit}
    if with_reason:
        out.update(reason=row.reason, reasonformat=row.reasonformat)
    return out


def save_overrides(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    data = params["data"]
    with call.sim.lock:
        assign = _manage(call, data["assignid"])
        return {"ids": [overrides.save_core_assign_override(call.sim, assign, o) for o in data["overrides"]]}


def get_overrides(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    with call.sim.lock:
        assign = _manage(call, params["assignid"])
        return {"overrides": [override_row(o) for o in call.sim.assign_overrides(assign.id)]}


def delete_overrides(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    data = params["data"]
    with call.sim.lock:
        assign = _manage(call, data["assignid"])
        return {"ids": overrides.delete_core_assign_overrides(call.sim, assign, data["ids"])}


register(ExternalFunction(
    "mod_assign_save_overrides", "mod_assign", "write",
    Single({"data": Single({"assignid": req(INT), "overrides": Multiple(OVERRIDE_IN),
                            "recalculatepenalties": dflt(BOOL, False)})}),
    IDS, save_overrides, since="5.3"))
register(ExternalFunction(
    "mod_assign_get_overrides", "mod_assign", "read", Single({"assignid": req(INT)}),
    Single({"overrides": Multiple(OVERRIDE_OUT)}), get_overrides, since="5.3"))
register(ExternalFunction(
    "mod_assign_delete_overrides", "mod_assign", "write",
    Single({"data": Single({"assignid": req(INT), "ids": Multiple(req(INT)),
                            "recalculatepenalties": dflt(BOOL, False)})}),
    IDS, delete_overrides, since="5.3"))
