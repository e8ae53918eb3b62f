"""Moodle's answer shapes for courses, sections and modules (shared by core and plugin functions)."""

from __future__ import annotations

import json
from typing import Any

from . import availability as avail
from .config import CAP_COURSE_UPDATE, CAP_VIEW_HIDDEN_ACTIVITIES
from .context import Call
from .encode import php_json
from .records import Assign, CourseModule, Quiz, Resource, Section
from .store import MODULE_NAMES

MODULE_TYPE_IDS = {"assign": 1, "forum": 9, "quiz": 17, "resource": 18}


def group_names(call: Call, courseid: int) -> dict[int, str]:
    return {g.id: g.name for g in call.sim.course_groups(courseid)}


def customdata(call: Call, cm: CourseModule) -> str:
    inst = call.sim.instance(cm)
    data: dict[str, Any] = {}
    if isinstance(inst, Assign):
        if inst.duedate:
            data["duedate"] = inst.duedate
        if inst.cutoffdate:
            data["cutoffdate"] = str(inst.cutoffdate)
        if inst.allowsubmissionsfromdate:
            data["allowsubmissionsfromdate"] = str(inst.allowsubmissionsfromdate)
    elif isinstance(inst, Quiz):
        if inst.timeopen:
            data["timeopen"] = str(inst.timeopen)
        if inst.timeclose:
            data["timeclose"] = str(inst.timeclose)
    elif cm.modname == "forum":
        data["trackingtype"] = "1"
    elif isinstance(inst, Resource):
        data["display"] = "0"
    return php_json(data)


def dates(call: Call, cm: CourseModule) -> list[dict[str, Any]]:
    """The activity dates (mod_assign\\dates, mod_quiz\\dates) with labels as of now."""
    inst, now = call.sim.instance(cm), call.sim.now()
    out: list[dict[str, Any]] = []
    if isinstance(inst, Assign):
        if inst.allowsubmissionsfromdate:
            label = "Opens:" if inst.allowsubmissionsfromdate > now else "Opened:"
            out.append({"label": label, "timestamp": inst.allowsubmissionsfromdate, "dataid": "allowsubmissionsfromdate"})
        if inst.duedate:
            out.append({"label": "Due:", "timestamp": inst.duedate, "dataid": "duedate"})
    elif isinstance(inst, Quiz):
        if inst.timeopen:
            out.append({"label": "Opens:" if inst.timeopen > now else "Opened:", "timestamp": inst.timeopen,
                        "dataid": "timeopen"})
        if inst.timeclose:
            out.append({"label": "Closes:" if inst.timeclose > now else "Closed:", "timestamp": inst.timeclose,
                        "dataid": "timeclose"})
    return out


def module(call: Call, cm: CourseModule, *, excludecontents: bool = False) -> dict[str, Any]:
    """One module of core_course_get_contents."""
    sim = call.sim
    inst = sim.instance(cm)
    viewhidden = call.can(CAP_VIEW_HIDDEN_ACTIVITIES)
    _, plural, purpose = MODULE_NAMES[cm.modname]
    out: dict[str, Any] = {
        "id": cm.id, "url": call.url(f"/mod/{cm.modname}/view.php?id={cm.id}"), "name": inst.name,
        "instance": cm.instance, "contextid": cm.contextid, "visible": cm.visible,
        "uservisible": bool(cm.visible) or viewhidden,
    }
    info = avail.describe(cm.availability, call.config.timezone, group_names(call, cm.course)) if viewhidden else None
    if info:
        out["availabilityinfo"] = info
    out.update({"visibleoncoursepage": cm.visibleoncoursepage, "modicon": call.icon(cm.modname),
                "modname": cm.modname, "purpose": purpose, "branded": False, "modplural": plural})
    if viewhidden or call.can(CAP_COURSE_UPDATE):
        out["availability"] = cm.availability
    out.update({"indent": cm.indent, "onclick": "", "afterlink": None})
    if cm.modname == "forum":
        out["activitybadge"] = {}
    out.update({"customdata": customdata(call, cm), "noviewlink": False, "completion": cm.completion,
                "downloadcontent": 1, "dates": dates(call, cm), "groupmode": cm.groupmode})
    if isinstance(inst, Resource) and not excludecontents and inst.files:
        files = inst.files
        out["contents"] = [{
            "type": "file", "filename": f.filename, "filepath": f.filepath, "filesize": len(f.content),
            "fileurl": call.url(f"/webservice/pluginfile.php/{cm.contextid}/mod_resource/content/{inst.revision}"
                                f"/{f.filename}?forcedownload=1"),
            "timecreated": f.timecreated, "timemodified": f.timemodified, "sortorder": 1, "mimetype": f.mimetype,
            "isexternalfile": False, "userid": f.userid, "author": f.author, "license": f.license,
        } for f in files]
        out["contentsinfo"] = {"filescount": len(files), "filessize": sum(len(f.content) for f in files),
                               "lastmodified": max(f.timemodified for f in files),
                               "mimetypes": sorted({f.mimetype for f in files}), "repositorytype": ""}
    return out


