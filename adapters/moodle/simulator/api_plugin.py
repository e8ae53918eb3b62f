"""local_lmsbridge, the companion plugin (adapters/moodle/plugin/CONTRACT.md), in plugin mode only."""

from __future__ import annotations

from typing import Any

from . import overrides
from .api_assign import override_row
from .config import (
    CAP_ASSIGN_ADD,
    CAP_ASSIGN_MANAGE_OVERRIDES,
    CAP_COURSE_UPDATE,
    CAP_MANAGE_ACTIVITIES,
    CAP_QUIZ_ADD,
    CAP_RESOURCE_ADD,
    PLUGIN_COMPONENT,
)
from .context import Call
from .errors import invalid_parameter
from .records import Assign, CourseModule, Quiz
from .registry import ExternalFunction, register
from .schema import (
    BOOL,
    DEFAULT,
    INT,
    PLUGIN,
    RAW,
    TEXT,
    Multiple,
    Single,
    dflt,
    opt,
    req,
    warnings_desc,
)

SETTINGS = Single({
    "allowsubmissionsfromdate": opt(INT), "duedate": opt(INT), "cutoffdate": opt(INT), "timelimit": opt(INT),
    "timeopen": opt(INT), "timeclose": opt(INT), "attempts": opt(INT), "quizpassword": opt(RAW),
    "shuffleanswers": opt(INT), "hideresultsuntilclose": opt(INT),
}, DEFAULT, {})
WARNINGS = warnings_desc()


def _course(call: Call, courseid: int) -> Any:
    course = call.sim.course(courseid)
    call.validate_course(course)
    return course


def _idnumber(value: str) -> str:
    if len(value) > 100:
        raise invalid_parameter("idnumber is longer than 100 characters")
    return value


# -- local_lmsbridge_upsert_activity -------------------------------------------------------------------


