"""Core course functions: contents, enrolled users, courses by field, groups, course format edits."""

from __future__ import annotations

from typing import Any

from . import availability as avail
from . import render
from .config import (
    CAP_ACTIVITY_VISIBILITY,
    CAP_COURSE_UPDATE,
    CAP_ENROL_REVIEW,
    CAP_MANAGE_ACTIVITIES,
    CAP_MANAGE_GROUPS,
    CAP_SECTION_VISIBILITY,
    CAP_VIEW_ALL_DETAILS,
    CAP_VIEW_HIDDEN_ACTIVITIES,
    CAP_VIEW_HIDDEN_SECTIONS,
    CAP_VIEW_USER_IDENTITY,
)
from .context import Call
from .errors import MoodleError, invalid_parameter, missing_record, moodle_exception
from .records import ROLE_IDS, CourseModule, Section
from .registry import ExternalFunction, register
from .schema import (
    ALPHA,
    ALPHANUMEXT,
    BOOL,
    COMPONENT,
    DEFAULT,
    INT,
    NOTAGS,
    OPTIONAL,
    PLUGIN,
    RAW,
    TEXT,
    URL,
    Multiple,
    Single,
    clean_scalar,
    dflt,
    opt,
    req,
    warnings_desc,
)

OPTIONS = Multiple(Single({"name": req(ALPHANUMEXT), "value": req(RAW)}), DEFAULT, [])

# -- core_course_get_contents ------------------------------------------------------------------------

CONTENT = Single({
    "type": req(TEXT), "filename": req(TEXT), "filepath": req(TEXT), "filesize": req(INT), "fileurl": opt(URL),
    "content": opt(RAW), "timecreated": req(INT), "timemodified": req(INT), "sortorder": req(INT),
    "mimetype": opt(RAW), "isexternalfile": opt(BOOL), "repositorytype": opt(PLUGIN), "userid": req(INT),
    "author": req(TEXT), "license": req(TEXT),
    "tags": Multiple(Single({"id": req(INT), "name": req(TEXT), "rawname": req(RAW)}), OPTIONAL),
})
MODULE = Single({
    "id": req(INT), "url": opt(URL), "name": req(RAW), "instance": opt(INT), "contextid": opt(INT),
    "description": opt(RAW), "visible": opt(INT), "uservisible": opt(BOOL), "availabilityinfo": opt(RAW),
    "visibleoncoursepage": opt(INT), "modicon": req(URL), "modname": req(PLUGIN), "purpose": req(ALPHA),
    "branded": opt(BOOL), "modplural": req(TEXT), "availability": opt(RAW), "indent": req(INT),
    "onclick": opt(RAW), "afterlink": opt(RAW),
    "activitybadge": Single({"badgecontent": opt(TEXT), "badgestyle": opt(TEXT), "badgeurl": opt(URL),
                             "badgeelementid": opt(ALPHANUMEXT),
                             "badgeextraattributes": Multiple(Single({"name": req(TEXT), "value": req(TEXT)}),
                                                              OPTIONAL)}, OPTIONAL),
    "customdata": opt(RAW), "noviewlink": opt(BOOL), "completion": opt(INT),
    "completiondata": Single({
        "state": opt(INT), "timecompleted": opt(INT), "overrideby": opt(INT), "valueused": opt(BOOL),
        "hascompletion": opt(BOOL), "isautomatic": opt(BOOL), "istrackeduser": opt(BOOL), "uservisible": opt(BOOL),
        "details": Multiple(Single({"rulename": req(TEXT),
                                    "rulevalue": Single({"status": req(INT), "description": req(TEXT)})}), OPTIONAL),
        "isoverallcomplete": opt(BOOL)}, OPTIONAL),
    "downloadcontent": opt(INT),
    "dates": Multiple(Single({"label": req(TEXT), "timestamp": req(INT), "relativeto": opt(INT),
                              "dataid": opt(NOTAGS)}), OPTIONAL),
    "groupmode": opt(INT),
    "contents": Multiple(CONTENT, OPTIONAL),
    "contentsinfo": Single({"filescount": req(INT), "filessize": req(INT), "lastmodified": req(INT),
                            "mimetypes": Multiple(req(RAW)), "repositorytype": opt(PLUGIN)}, OPTIONAL),
})
CONTENTS_RETURNS = Multiple(Single({
    "id": req(INT), "name": req(RAW), "visible": opt(INT), "summary": req(RAW), "summaryformat": req(INT),
    "section": opt(INT), "hiddenbynumsections": opt(INT), "uservisible": opt(BOOL), "availabilityinfo": opt(RAW),
    "component": opt(PLUGIN), "itemid": opt(INT), "modules": Multiple(MODULE),
}))


