"""Assignments: reading them, extensions and user flags (fixtures 07–17), and overrides (5.3 core)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.moodle.simulator import SimulatorConfig, SimulatorServer, seed_reference_site

from .conftest import NOW, Rest, Site, is_error

DUE = 1795908503


def extend(site: Site, userids: list[int], dates: list[int]) -> Any:
    return site.rest("mod_assign_save_user_extensions", assignmentid=1, userids=userids, dates=dates)


def test_get_assignments_needs_includenotenrolledcourses_for_the_service_user(site: Site) -> None:
    body = site.rest("mod_assign_get_assignments", courseids=[2])
    assert body["courses"] == [] and body["warnings"][0]["warningcode"] == "2"
    body = site.rest("mod_assign_get_assignments", courseids=[2], includenotenrolledcourses=1)
    assert [a["cmid"] for a in body["courses"][0]["assignments"]] == [2]
    site.sim.enrol(2, 3, "manager")  # once the service user is enrolled it sees the course either way
    assert site.rest("mod_assign_get_assignments", courseids=[2])["courses"][0]["id"] == 2


def test_extension_success_and_read_back(site: Site) -> None:
    assert extend(site, [5, 7], [DUE + 172800, DUE]) == []  # on the due date itself is allowed
    flags = site.rest("mod_assign_get_user_flags", assignmentids=[1])["assignments"][0]["userflags"]
    assert [(f["userid"], f["extensionduedate"], f["mailed"]) for f in flags] == [(5, DUE + 172800, 2), (7, DUE, 2)]


def test_extension_before_the_due_date_or_for_non_students_is_a_warning(site: Site) -> None:
    body = extend(site, [6, 10, 4, 5], [DUE - 3600, DUE + 60, DUE + 60, DUE + 60])
    assert [w["item"] for w in body] == [f"User id: 6, Assignment id: 1, Extension date: {DUE - 3600}",
                                         f"User id: 10, Assignment id: 1, Extension date: {DUE + 60}",
                                         f"User id: 4, Assignment id: 1, Extension date: {DUE + 60}"]
    assert {w["warningcode"] for w in body} == {"couldnotgrantextensions"}
    assert [f.userid for f in site.sim.user_flags(1)] == [5]  # the good one in the same batch was saved


def test_extension_before_allow_submissions_from(site: Site) -> None:
    site.sim.update_assign(1, duedate=0)
    assert extend(site, [5], [1795217303 - 1])[0]["warningcode"] == "couldnotgrantextensions"


def test_date_zero_clears_an_extension(site: Site) -> None:
    extend(site, [5], [DUE + 60])
    assert extend(site, [5], [0]) == []
    assert site.sim.user_flag(1, 5).extensionduedate == 0  # type: ignore[union-attr]


def test_mismatched_lengths_is_a_warning_even_for_an_unknown_assignment(site: Site) -> None:
    body = site.rest("mod_assign_save_user_extensions", assignmentid=999, userids=[5, 6], dates=[DUE])
    assert body == [{"item": "Length of userids and dates parameters differ.", "itemid": 999,
                     "warningcode": "invalidparameters", "message": "Invalid parameters."}]
    body = site.rest("mod_assign_save_user_extensions", assignmentid=999, userids=[5], dates=[DUE])
    assert body["message"] == "Can't find data record in database table assign."


def test_user_flags_warning_when_none(site: Site) -> None:
    body = site.rest("mod_assign_get_user_flags", assignmentids=[1])
    assert body == {"assignments": [], "warnings": [{"item": "assignment", "itemid": 1, "warningcode": "3",
                                                     "message": "No user flags found"}]}


# -- overrides, core 5.3 --------------------------------------------------------------------------------


@pytest.fixture
def site53() -> Iterator[Site]:
    with SimulatorServer(SimulatorConfig(version="5.3", clock=lambda: NOW)) as server:
        rest = Rest(server)
        yield Site(server, rest, seed_reference_site(server.sim))
        rest.close()


def save53(site: Site, *overrides: dict[str, Any]) -> Any:
    return site.rest("mod_assign_save_overrides", data={"assignid": 1, "overrides": list(overrides)})


def test_core_assign_overrides_save_read_delete(site53: Site) -> None:
    ids = save53(site53, {"userid": 5, "duedate": DUE + 3600, "cutoffdate": DUE + 7200},
                 {"groupid": 1, "duedate": DUE + 60})["ids"]
    got = site53.rest("mod_assign_get_overrides", assignid=1)["overrides"]
    assert [(o["userid"], o["groupid"], o["sortorder"], o["duedate"]) for o in got] == [
        (5, None, None, DUE + 3600), (None, 1, 1, DUE + 60)]
    assert list(got[0]) == ["id", "assignid", "userid", "groupid", "sortorder", "allowsubmissionsfromdate", "duedate",
                            "cutoffdate", "timelimit", "reason", "reasonformat"]
    assert site53.rest("mod_assign_delete_overrides", data={"assignid": 1, "ids": [ids[0], 999]}) == {
        "ids": [ids[0], 999]}  # core 5.3 ignores unknown ids
    assert [o["id"] for o in site53.rest("mod_assign_get_overrides", assignid=1)["overrides"]] == [ids[1]]


def test_core_assign_second_override_for_a_user_replaces_the_first(site53: Site) -> None:
    first = save53(site53, {"userid": 5, "duedate": DUE + 3600, "timelimit": 600})["ids"][0]
    second = save53(site53, {"userid": 5, "cutoffdate": DUE + 7200})["ids"][0]
    got = site53.rest("mod_assign_get_overrides", assignid=1)["overrides"]
    assert second != first and [o["id"] for o in got] == [second]
    assert (got[0]["duedate"], got[0]["cutoffdate"], got[0]["timelimit"]) == (DUE + 3600, DUE + 7200, 600)


def test_core_assign_override_validation(site53: Site) -> None:
    site53.sim.config.debug = True
    body = save53(site53, {"userid": 5, "duedate": DUE + 60, "cutoffdate": DUE})
    assert body["debuginfo"] == "Cut-off date cannot be earlier than the due date."
    body = save53(site53, {"userid": 5, "groupid": 1, "duedate": DUE + 60})
    assert is_error(body, "invalidparameter")
    site53.sim.set_extension(1, 6, DUE + 60)
    body = save53(site53, {"userid": 6, "duedate": DUE + 3600})
    assert body["debuginfo"] == "Extension date must be after the due date"


def test_core_assign_zero_is_a_value(site53: Site) -> None:
    save53(site53, {"userid": 5, "cutoffdate": 0})
    assert site53.rest("mod_assign_get_overrides", assignid=1)["overrides"][0]["cutoffdate"] == 0
