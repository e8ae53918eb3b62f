"""Tokens, capabilities and identity settings."""

from __future__ import annotations

from adapters.moodle.simulator import READ_CAPABILITIES, SimulatorConfig, SimulatorServer, seed_reference_site
from adapters.moodle.simulator.config import CAP_QUIZ_MANAGE_OVERRIDES, CAP_VIEW_ALL_DETAILS

from .conftest import NOW, Rest, Site, is_error


def test_a_token_without_a_capability_gets_required_capability_exception() -> None:
    config = SimulatorConfig(extra_tokens={"reader": READ_CAPABILITIES}, clock=lambda: NOW)
    with SimulatorServer(config) as server:
        seed_reference_site(server.sim)
        rest = Rest(server, token="reader")
        body = rest("mod_quiz_save_overrides", data={"quizid": 1, "overrides": [{"userid": 5, "timelimit": 5400}]})
        assert body == {"exception": "core\\exception\\required_capability_exception", "errorcode": "nopermissions",
                        "message": "Sorry, but you do not currently have permissions to do that (Manage quiz "
                                   "settings overrides)."}
        assert rest("mod_quiz_get_overrides", quizid=1) == {"overrides": []}  # viewoverrides is enough to read
        body = rest("core_courseformat_update_course", action="cm_hide", courseid=2, ids=[2])
        assert body["message"].endswith("(Hide/show activities).")
        body = rest("mod_assign_save_user_extensions", assignmentid=1, userids=[5], dates=[1796081303])
        assert body["message"].endswith("(Grant extension).")
        info = rest("core_webservice_get_site_info")
        assert info["userid"] != 3 and info["username"].startswith("wsuser")
        assert server.sim.quiz_overrides(1) == []
        rest.close()


def test_grant_and_revoke_at_runtime(site: Site) -> None:
    site.sim.revoke(site.rest.token, CAP_QUIZ_MANAGE_OVERRIDES)
    body = site.rest("mod_quiz_save_overrides", data={"quizid": 1, "overrides": [{"userid": 5, "timelimit": 5400}]})
    assert is_error(body, "nopermissions")
    site.sim.grant(site.rest.token, CAP_QUIZ_MANAGE_OVERRIDES)
    assert site.rest("mod_quiz_save_overrides", data={"quizid": 1, "overrides": [{"userid": 5, "timelimit": 5400}]})[
        "ids"]


def test_idnumber_needs_the_identity_setting(site: Site) -> None:
    assert site.rest("core_enrol_get_enrolled_users", courseid=2)[1]["idnumber"] == "s1"  # default config
    site.sim.config.identity_fields = ()
    assert "idnumber" not in site.rest("core_enrol_get_enrolled_users", courseid=2)[1]
    site.sim.grant(site.rest.token, CAP_VIEW_ALL_DETAILS)
    user = site.rest("core_enrol_get_enrolled_users", courseid=2)[1]
    assert (user["username"], user["idnumber"], user["department"]) == ("student1", "s1", "")


def test_a_user_without_course_access() -> None:
    config = SimulatorConfig(extra_tokens={"nobody": frozenset()}, clock=lambda: NOW)
    with SimulatorServer(config) as server:
        seed_reference_site(server.sim)
        rest = Rest(server, token="nobody")
        body = rest("core_course_get_contents", courseid=2)
        assert (body["exception"], body["errorcode"]) == ("core\\exception\\require_login_exception",
                                                          "requireloginerror")
        rest.close()


def test_missing_and_unknown_tokens(rest: Rest) -> None:
    assert rest("core_webservice_get_site_info", token="x")["errorcode"] == "invalidtoken"
    body = rest.raw([("wsfunction", "core_webservice_get_site_info"), ("moodlewsrestformat", "json")]).json()
    assert body["errorcode"] == "invalidtoken"