def _content_filters(options: list[dict[str, Any]]) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    for option in options:
        name = option["name"].strip()
        if name in filters:
            continue
        value = option["value"] if isinstance(option["value"], str) else str(option["value"])
        if name in ("excludemodules", "excludecontents", "includestealthmodules"):
            filters[name] = bool(clean_scalar(value, BOOL))
        elif name in ("sectionid", "sectionnumber", "cmid", "modid"):
            filters[name] = clean_scalar(value, INT)
        elif name == "modname" and clean_scalar(value, PLUGIN):
            filters[name] = value
        else:
            raise moodle_exception("errorinvalidparam", f'The param "{name}" is invalid.')
    return filters


def get_contents(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    sim = call.sim
    with sim.lock:
        course = sim.course(params["courseid"])
        call.validate_course(course)
        filters = _content_filters(params["options"])
        viewhidden = call.can(CAP_VIEW_HIDDEN_ACTIVITIES)
        groups = render.group_names(call, course.id)
        out = []
        for section in sim.course_sections(course.id):
            found = False
            if filters.get("sectionid"):
                if section.id != filters["sectionid"]:
                    continue
                found = True
            if "sectionnumber" in filters:
                if section.section != filters["sectionnumber"]:
                    continue
                found = True
            uservisible = bool(section.visible) or call.can(CAP_VIEW_HIDDEN_SECTIONS)
            values: dict[str, Any] = {
                "id": section.id, "name": sim.section_name(section), "visible": section.visible,
                "summary": section.summary, "summaryformat": section.summaryformat, "section": section.section,
                "hiddenbynumsections": 0, "uservisible": uservisible,
            }
            info = avail.describe(section.availability, call.config.timezone, groups)
            if info:
                values["availabilityinfo"] = info
            values.update({"component": section.component, "itemid": section.itemid, "modules": []})
            if uservisible and not filters.get("excludemodules"):
                for cmid in section.sequence:
                    cm = sim.cms[cmid]
                    if not (cm.visible or viewhidden):
                        continue
                    if not cm.visibleoncoursepage and not viewhidden and not filters.get("includestealthmodules"):
                        continue
                    modfound = False
                    if filters.get("cmid"):
                        if cm.id != filters["cmid"]:
                            continue
                        modfound = True
                    if filters.get("modname"):
                        if cm.modname != filters["modname"]:
                            continue
                        if filters.get("modid"):
                            if cm.instance != filters["modid"]:
                                continue
                            modfound = True
                    values["modules"].append(render.module(call, cm, excludecontents=bool(filters.get("excludecontents"))))
                    if modfound:
                        break
            out.append(values)
            if found:
                break
        return out


register(ExternalFunction("core_course_get_contents", "moodle", "read",
                          Single({"courseid": req(INT), "options": OPTIONS}), CONTENTS_RETURNS, get_contents))

# -- core_enrol_get_enrolled_users -------------------------------------------------------------------

USER = Single({
    "id": req(INT), "username": opt(RAW), "firstname": opt(TEXT), "lastname": opt(TEXT), "fullname": req(TEXT),
    "email": opt(TEXT), "address": opt(TEXT), "phone1": opt(NOTAGS), "phone2": opt(NOTAGS), "department": opt(TEXT),
    "institution": opt(TEXT), "idnumber": opt(RAW), "interests": opt(TEXT), "firstaccess": opt(INT),
    "lastaccess": opt(INT), "lastcourseaccess": opt(INT), "description": opt(RAW), "descriptionformat": opt(INT),
    "city": opt(NOTAGS), "country": opt(ALPHA), "profileimageurlsmall": opt(URL), "profileimageurl": opt(URL),
    "customfields": Multiple(Single({"type": req(ALPHANUMEXT), "value": req(RAW), "name": req(RAW),
                                     "shortname": req(RAW)}), OPTIONAL),
    "groups": Multiple(Single({"id": req(INT), "name": req(RAW), "description": req(RAW),
                               "descriptionformat": req(INT)}), OPTIONAL),
    "roles": Multiple(Single({"roleid": req(INT), "name": req(RAW), "shortname": req(ALPHA),
                              "sortorder": req(INT)}), OPTIONAL),
    "preferences": Multiple(Single({"name": req(RAW), "value": req(RAW)}), OPTIONAL),
    "enrolledcourses": Multiple(Single({"id": req(INT), "fullname": req(RAW), "shortname": req(RAW)}), OPTIONAL),
})
_STUDENT_CAPS = ("mod/assign:submit", "mod/quiz:attempt", "moodle/course:isincompletionreports")


def _user_details(call: Call, courseid: int, userid: int, fields: list[str] | None) -> dict[str, Any]:
    sim, rev = call.sim, call.config.theme_rev
    user = sim.users[userid]
    enrolment = sim.enrolment(courseid, userid)
    alldetails = call.can(CAP_VIEW_ALL_DETAILS)
    show_idnumber = alldetails or ("idnumber" in call.config.identity_fields and call.can(CAP_VIEW_USER_IDENTITY))
    out: dict[str, Any] = {"id": user.id}
    if alldetails:
        out["username"] = user.username
    out.update({"firstname": user.firstname, "lastname": user.lastname, "fullname": user.fullname,
                "email": user.email})
    if alldetails:
        out["department"] = user.department
    if show_idnumber and (alldetails or user.idnumber):
        out["idnumber"] = user.idnumber
    out.update({"firstaccess": user.firstaccess, "lastaccess": user.lastaccess,
                "lastcourseaccess": enrolment.lastcourseaccess if enrolment else 0,
                "profileimageurlsmall": f"{call.wwwroot}/theme/image.php/boost/core/{rev}/u/f2",
                "profileimageurl": f"{call.wwwroot}/theme/image.php/boost/core/{rev}/u/f1"})
    groups = sim.user_groups(courseid, userid)
    if groups:
        out["groups"] = [{"id": g.id, "name": g.name, "description": g.description,
                          "descriptionformat": g.descriptionformat} for g in groups]
    if enrolment:
        out["roles"] = [{"roleid": ROLE_IDS.get(enrolment.role, 5), "name": "", "shortname": enrolment.role,
                         "sortorder": 0}]
    courses = [sim.courses[e.course] for e in sim.user_enrolments(userid) if e.course in sim.courses]
    out["enrolledcourses"] = [{"id": c.id, "fullname": c.fullname, "shortname": c.shortname}
                              for c in sorted(courses, key=lambda c: c.id)]
    if fields is not None:
        out = {k: v for k, v in out.items() if k == "id" or k in fields}
    return out


def get_enrolled_users(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    sim = call.sim
    withcapability, groupid, onlyactive, onlysuspended = "", 0, False, False
    fields: list[str] | None = None
    limitfrom = limitnumber = 0
    sortby, direction = "id", "ASC"
    for option in params["options"]:
        name, value = option["name"], str(option["value"])
        if name == "withcapability":
            withcapability = value
        elif name == "groupid":
            groupid = clean_scalar(value, INT)
        elif name == "onlyactive":
            onlyactive = value not in ("", "0")
        elif name == "onlysuspended":
            onlysuspended = value not in ("", "0")
        elif name == "userfields":
            fields = [clean_scalar(f, ALPHANUMEXT) for f in value.split(",")]
        elif name == "limitfrom":
            limitfrom = clean_scalar(value, INT)
        elif name == "limitnumber":
            limitnumber = clean_scalar(value, INT)
        elif name == "sortby":
            if value not in ("id", "firstname", "lastname", "siteorder"):
                raise invalid_parameter(f"Invalid value for sortby parameter (value: {value}), allowed values are: "
                                        "id,firstname,lastname,siteorder")
            sortby = value
        elif name == "sortdirection":
            direction = value.upper()
            if direction not in ("ASC", "DESC"):
                raise invalid_parameter(f"Invalid value for sortdirection parameter (value: {direction}),"
                                        "allowed values are: ASC,DESC")
    with sim.lock:
        course = sim.course(params["courseid"])
        try:
            call.validate_course(course)
        except MoodleError as error:
            raise moodle_exception("errorcoursecontextnotvalid",
                                   f"You cannot execute functions in the course context (course id:{course.id}). "
                                   f"The context error message was: {error.message}") from None
        if onlyactive or onlysuspended:
            call.require(CAP_ENROL_REVIEW)
        enrolments = sim.course_enrolments(course.id)
        if withcapability:
            wanted = ("student",) if withcapability in _STUDENT_CAPS else ("editingteacher", "manager")
            enrolments = [e for e in enrolments if e.role in wanted]
        if groupid:
            group = sim.group(groupid)
            members = set(group.members) if group and group.courseid == course.id else set()
            enrolments = [e for e in enrolments if e.userid in members]
        if onlyactive:
            enrolments = [e for e in enrolments if e.status == "active"]
        if onlysuspended:
            enrolments = [e for e in enrolments if e.status != "active"]
        users = [sim.users[e.userid] for e in enrolments if not sim.users[e.userid].deleted]
        key = {"id": lambda u: u.id, "siteorder": lambda u: u.id, "firstname": lambda u: (u.firstname, u.id),
               "lastname": lambda u: (u.lastname, u.id)}[sortby]
        users.sort(key=key, reverse=direction == "DESC")
        if limitfrom or limitnumber:
            users = users[limitfrom:limitfrom + limitnumber if limitnumber else None]
        return [_user_details(call, course.id, u.id, fields) for u in users]


register(ExternalFunction("core_enrol_get_enrolled_users", "moodle", "read",
                          Single({"courseid": req(INT), "options": OPTIONS}), Multiple(USER), get_enrolled_users))

# -- core_course_get_courses_by_field ------------------------------------------------------------------

FILTERS = (("displayh5p", 0, 1), ("activitynames", 0, 1), ("mathjaxloader", 0, 1), ("emoticon", 0, 1),
           ("urltolink", 0, 1), ("mediaplugin", 0, 1))
COURSE = Single({
    "id": req(INT), "fullname": req(RAW), "displayname": req(RAW), "shortname": req(RAW), "courseimage": opt(URL),
    "categoryid": req(INT), "categoryname": req(RAW), "sortorder": opt(INT), "summary": req(RAW),
    "summaryformat": req(INT), "summaryfiles": Multiple(Single({"filename": opt(TEXT)}), OPTIONAL),
    "overviewfiles": Multiple(Single({"filename": opt(TEXT)})), "showactivitydates": req(BOOL),
    "showcompletionconditions": req(BOOL),
    "contacts": Multiple(Single({"id": req(INT), "fullname": req(RAW)})),
    "enrollmentmethods": Multiple(req(PLUGIN)),
    "customfields": Multiple(Single({"name": req(RAW), "shortname": req(RAW), "type": req(ALPHANUMEXT),
                                     "valueraw": req(RAW), "value": req(RAW)}), OPTIONAL),
    "idnumber": opt(RAW), "format": opt(PLUGIN), "showgrades": opt(INT), "newsitems": opt(INT),
    "startdate": opt(INT), "enddate": opt(INT), "maxbytes": opt(INT), "showreports": opt(INT), "visible": opt(INT),
    "groupmode": opt(INT), "groupmodeforce": opt(INT), "defaultgroupingid": opt(INT), "enablecompletion": opt(INT),
    "completionnotify": opt(INT), "lang": opt("safedir"), "theme": opt(PLUGIN), "marker": opt(INT),
    "legacyfiles": opt(INT), "calendartype": opt(PLUGIN), "timecreated": opt(INT), "timemodified": opt(INT),
    "requested": opt(INT), "cacherev": opt(INT),
    "filters": Multiple(Single({"filter": req(PLUGIN), "localstate": req(INT), "inheritedstate": req(INT)}), OPTIONAL),
    "courseformatoptions": Multiple(Single({"name": req(ALPHANUMEXT), "value": req(RAW)}), OPTIONAL),
})


def _course(call: Call, courseid: int) -> dict[str, Any]:
    sim = call.sim
    c = sim.courses[courseid]
    teachers = [sim.users[e.userid] for e in sim.course_enrolments(courseid) if e.role == "editingteacher"]
    return {
        "id": c.id, "fullname": c.fullname, "displayname": c.fullname, "shortname": c.shortname,
        "courseimage": call.url(f"/pluginfile.php/{c.contextid}/course/generated/course.svg"),
        "categoryid": c.category, "categoryname": f"Category {c.category}", "sortorder": c.sortorder,
        "summary": c.summary, "summaryformat": c.summaryformat, "summaryfiles": [], "overviewfiles": [],
        "showactivitydates": False, "showcompletionconditions": True,
        "contacts": [{"id": u.id, "fullname": u.fullname} for u in teachers], "enrollmentmethods": ["manual"],
        "idnumber": c.idnumber, "format": c.format, "showgrades": 1, "newsitems": 1, "startdate": c.startdate,
        "enddate": c.enddate, "maxbytes": 0, "showreports": 0, "visible": c.visible, "groupmode": c.groupmode,
        "groupmodeforce": 0, "defaultgroupingid": 0, "enablecompletion": 0, "completionnotify": 0, "lang": c.lang,
        "theme": "", "marker": c.marker, "legacyfiles": 0, "calendartype": "", "timecreated": c.timecreated,
        "timemodified": c.timemodified, "requested": 0, "cacherev": c.cacherev,
        "filters": [{"filter": f, "localstate": ls, "inheritedstate": inh} for f, ls, inh in FILTERS],
        "courseformatoptions": [{"name": "hiddensections", "value": 1}, {"name": "coursedisplay", "value": 0},
                                {"name": "indentation", "value": "1"}],
    }


def get_courses_by_field(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    sim = call.sim
    field, value = params["field"], params["value"]
    with sim.lock:
        courses = sorted(sim.courses.values(), key=lambda c: c.id)
        if field in ("id", "category"):
            number = clean_scalar(str(value), INT)
            courses = [c for c in courses if (c.id if field == "id" else c.category) == number]
        elif field == "ids":
            wanted = {int(p) for p in str(value).split(",") if p.strip().isdigit()}
            courses = [c for c in courses if c.id in wanted]
        elif field == "shortname":
            courses = [c for c in courses if c.shortname == clean_scalar(str(value), TEXT)]
        elif field == "idnumber":
            courses = [c for c in courses if c.idnumber == value]
        elif field == "sectionid":
            section = sim.sections.get(clean_scalar(str(value), INT))
            courses = [c for c in courses if section is not None and c.id == section.course]
        elif field:
            raise invalid_parameter("Invalid field name")
        visible = [c for c in courses if call.enrolled(c.id) or call.can("moodle/course:view")]
        return {"courses": [_course(call, c.id) for c in visible], "warnings": []}


register(ExternalFunction("core_course_get_courses_by_field", "moodle", "read",
                          Single({"field": dflt(ALPHA, ""), "value": dflt(RAW, "")}),
                          Single({"courses": Multiple(COURSE), "warnings": warnings_desc()}), get_courses_by_field))

# -- core_group_get_course_groups ----------------------------------------------------------------------


def get_course_groups(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    sim = call.sim
    with sim.lock:
        course = sim.course(params["courseid"])
        call.validate_course(course)
        call.require(CAP_MANAGE_GROUPS)
        return [{"id": g.id, "courseid": g.courseid, "name": g.name, "description": g.description,
                 "descriptionformat": g.descriptionformat, "enrolmentkey": g.enrolmentkey, "idnumber": g.idnumber,
                 "visibility": g.visibility, "participation": g.participation} for g in sim.course_groups(course.id)]


register(ExternalFunction(
    "core_group_get_course_groups", "moodle", "read", Single({"courseid": req(INT)}),
    Multiple(Single({"id": req(INT), "courseid": req(INT), "name": req(TEXT), "description": req(RAW),
                     "descriptionformat": req(INT), "enrolmentkey": req(RAW), "idnumber": req(RAW),
                     "visibility": req(INT), "participation": req(BOOL)})),
    get_course_groups))

# -- core_courseformat_update_course -------------------------------------------------------------------

_ACTIONS = ("section_add", "section_delete", "section_hide", "section_show", "section_move_after", "cm_hide",
            "cm_show", "cm_stealth", "cm_delete", "cm_move", "course_state", "section_state", "cm_state")


def _sections(call: Call, courseid: int, ids: list[int]) -> list[Section]:
    out = []
    for sid in ids:
        section = call.sim.sections.get(sid)
        if section is None or section.course != courseid:
            raise moodle_exception("unexistingsectionid", f"error/unexistingsectionid ({sid})")
        out.append(section)
    return out


def _cms(call: Call, courseid: int, ids: list[int]) -> list[CourseModule]:
    out = []
    for cmid in ids:
        cm = call.sim.cms.get(cmid)
        if cm is None or cm.course != courseid:
            raise moodle_exception("unexistingcmid", f"error/unexistingcmid ({cmid})")
        out.append(cm)
    return out


def update_course(call: Call, params: dict[str, Any]) -> str:
    sim = call.sim
    action, ids = params["action"], params["ids"]
    with sim.lock:
        course = sim.course(params["courseid"])
        call.validate_course(course)
        if action not in _ACTIONS:
            text = f"Invalid course state action {action} in format_{course.format}\\courseformat\\stateactions"
            raise moodle_exception(text, f"error/{text}")
        updates: list[dict[str, Any]] = []
        if action == "section_add":
            call.require(CAP_COURSE_UPDATE)
            target = sim.sections.get(params.get("targetsectionid") or 0)
            sim.add_section_after(course.id, target if target and target.course == course.id else None)
            updates = render.course_state(call, course.id)
        elif action == "section_delete":
            call.require(CAP_COURSE_UPDATE)
            for section in _sections(call, course.id, ids):
                if section.section == 0:
                    continue
                updates += [{"name": "cm", "action": "remove", "fields": {"id": c}} for c in section.sequence]
                sim.delete_section(section.id)
                updates.append({"name": "section", "action": "remove", "fields": {"id": section.id}})
            updates += render.course_state(call, course.id)
        elif action in ("section_hide", "section_show"):
            call.require(CAP_COURSE_UPDATE)
            call.require(CAP_SECTION_VISIBILITY)
            sections = _sections(call, course.id, ids)
            for section in sections:
                if section.section:
                    sim.set_section_visible(section.id, action == "section_show")
            updates = [render.section_put(call, s) for s in sections]
            updates += [render.cm_put(call, sim.cms[c]) for s in sections for c in s.sequence]
        elif action == "section_move_after":
            call.require(CAP_COURSE_UPDATE)
            sections = _sections(call, course.id, ids)
            target = _sections(call, course.id, [params.get("targetsectionid") or 0])[0]
            for section in sections:
                _move_section_after(sim, section, target)
                target = section
            updates = render.course_state(call, course.id)
        elif action in ("cm_hide", "cm_show", "cm_stealth"):
            call.require(CAP_ACTIVITY_VISIBILITY)
            cms = _cms(call, course.id, ids)
            for cm in cms:
                cm.visible = 0 if action == "cm_hide" else 1
                cm.visibleoncoursepage = 0 if action == "cm_stealth" else 1
                cm.visibleold = cm.visible
            sim.touch(course)
            updates = [render.cm_put(call, cm) for cm in cms]
        elif action == "cm_delete":
            call.require(CAP_MANAGE_ACTIVITIES)
            cms = _cms(call, course.id, ids)
            touched = {cm.section for cm in cms}
            for cm in cms:
                sim.delete_module(cm.id)
                updates.append({"name": "cm", "action": "remove", "fields": {"id": cm.id}})
            updates += [render.section_put(call, sim.sections[s]) for s in sorted(touched) if s in sim.sections]
        elif action == "cm_move":
            call.require(CAP_MANAGE_ACTIVITIES)
            cms = _cms(call, course.id, ids)
            before = params.get("targetcmid")
            if before:
                target_section = sim.section(_cms(call, course.id, [before])[0].section)
            else:
                target_section = _sections(call, course.id, [params.get("targetsectionid") or 0])[0]
            touched = {cm.section for cm in cms} | {target_section.id}
            for cm in cms:
                sim.move_module(cm.id, target_section.section, before)
            updates = [render.section_put(call, sim.sections[s]) for s in sorted(touched)]
            updates += [render.cm_put(call, cm) for cm in cms]
        elif action == "course_state":
            updates = render.course_state(call, course.id)
        elif action == "section_state":
            sections = _sections(call, course.id, ids)
            updates = [render.section_put(call, s) for s in sections]
            updates += [render.cm_put(call, sim.cms[c]) for s in sections for c in s.sequence]
        else:  # cm_state
            updates = [render.cm_put(call, cm) for cm in _cms(call, course.id, ids)]
        return render.state_json(updates)


def _move_section_after(sim: Any, section: Section, target: Section) -> None:
    if section.id == target.id or section.section == 0:
        return
    ordered = [s for s in sim.course_sections(section.course) if s.id != section.id]
    index = next(i for i, s in enumerate(ordered) if s.id == target.id)
    ordered.insert(index + 1, section)
    for number, s in enumerate(ordered):
        s.section = number
    sim.touch(sim.course(section.course))


register(ExternalFunction(
    "core_courseformat_update_course", "moodle", "write",
    Single({"action": req(ALPHANUMEXT), "courseid": req(INT), "ids": Multiple(req(INT), DEFAULT, []),
            "targetsectionid": dflt(INT, None), "targetcmid": dflt(INT, None)}),
    req(RAW), update_course))

# -- core_update_inplace_editable ----------------------------------------------------------------------

INPLACE = Single({
    "displayvalue": req(RAW), "component": req(COMPONENT), "itemtype": req(TEXT), "value": req(RAW),
    "itemid": req(RAW), "edithint": req(RAW), "editlabel": req(RAW),
    "editicon": Single({"key": req(RAW), "component": req(COMPONENT), "title": req(RAW)}), "type": req(ALPHA),
    "options": req(RAW), "linkeverything": req(INT),
})


def update_inplace_editable(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    sim = call.sim
    component, itemtype, itemid, value = params["component"], params["itemtype"], params["itemid"], params["value"]
    with sim.lock:
        if component.startswith("format_") and itemtype in ("sectionname", "sectionnamenl"):
            section = sim.sections.get(clean_scalar(str(itemid), INT))
            if section is None or f"format_{sim.course(section.course).format}" != component:
                raise MoodleError("dml_missing_record_exception", "invalidrecordunknown",
                                  "Can't find data record in database.")
            course = sim.course(section.course)
            call.validate_course(course)
            call.require(CAP_COURSE_UPDATE)
            title = clean_scalar(value, TEXT)
            if (section.name or "") != title:
                section.name = title or None
                sim.touch(course)
            shown = sim.section_name(section)
            display = (f'<a href="{call.url(f"/course/section.php?id={section.id}")}">{shown}</a>'
                       if itemtype == "sectionname" else shown)
            return _inplace(display, component, itemtype, section.name or "", str(section.id), "Edit section name",
                            f"New name for section {shown}")
        if component == "core_course" and itemtype == "activityname":
            cm = sim.cms.get(clean_scalar(str(itemid), INT))
            if cm is None:
                raise missing_record("course_modules")
            call.validate_course(sim.course(cm.course))
            call.require(CAP_MANAGE_ACTIVITIES)
            title = clean_scalar(value, TEXT)
            inst = sim.instance(cm)
            if title:
                inst.name = title
                sim.touch(sim.course(cm.course))
            return _inplace(inst.name, component, itemtype, inst.name, str(cm.id), "Edit title",
                            f"New name for activity {inst.name}")
        raise moodle_exception("inplaceeditableerror", "Could not update the value: no such editable item")


def _inplace(display: str, component: str, itemtype: str, value: str, itemid: str, hint: str,
             label: str) -> dict[str, Any]:
    return {"displayvalue": display, "component": component, "itemtype": itemtype, "value": value, "itemid": itemid,
            "edithint": hint, "editlabel": label,
            "editicon": {"key": "t/editstring", "component": "moodle", "title": hint}, "type": "text", "options": "",
            "linkeverything": 0}


register(ExternalFunction(
    "core_update_inplace_editable", "moodle", "write",
    Single({"component": req(COMPONENT), "itemtype": req(NOTAGS), "itemid": req(RAW), "value": req(RAW)}),
    INPLACE, update_inplace_editable))

# -- core_course_get_course_module (not in lms_bridge's service unless added) ------------------------


def get_course_module(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    sim = call.sim
    with sim.lock:
        cm = sim.cm(params["cmid"])
        call.validate_course(sim.course(cm.course))
        if not cm.visible and not call.can(CAP_VIEW_HIDDEN_ACTIVITIES):
            raise moodle_exception("requireloginerror", "Course or activity not accessible. (Activity is hidden)")
        section = sim.section(cm.section)
        info: dict[str, Any] = {
            "id": cm.id, "course": cm.course, "module": render.MODULE_TYPE_IDS[cm.modname],
            "name": sim.instance(cm).name, "modname": cm.modname, "instance": cm.instance, "section": section.id,
            "sectionnum": section.section, "groupmode": cm.groupmode, "groupingid": cm.groupingid,
            "completion": cm.completion,
        }
        if call.can(CAP_MANAGE_ACTIVITIES):
            info.update({"idnumber": cm.idnumber, "added": cm.added, "score": 0, "indent": cm.indent,
                         "visible": cm.visible, "visibleoncoursepage": cm.visibleoncoursepage,
                         "visibleold": cm.visibleold, "completiongradeitemnumber": None, "completionview": 0,
                         "completionexpected": 0, "showdescription": 0, "downloadcontent": 1,
                         "availability": cm.availability})
        return {"cm": info, "warnings": []}


register(ExternalFunction(
    "core_course_get_course_module", "moodle", "read", Single({"cmid": req(INT)}),
    Single({"cm": Single({
        "id": req(INT), "course": req(INT), "module": req(INT), "name": req(RAW), "modname": req(COMPONENT),
        "instance": req(INT), "section": req(INT), "sectionnum": req(INT), "groupmode": req(INT),
        "groupingid": req(INT), "completion": req(INT), "idnumber": opt(RAW), "added": opt(INT), "score": opt(INT),
        "indent": opt(INT), "visible": opt(INT), "visibleoncoursepage": opt(INT), "visibleold": opt(INT),
        "completiongradeitemnumber": opt(INT), "completionview": opt(INT), "completionexpected": opt(INT),
        "showdescription": opt(INT), "downloadcontent": opt(INT), "availability": opt(RAW)}),
        "warnings": warnings_desc()}),
    get_course_module, in_service=False))