# -- course format state (core_courseformat_update_course) ---------------------------------------------


def course_put(call: Call, courseid: int) -> dict[str, Any]:
    course = call.sim.course(courseid)
    sections = call.sim.course_sections(courseid)
    return {"name": "course", "action": "put", "fields": {
        "id": str(course.id), "numsections": len(sections) - 1, "sectionlist": [str(s.id) for s in sections],
        "editmode": False, "highlighted": "Highlighted", "maxsections": "52",
        "baseurl": call.url(f"/course/view.php?id={course.id}"), "statekey": f"{course.cacherev}_{course.cacherev}",
        "maxbytes": 2097152, "maxbytestext": "2.0\u00a0MB"}}


def section_put(call: Call, section: Section) -> dict[str, Any]:
    return {"name": "section", "action": "put", "fields": {
        "id": str(section.id), "section": section.section, "number": section.section,
        "title": call.sim.section_name(section), "hassummary": bool(section.summary), "rawtitle": section.name or None,
        "cmlist": [str(c) for c in section.sequence], "visible": bool(section.visible),
        "sectionurl": call.url(f"/course/section.php?id={section.id}"), "current": False, "indexcollapsed": False,
        "contentcollapsed": False, "hasrestrictions": bool(section.availability), "bulkeditable": section.section > 0,
        "component": section.component, "itemid": section.itemid, "parentsectionid": None}}


def cm_put(call: Call, cm: CourseModule) -> dict[str, Any]:
    section = call.sim.section(cm.section)
    return {"name": "cm", "action": "put", "fields": {
        "id": str(cm.id), "anchor": f"module-{cm.id}", "name": call.sim.instance(cm).name, "visible": bool(cm.visible),
        "stealth": bool(cm.visible and not cm.visibleoncoursepage), "sectionid": str(section.id),
        "sectionnumber": section.section, "uservisible": True, "hascmrestrictions": bool(cm.availability),
        "modname": MODULE_NAMES[cm.modname][0], "indent": cm.indent, "groupmode": cm.groupmode,
        "module": cm.modname, "plugin": f"mod_{cm.modname}", "hasdelegatedsection": False,
        "accessvisible": bool(cm.visible), "url": call.url(f"/mod/{cm.modname}/view.php?id={cm.id}"),
        "istrackeduser": False, "allowstealth": False}}


def course_state(call: Call, courseid: int) -> list[dict[str, Any]]:
    sim = call.sim
    sections = sim.course_sections(courseid)
    return ([course_put(call, courseid)] + [section_put(call, s) for s in sections]
            + [cm_put(call, cm) for cm in sim.course_modules(courseid)])


def state_json(updates: list[dict[str, Any]]) -> str:
    return php_json(updates)


def loads(text: str) -> Any:
    return json.loads(text)
