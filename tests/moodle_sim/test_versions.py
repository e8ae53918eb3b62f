"""Version and mode gating: what each Moodle (4.5, 5.0, 5.3) offers with and without the plugin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.moodle.simulator import SimulatorConfig, SimulatorServer, seed_reference_site

from .conftest import NOW, Rest, is_error

CORE = ["core_webservice_get_site_info", "core_course_get_contents", "core_enrol_get_enrolled_users",
        "mod_assign_get_assignments", "mod_assign_save_user_extensions", "mod_assign_get_user_flags",
        "mod_quiz_get_quizzes_by_courses", "mod_quiz_save_overrides", "mod_quiz_get_overrides",
        "mod_quiz_delete_overrides", "core_courseformat_update_course", "core_update_inplace_editable",
        "core_course_get_courses_by_field", "core_group_get_course_groups"]
ASSIGN_OVERRIDES = ["mod_assign_save_overrides", "mod_assign_get_overrides", "mod_assign_delete_overrides"]
PLUGIN = ["local_lmsbridge_upsert_activity", "local_lmsbridge_get_activities", "local_lmsbridge_update_section",
          "local_lmsbridge_set_availability", "local_lmsbridge_attach_paper"]
PLUGIN_ASSIGN = ["local_lmsbridge_save_assign_overrides", "local_lmsbridge_get_assign_overrides",
                 "local_lmsbridge_delete_assign_overrides"]
# core functions the plugin's pre-built service adds (clarifications in the Announcements forum)
PLUGIN_SERVICE_FORUM = ["mod_forum_get_forums_by_courses", "mod_forum_get_forum_discussions",
                        "mod_forum_add_discussion"]


@pytest.fixture(params=[(v, p) for v in ("4.5", "5.0", "5.3") for p in (True, False)],
                ids=lambda vp: f"{vp[0]}-{'plugin' if vp[1] else 'core'}")
def mode(request: pytest.FixtureRequest) -> Iterator[tuple[str, bool, Rest, SimulatorServer]]:
    version, plugin = request.param
    with SimulatorServer(SimulatorConfig(version=version, plugin=plugin, clock=lambda: NOW)) as server:
        seed_reference_site(server.sim)
        rest = Rest(server)
        yield version, plugin, rest, server
        rest.close()


def test_site_info_lists_what_the_mode_offers(mode: tuple[str, bool, Rest, SimulatorServer]) -> None:
    version, plugin, rest, _ = mode
    info = rest("core_webservice_get_site_info")
    names = [f["name"] for f in info["functions"]]
    expected = CORE + (ASSIGN_OVERRIDES if version == "5.3" else [])
    if plugin:
        expected += PLUGIN + (PLUGIN_ASSIGN if version != "5.3" else []) + PLUGIN_SERVICE_FORUM
    assert names == expected
    assert info["release"] == {"4.5": "4.5.6 (Build: 20250811)", "5.0": "5.0.2 (Build: 20250811)",
                               "5.3": "5.3 (Build: 20261005)"}[version]
    assert info["version"] == {"4.5": "2024100706", "5.0": "2025041402", "5.3": "2026100500"}[version]
    versions = {f["name"]: f["version"] for f in info["functions"]}
    assert versions["mod_quiz_save_overrides"] == {"4.5": "2024100700", "5.0": "2025041400",
                                                   "5.3": "2026100500"}[version]
    if plugin:
        assert versions["local_lmsbridge_upsert_activity"] == "2026112200"
    assert info["uploadfiles"] == int(plugin)


def test_functions_outside_the_mode_do_not_exist(mode: tuple[str, bool, Rest, SimulatorServer]) -> None:
    version, plugin, rest, _ = mode
    body = rest("mod_assign_get_overrides", assignid=1)
    assert ("overrides" in body) if version == "5.3" else is_error(body, "invalidrecord")
    body = rest("local_lmsbridge_get_activities", courseid=2)
    assert ("activities" in body) if plugin else is_error(body, "invalidrecord")
    body = rest("local_lmsbridge_get_assign_overrides", assignid=1)
    assert ("overrides" in body) if plugin and version != "5.3" else is_error(body, "invalidrecord")
    assert rest("mod_quiz_get_overrides", quizid=1) == {"overrides": []}  # 4.4+ everywhere


def test_quiz_get_overrides_gains_reason_fields_in_5_3(mode: tuple[str, bool, Rest, SimulatorServer]) -> None:
    version, _, rest, _ = mode
    rest("mod_quiz_save_overrides", data={"quizid": 1, "overrides": [{"userid": 5, "timelimit": 5400}]})
    row = rest("mod_quiz_get_overrides", quizid=1)["overrides"][0]
    if version == "5.3":
        assert list(row) == ["id", "quiz", "userid", "groupid", "timeopen", "timeclose", "duedate", "timelimit",
                             "attempts", "password", "reason", "reasonformat"]
        assert row["reason"] is None and row["reasonformat"] == 0
    else:
        assert list(row) == ["id", "quiz", "userid", "groupid", "timeopen", "timeclose", "timelimit", "attempts",
                             "password"]


def test_a_known_function_outside_the_service_is_an_access_exception() -> None:
    with SimulatorServer(SimulatorConfig(clock=lambda: NOW)) as server:
        rest = Rest(server)
        assert is_error(rest("core_course_get_course_module", cmid=1), "accessexception")
        assert is_error(rest("core_user_get_users_by_field", field="idnumber", values=["s1"]), "accessexception")
        rest.close()
    config = SimulatorConfig(clock=lambda: NOW, extra_functions=("core_course_get_course_module",))
    with SimulatorServer(config) as server:
        seed_reference_site(server.sim)
        rest = Rest(server)
        cm = rest("core_course_get_course_module", cmid=3)["cm"]
        assert (cm["modname"], cm["instance"], cm["sectionnum"], cm["availability"]) == ("quiz", 1, 1, None)
        names = [f["name"] for f in rest("core_webservice_get_site_info")["functions"]]
        assert names[-1] == "core_course_get_course_module"
        rest.close()


def test_a_service_without_a_function() -> None:
    config = SimulatorConfig(service_functions=("core_webservice_get_site_info", "core_course_get_contents"))
    with SimulatorServer(config) as server:
        rest = Rest(server)
        assert is_error(rest("mod_quiz_get_overrides", quizid=1), "accessexception")
        assert len(rest("core_webservice_get_site_info")["functions"]) == 2
        rest.close()


def test_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version"):
        SimulatorConfig(version="4.4")
