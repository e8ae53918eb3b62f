"""Course contents, course format edits (sections and module visibility), renames, rosters, groups."""

from __future__ import annotations

import json
from typing import Any

from .conftest import Site, is_error


def contents(site: Site, **options: Any) -> Any:
    opts = [{"name": k, "value": v} for k, v in options.items()]
    return site.rest("core_course_get_contents", courseid=2, options=opts)


def update(site: Site, action: str, **params: Any) -> Any:
    body = site.rest("core_courseformat_update_course", action=action, courseid=2, **params)
    return json.loads(body) if isinstance(body, str) else body


def test_contents_options(site: Site) -> None:
    assert [len(s["modules"]) for s in contents(site, excludemodules=1)] == [0, 0]
    assert [s["section"] for s in contents(site, sectionnumber=1)] == [1]
    assert [s["id"] for s in contents(site, sectionid=1)] == [1]
    assert [[m["id"] for m in s["modules"]] for s in contents(site, cmid=3)] == [[], [3]]
    assert [[m["id"] for m in s["modules"]] for s in contents(site, modname="quiz", modid=1)] == [[], [3]]
    bad = contents(site, nonsense=1)
    assert bad["errorcode"] == "errorinvalidparam" and bad["message"] == 'The param "nonsense" is invalid.'


def test_hidden_and_stealth_modules_for_staff(site: Site) -> None:
    site.sim.hide_module(2)
    site.sim.stealth_module(3)
    modules = contents(site)[1]["modules"]
    assert [(m["id"], m["visible"], m["visibleoncoursepage"], m["uservisible"]) for m in modules] == [
        (2, 0, 1, True), (3, 1, 0, True)]


def test_contents_dates_follow_the_clock(site: Site) -> None:
    site.sim.update_quiz(1, timeopen=1795303754 + 60, timeclose=1795303754 - 1)
    quiz = contents(site)[1]["modules"][1]
    assert [d["label"] for d in quiz["dates"]] == ["Opens:", "Closed:"]
    assert json.loads(quiz["customdata"]) == {"timeopen": "1795303814", "timeclose": "1795303753"}


def test_section_add_after_a_target_renumbers(site: Site) -> None:
    updates = update(site, "section_add", targetsectionid=1)
    sections = {u["fields"]["id"]: u["fields"]["number"] for u in updates if u["name"] == "section"}
    new = max(sections, key=int)
    assert sections[new] == 1 and sections["2"] == 2
    assert updates[0]["fields"]["sectionlist"] == ["1", new, "2"]


def test_cm_hide_show_stealth(site: Site) -> None:
    hidden = update(site, "cm_hide", ids=[2, 3])
    assert [(u["fields"]["id"], u["fields"]["visible"]) for u in hidden] == [("2", False), ("3", False)]
    assert site.sim.cms[2].visible == 0
    stealth = update(site, "cm_stealth", ids=[2])[0]["fields"]
    assert (stealth["visible"], stealth["stealth"]) == (True, True)
    shown = update(site, "cm_show", ids=[2])[0]["fields"]
    assert (shown["visible"], shown["stealth"], site.sim.cms[2].visibleoncoursepage) == (True, False, 1)


def test_hiding_a_section_hides_its_modules_and_showing_restores_them(site: Site) -> None:
    update(site, "cm_hide", ids=[3])
    updates = update(site, "section_hide", ids=[2])
    assert [u["name"] for u in updates] == ["section", "cm", "cm"]
    assert (site.sim.sections[2].visible, site.sim.cms[2].visible, site.sim.cms[3].visible) == (0, 0, 0)
    update(site, "section_show", ids=[2])
    assert (site.sim.sections[2].visible, site.sim.cms[2].visible, site.sim.cms[3].visible) == (1, 1, 0)


def test_cm_move_and_delete_and_section_delete(site: Site) -> None:
    new = site.sim.create_section(2, "Exams")
    update(site, "cm_move", ids=[3], targetsectionid=new.id)
    assert site.sim.sections[new.id].sequence == [3] and site.sim.sections[2].sequence == [2]
    update(site, "cm_move", ids=[2], targetcmid=3)
    assert site.sim.sections[new.id].sequence == [2, 3]
    removed = update(site, "cm_delete", ids=[2])
    assert removed[0] == {"name": "cm", "action": "remove", "fields": {"id": 2}}
    assert 1 not in site.sim.assigns
    update(site, "section_delete", ids=[new.id])
    assert new.id not in site.sim.sections and 1 not in site.sim.quizzes