def upsert_activity(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    sim = call.sim
    with sim.lock:
        course = _course(call, params["courseid"])
        call.require(CAP_MANAGE_ACTIVITIES)
        idnumber = _idnumber(params["idnumber"])
        if params["modname"] in ("assign", "quiz") and sim.find_module(course.id, idnumber=idnumber) is None:
            call.require(CAP_ASSIGN_ADD if params["modname"] == "assign" else CAP_QUIZ_ADD)
        cm, created = sim.upsert_activity(course.id, idnumber, params["modname"], params["section"], params["name"],
                                          params["intro"], params["visible"], params["settings"])
        return {"cmid": cm.id, "instance": cm.instance, "created": created, "warnings": []}


register(ExternalFunction(
    "local_lmsbridge_upsert_activity", PLUGIN_COMPONENT, "write",
    Single({"courseid": req(INT), "idnumber": req(TEXT), "modname": req(PLUGIN), "section": req(INT),
            "name": req(TEXT), "intro": dflt(RAW, ""), "visible": dflt(INT, 1), "settings": SETTINGS}),
    Single({"cmid": req(INT), "instance": req(INT), "created": req(BOOL), "warnings": WARNINGS}),
    upsert_activity))

# -- local_lmsbridge_get_activities ----------------------------------------------------------------------

ACTIVITY = Single({
    "cmid": req(INT), "instance": req(INT), "modname": req(PLUGIN), "idnumber": req(RAW), "name": req(RAW),
    "section": req(INT), "sectionid": req(INT), "visible": req(INT),
    "settings": Single({k: opt(v.type) for k, v in SETTINGS.keys.items()}),
    "availability": req(RAW),
})
SECTION = Single({"id": req(INT), "section": req(INT), "name": req(RAW), "summary": req(RAW), "visible": req(INT),
                  "availability": req(RAW)})


def _settings(inst: Any) -> dict[str, Any]:
    if isinstance(inst, Assign):
        return {"allowsubmissionsfromdate": inst.allowsubmissionsfromdate, "duedate": inst.duedate,
                "cutoffdate": inst.cutoffdate, "timelimit": inst.timelimit}
    if isinstance(inst, Quiz):
        return {"timelimit": inst.timelimit, "timeopen": inst.timeopen, "timeclose": inst.timeclose,
                "attempts": inst.attempts, "quizpassword": inst.password, "shuffleanswers": inst.shuffleanswers,
                "hideresultsuntilclose": inst.hideresultsuntilclose}
    return {}


def _activity(call: Call, cm: CourseModule) -> dict[str, Any]:
    sim = call.sim
    inst = sim.instance(cm)
    section = sim.section(cm.section)
    return {"cmid": cm.id, "instance": cm.instance, "modname": cm.modname, "idnumber": cm.idnumber,
            "name": inst.name, "section": section.section, "sectionid": section.id, "visible": cm.visible,
            "settings": _settings(inst), "availability": cm.availability}


def get_activities(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    sim = call.sim
    with sim.lock:
        course = _course(call, params["courseid"])
        call.require(CAP_MANAGE_ACTIVITIES)
        prefix = params["idnumberprefix"]
        activities = [_activity(call, cm) for cm in sim.course_modules(course.id)
                      if cm.idnumber and cm.idnumber.startswith(prefix)]
        sections = [{"id": s.id, "section": s.section, "name": s.name or "", "summary": s.summary,
                     "visible": s.visible, "availability": s.availability} for s in sim.course_sections(course.id)]
        return {"activities": activities, "sections": sections, "warnings": []}


register(ExternalFunction(
    "local_lmsbridge_get_activities", PLUGIN_COMPONENT, "read",
    Single({"courseid": req(INT), "idnumberprefix": dflt(TEXT, "lmsbridge:")}),
    Single({"activities": Multiple(ACTIVITY), "sections": Multiple(SECTION), "warnings": WARNINGS}),
    get_activities))

# -- local_lmsbridge_update_section ----------------------------------------------------------------------


def update_section(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    sim = call.sim
    with sim.lock:
        course = _course(call, params["courseid"])
        call.require(CAP_COURSE_UPDATE)
        section, created = sim.update_section_by_number(course.id, params["section"], params["name"],
                                                        params["summary"], params["visible"], params["availability"])
        return {"sectionid": section.id, "section": section.section, "created": created, "warnings": []}


register(ExternalFunction(
    "local_lmsbridge_update_section", PLUGIN_COMPONENT, "write",
    Single({"courseid": req(INT), "section": req(INT), "name": req(TEXT), "summary": dflt(RAW, ""),
            "visible": dflt(INT, 1), "availability": dflt(RAW, "")}),
    Single({"sectionid": req(INT), "section": req(INT), "created": req(BOOL), "warnings": WARNINGS}),
    update_section))

# -- local_lmsbridge_set_availability --------------------------------------------------------------------


def set_availability(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    sim = call.sim
    with sim.lock:
        cm = sim.cm(params["cmid"])
        _course(call, cm.course)
        call.require(CAP_MANAGE_ACTIVITIES)
        sim.set_cm_availability(cm.id, params["availability"])
        return {"status": True, "warnings": []}


register(ExternalFunction(
    "local_lmsbridge_set_availability", PLUGIN_COMPONENT, "write",
    Single({"cmid": req(INT), "availability": req(RAW)}),
    Single({"status": req(BOOL), "warnings": WARNINGS}), set_availability))

# -- local_lmsbridge_attach_paper ------------------------------------------------------------------------


def attach_paper(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    sim = call.sim
    with sim.lock:
        course = _course(call, params["courseid"])
        call.require(CAP_MANAGE_ACTIVITIES)
        call.require(CAP_RESOURCE_ADD)
        cm, created, contenthash = sim.attach_paper(call.account.userid, course.id, _idnumber(params["idnumber"]),
                                                    params["section"], params["name"], params["draftitemid"],
                                                    params["opensat"])
        return {"cmid": cm.id, "created": created, "contenthash": contenthash, "warnings": []}


register(ExternalFunction(
    "local_lmsbridge_attach_paper", PLUGIN_COMPONENT, "write",
    Single({"courseid": req(INT), "idnumber": req(TEXT), "section": req(INT), "name": req(TEXT),
            "draftitemid": req(INT), "opensat": req(INT)}),
    Single({"cmid": req(INT), "created": req(BOOL), "contenthash": req(TEXT), "warnings": WARNINGS}),
    attach_paper))

# -- assignment overrides before 5.3 ---------------------------------------------------------------------

OVERRIDE_IN = Single({"id": dflt(INT, None), "userid": dflt(INT, None), "groupid": dflt(INT, None),
                      "allowsubmissionsfromdate": dflt(INT, None), "duedate": dflt(INT, None),
                      "cutoffdate": dflt(INT, None), "timelimit": dflt(INT, None)})
OVERRIDE_OUT = Single({"id": req(INT), "assignid": req(INT), "userid": dflt(INT, None), "groupid": dflt(INT, None),
                       "sortorder": dflt(INT, None), "allowsubmissionsfromdate": dflt(INT, None),
                       "duedate": dflt(INT, None), "cutoffdate": dflt(INT, None), "timelimit": dflt(INT, None)})
IDS = Single({"ids": Multiple(req(INT))})


def _assign(call: Call, assignid: int) -> Assign:
    assign = call.sim.assign(assignid)
    _course(call, assign.course)
    call.require(CAP_ASSIGN_MANAGE_OVERRIDES)
    return assign


def save_assign_overrides(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    data = params["data"]
    with call.sim.lock:
        assign = _assign(call, data["assignid"])
        ids = []
        for override in data["overrides"]:
            ids.append(overrides.save_plugin_assign_override(call.sim, assign, override))
        return {"ids": ids}


def get_assign_overrides(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    with call.sim.lock:
        assign = _assign(call, params["assignid"])
        return {"overrides": [override_row(o, with_reason=False) for o in call.sim.assign_overrides(assign.id)]}


def delete_assign_overrides(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    data = params["data"]
    with call.sim.lock:
        assign = _assign(call, data["assignid"])
        return {"ids": overrides.delete_plugin_assign_overrides(call.sim, assign, data["ids"])}


register(ExternalFunction(
    "local_lmsbridge_save_assign_overrides", PLUGIN_COMPONENT, "write",
    Single({"data": Single({"assignid": req(INT), "overrides": Multiple(OVERRIDE_IN)})}), IDS,
    save_assign_overrides, until="5.3"))
register(ExternalFunction(
    "local_lmsbridge_get_assign_overrides", PLUGIN_COMPONENT, "read", Single({"assignid": req(INT)}),
    Single({"overrides": Multiple(OVERRIDE_OUT)}), get_assign_overrides, until="5.3"))
register(ExternalFunction(
    "local_lmsbridge_delete_assign_overrides", PLUGIN_COMPONENT, "write",
    Single({"data": Single({"assignid": req(INT), "ids": Multiple(req(INT))})}), IDS,
    delete_assign_overrides, until="5.3"))
