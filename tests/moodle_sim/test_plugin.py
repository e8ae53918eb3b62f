"""local_lmsbridge in plugin mode (adapters/moodle/plugin/CONTRACT.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from adapters.moodle.simulator import SimulatorConfig, SimulatorServer, seed_reference_site

from .conftest import NOW, Rest, Site, is_error

QUIZ_SETTINGS = {"timeopen": 1800000000, "timeclose": 1800007200, "timelimit": 5400, "attempts": 1,
                 "quizpassword": "secret", "shuffleanswers": 0, "hideresultsuntilclose": 1}


def upsert(site: Site, **params: Any) -> Any:
    base = {"courseid": 2, "idnumber": "lmsbridge:E1", "modname": "quiz", "section": 1, "name": "Exam [E1]"}
    return site.rest("local_lmsbridge_upsert_activity", **{**base, **params})


def test_upsert_is_idempotent_by_idnumber(site: Site) -> None:
    first = upsert(site, settings=QUIZ_SETTINGS)
    assert first["created"] is True and first["warnings"] == []
    again = upsert(site, settings=QUIZ_SETTINGS)
    assert (again["cmid"], again["instance"], again["created"]) == (first["cmid"], first["instance"], False)
    assert sum(1 for cm in site.sim.cms.values() if cm.idnumber == "lmsbridge:E1") == 1
    quiz = site.sim.quizzes[first["instance"]]
    assert (quiz.timeopen, quiz.timeclose, quiz.timelimit, quiz.password, quiz.hideresultsuntilclose) == (
        1800000000, 1800007200, 5400, "secret", 1)


def test_upsert_update_leaves_absent_settings_and_moves_renames_hides(site: Site) -> None:
    made = upsert(site, settings=QUIZ_SETTINGS)
    upsert(site, name="Exam [E1] (renamed)", section=3, visible=0, settings={"timelimit": 6000})
    quiz = site.sim.quizzes[made["instance"]]
    cm = site.sim.cms[made["cmid"]]
    assert (quiz.name, quiz.timelimit, quiz.timeclose) == ("Exam [E1] (renamed)", 6000, 1800007200)
    assert site.sim.section(cm.section).section == 3 and cm.visible == 0  # section 3 was created on the way


def test_upsert_assign_and_its_errors(site: Site) -> None:
    made = upsert(site, idnumber="lmsbridge:E2", modname="assign",
                  settings={"allowsubmissionsfromdate": 1800000000, "duedate": 1800003600, "cutoffdate": 1800007200})
    assign = site.sim.assigns[made["instance"]]
    assert (assign.duedate, assign.cutoffdate) == (1800003600, 1800007200)
    site.sim.config.debug = True
    assert upsert(site, idnumber="lmsbridge:E2", modname="quiz")["debuginfo"] == "idnumber lmsbridge:E2 belongs to a assign"
    assert upsert(site, modname="forum")["debuginfo"] == "modname must be assign or quiz, not forum"
    assert upsert(site, settings={"timeopen": 1800007200, "timeclose": 1800000000})["debuginfo"] == (
        "timeclose before timeopen")
    assert upsert(site, idnumber="lmsbridge:E3", modname="assign",
                  settings={"duedate": 1800003600, "cutoffdate": 1800000000})["debuginfo"] == "cutoffdate before duedate"
    assert upsert(site, modname="assign", idnumber="lmsbridge:E4", settings={"timeopen": 1})["debuginfo"] == (
        "settings timeopen do not apply to a assign")
    assert upsert(site, courseid=999)["errorcode"] == "invalidrecord"
    assert upsert(site, idnumber="x" * 101)["debuginfo"] == "idnumber is longer than 100 characters"
    assert upsert(site, settings={"bogus": 1})["errorcode"] == "invalidparameter"


def test_get_activities_and_sections(site: Site) -> None:
    made = upsert(site, settings=QUIZ_SETTINGS)
    upsert(site, idnumber="lmsbridge:E2", modname="assign", settings={"duedate": 1800003600})
    site.sim.set_module_idnumber(2, "other:thing")
    body = site.rest("local_lmsbridge_get_activities", courseid=2)
    quiz, assign = body["activities"]
    assert quiz == {"cmid": made["cmid"], "instance": made["instance"], "modname": "quiz",
                    "idnumber": "lmsbridge:E1", "name": "Exam [E1]", "section": 1, "sectionid": 2, "visible": 1,
                    "settings": {"timelimit": 5400, "timeopen": 1800000000, "timeclose": 1800007200, "attempts": 1,
                                 "quizpassword": "secret", "shuffleanswers": 0, "hideresultsuntilclose": 1},
                    "availability": None}
    assert assign["settings"] == {"allowsubmissionsfromdate": 0, "duedate": 1800003600, "cutoffdate": 0,
                                  "timelimit": 0}
    assert [(s["section"], s["name"]) for s in body["sections"]] == [(0, ""), (1, "Week 1")]
    only = site.rest("local_lmsbridge_get_activities", courseid=2, idnumberprefix="other:")["activities"]
    assert [a["cmid"] for a in only] == [2]


def test_update_section_creates_renames_and_restricts(site: Site) -> None:
    rule = '{"op":"&","c":[{"type":"date","d":">=","t":1800000000}],"showc":[true]}'
    made = site.rest("local_lmsbridge_update_section", courseid=2, section=5, name="Exams", summary="<p>Rules</p>",
                     visible=0, availability=rule)
    assert made["created"] is True and made["section"] == 2  # appended as the next number
    again = site.rest("local_lmsbridge_update_section", courseid=2, section=2, name="Exams (May)")
    assert (again["sectionid"], again["created"]) == (made["sectionid"], False)
    section = site.sim.section(made["sectionid"])
    assert (section.name, section.summary, section.visible, section.availability) == ("Exams (May)", "", 1, None)
    bad = site.rest("local_lmsbridge_update_section", courseid=2, section=2, name="X", availability="{nope")
    assert is_error(bad, "invalidparameter")


def test_set_availability(site: Site) -> None:
    rule = '{"op":"&","c":[{"type":"date","d":">=","t":1800000000},{"type":"group","id":1}],"showc":[true,false]}'
    assert site.rest("local_lmsbridge_set_availability", cmid=3, availability=rule) == {"status": True, "warnings": []}
    contents = site.rest("core_course_get_contents", courseid=2)
    quiz = contents[1]["modules"][1]
    assert quiz["availability"] == rule and "Group A" in quiz["availabilityinfo"]
    site.sim.config.debug = True
    body = site.rest("local_lmsbridge_set_availability", cmid=3, availability='{"op":"&","c":[{"type":"moon"}],"showc":[true]}')
    assert body["debuginfo"] == "Unknown condition type: moon"
    body = site.rest("local_lmsbridge_set_availability", cmid=3, availability='{"op":"&","c":[]}')
    assert is_error(body, "invalidparameter")
    assert site.rest("local_lmsbridge_set_availability", cmid=3, availability="") == {"status": True, "warnings": []}
    assert site.sim.cms[3].availability is None
    assert site.rest("local_lmsbridge_set_availability", cmid=999, availability="")["errorcode"] == "invalidrecord"


def upload(site: Site, content: bytes, name: str = "paper.pdf", itemid: int = 0) -> Any:
    response = httpx.post(site.server.upload_url, data={"token": site.rest.token, "itemid": str(itemid)},
                          files={"file_1": (name, content, "application/pdf")})
    return response.json()


def test_upload_then_attach_paper_replaces_the_file_when_it_changes(site: Site) -> None:
    first = upload(site, b"%PDF-1 paper")
    assert first[0]["filearea"] == "draft" and first[0]["filename"] == "paper.pdf" and first[0]["filesize"] == 12
    assert upload(site, b"again", itemid=first[0]["itemid"])[0]["errortype"] == "filenameexist"
    params = {"courseid": 2, "idnumber": "lmsbridge:E1:paper", "section": 1, "name": "Paper [E1]",
              "draftitemid": first[0]["itemid"], "opensat": 1800000000}
    made = site.rest("local_lmsbridge_attach_paper", **params)
    assert made["created"] is True and len(made["contenthash"]) == 40
    same = site.rest("local_lmsbridge_attach_paper", **params)
    assert (same["cmid"], same["created"], same["contenthash"]) == (made["cmid"], False, made["contenthash"])
    second = upload(site, b"%PDF-1 corrected paper")
    changed = site.rest("local_lmsbridge_attach_paper", **{**params, "draftitemid": second[0]["itemid"]})
    assert changed["contenthash"] != made["contenthash"] and changed["cmid"] == made["cmid"]
    cm = site.sim.cms[made["cmid"]]
    assert json.loads(cm.availability or "") == {"op": "&", "c": [{"type": "date", "d": ">=", "t": 1800000000}],
                                                 "showc": [True]}
    module = next(m for s in site.rest("core_course_get_contents", courseid=2) for m in s["modules"]
                  if m["id"] == made["cmid"])
    assert module["contents"][0]["filename"] == "paper.pdf"
    url = module["contents"][0]["fileurl"].replace("?forcedownload=1", "")
    assert httpx.get(url, params={"token": site.rest.token}).content == b"%PDF-1 corrected paper"
    site.sim.config.debug = True
    empty = site.rest("local_lmsbridge_attach_paper", **{**params, "draftitemid": 12345})
    assert empty["debuginfo"] == "draft area 12345 is empty"


def test_upload_errors(site: Site) -> None:
    response = httpx.post(site.server.upload_url, data={"token": "nope"}, files={"f": ("a.txt", b"x")})
    assert response.json()["errorcode"] == "accessexception"


def test_upload_needs_the_service_flag() -> None:
    with SimulatorServer(SimulatorConfig(plugin=False, clock=lambda: NOW)) as server:
        response = httpx.post(server.upload_url, data={"token": server.token}, files={"f": ("a.txt", b"x")})
        assert response.json()["errorcode"] == "accessexception"


@pytest.fixture
def site50() -> Iterator[Site]:
    with SimulatorServer(SimulatorConfig(version="5.0", clock=lambda: NOW)) as server:
        rest = Rest(server)
        yield Site(server, rest, seed_reference_site(server.sim))
        rest.close()


def test_plugin_assign_overrides_follow_the_quiz_rules(site50: Site) -> None:
    rest = site50.rest

    def save(*overrides: dict[str, Any]) -> Any:
        return rest("local_lmsbridge_save_assign_overrides", data={"assignid": 1, "overrides": list(overrides)})

    oid = save({"userid": 5, "duedate": 1795912103, "cutoffdate": 1796516903})["ids"][0]
    rest.server.sim.config.debug = True
    assert save({"userid": 5, "duedate": 1795915703})["debuginfo"] == (
        "Multiple overrides cannot be made for the same user/group.")
    assert save({"userid": 6, "duedate": 1795908503})["debuginfo"] == (
        "You must override at least one of the assignment settings.")  # equal to the assignment's own
    assert save({"userid": 6, "duedate": 1795912103, "cutoffdate": 1795910000})["debuginfo"] == (
        "Cut-off date cannot be earlier than the due date.")
    save({"id": oid, "userid": 5, "timelimit": 600})  # an update replaces the whole override
    gid = save({"groupid": 1, "duedate": 1795912103})["ids"][0]
    got = rest("local_lmsbridge_get_assign_overrides", assignid=1)["overrides"]
    assert got == [{"id": oid, "assignid": 1, "userid": 5, "groupid": None, "sortorder": None,
                    "allowsubmissionsfromdate": None, "duedate": None, "cutoffdate": None, "timelimit": 600},
                   {"id": gid, "assignid": 1, "userid": None, "groupid": 1, "sortorder": 1,
                    "allowsubmissionsfromdate": None, "duedate": 1795912103, "cutoffdate": None, "timelimit": None}]
    assert rest("local_lmsbridge_delete_assign_overrides", data={"assignid": 1, "ids": [999]})["errorcode"] == (
        "invalidparameter")
    assert rest("local_lmsbridge_delete_assign_overrides", data={"assignid": 1, "ids": [oid]}) == {"ids": [oid]}