def test_unknown_ids_and_actions(site: Site) -> None:
    assert is_error(update(site, "cm_hide", ids=[999]), "unexistingcmid")
    assert is_error(update(site, "section_hide", ids=[999]), "unexistingsectionid")
    body = update(site, "section_explode")
    assert body["errorcode"] == "Invalid course state action section_explode in format_topics\\courseformat\\stateactions"


def test_state_reads_write_nothing(site: Site) -> None:
    before = site.sim.courses[2].cacherev
    state = update(site, "course_state")
    assert [u["name"] for u in state].count("cm") == 3 and site.sim.courses[2].cacherev == before


def test_rename_section_and_activity_inplace(site: Site) -> None:
    body = site.rest("core_update_inplace_editable", component="format_topics", itemtype="sectionname", itemid=2,
                     value="Exam area")
    assert body["value"] == "Exam area" and site.sim.sections[2].name == "Exam area"
    body = site.rest("core_update_inplace_editable", component="format_topics", itemtype="sectionname", itemid=2,
                     value="")
    assert body["value"] == "" and body["editlabel"] == "New name for section New section"
    body = site.rest("core_update_inplace_editable", component="core_course", itemtype="activityname", itemid=3,
                     value="Exam [E1]")
    assert body["displayvalue"] == "Exam [E1]" and site.sim.quizzes[1].name == "Exam [E1]"
    body = site.rest("core_update_inplace_editable", component="format_weeks", itemtype="sectionname", itemid=2,
                     value="X")
    assert body["errorcode"] == "invalidrecordunknown"


def test_enrolled_users_options(site: Site) -> None:
    ids = [u["id"] for u in site.rest("core_enrol_get_enrolled_users", courseid=2)]
    assert ids == [4, 5, 6, 7, 8, 9]
    page = site.rest("core_enrol_get_enrolled_users", courseid=2,
                     options=[{"name": "limitfrom", "value": 2}, {"name": "limitnumber", "value": 3}])
    assert [u["id"] for u in page] == [6, 7, 8]
    students = site.rest("core_enrol_get_enrolled_users", courseid=2,
                         options=[{"name": "withcapability", "value": "mod/assign:submit"}])
    assert [u["id"] for u in students] == [5, 6, 7, 8, 9]
    site.sim.enrol(2, 9, status="suspended")
    active = site.rest("core_enrol_get_enrolled_users", courseid=2, options=[{"name": "onlyactive", "value": 1}])
    assert 9 not in [u["id"] for u in active]
    fields = site.rest("core_enrol_get_enrolled_users", courseid=2,
                       options=[{"name": "userfields", "value": "idnumber,fullname"}])
    assert fields[1] == {"id": 5, "fullname": "Student1 Learner", "idnumber": "s1"}
    desc = site.rest("core_enrol_get_enrolled_users", courseid=2, options=[{"name": "sortdirection", "value": "desc"}])
    assert desc[0]["id"] == 9
    assert is_error(site.rest("core_enrol_get_enrolled_users", courseid=2,
                              options=[{"name": "sortby", "value": "email"}]), "invalidparameter")


def test_courses_by_field_and_groups(site: Site) -> None:
    assert [c["id"] for c in site.rest("core_course_get_courses_by_field", field="id", value=2)["courses"]] == [2]
    assert site.rest("core_course_get_courses_by_field", field="shortname", value="C101")["courses"][0]["contacts"] == [
        {"id": 4, "fullname": "Terry Teacher"}]
    assert is_error(site.rest("core_course_get_courses_by_field", field="colour", value="x"), "invalidparameter")
    groups = site.rest("core_group_get_course_groups", courseid=2)
    assert [(g["id"], g["idnumber"]) for g in groups] == [(1, "G1")]


def test_new_course_has_sections_and_a_news_forum(site: Site) -> None:
    course = site.sim.create_course("Chemistry", "CHEM", idnumber="CHEM-1")
    body = site.rest("core_course_get_contents", courseid=course.id)
    assert [s["name"] for s in body] == ["General", "New section", "New section", "New section", "New section"]
    assert [m["modname"] for m in body[0]["modules"]] == ["forum"]
