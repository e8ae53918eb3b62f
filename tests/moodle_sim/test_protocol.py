"""The REST protocol itself: PHP bracket arrays, GET/POST, reserved names, XML, parameter validation."""

from __future__ import annotations

import httpx
import pytest

from adapters.moodle.simulator import SimulatorConfig, SimulatorServer
from adapters.moodle.simulator.phpform import parse_pairs, php_key

from .conftest import Rest, Site, is_error


# -- PHP's parsing of bracket names (unit) ---------------------------------------------------------


def parse(query: list[tuple[str, str]], limit: int | None = None) -> dict:
    return parse_pairs(query, limit)[0]


def test_nested_brackets_build_php_arrays() -> None:
    assert parse([("data[quizid]", "1"), ("data[overrides][0][userid]", "5"),
                  ("data[overrides][0][timelimit]", "5400"), ("data[overrides][1][groupid]", "2")]) == {
        "data": {"quizid": "1", "overrides": {0: {"userid": "5", "timelimit": "5400"}, 1: {"groupid": "2"}}}}


def test_empty_brackets_append_after_the_highest_integer_key() -> None:
    assert parse([("a[]", "x"), ("a[]", "y"), ("a[7]", "z"), ("a[]", "w")]) == {"a": {0: "x", 1: "y", 7: "z", 8: "w"}}


def test_numeric_keys_become_integers_but_not_with_leading_zeros() -> None:
    assert php_key("5") == 5 and php_key("-3") == -3 and php_key("05") == "05" and php_key("0") == 0
    assert parse([("a[05]", "x"), ("a[5]", "y")]) == {"a": {"05": "x", 5: "y"}}


def test_later_values_replace_earlier_ones_scalar_or_array() -> None:
    assert parse([("a", "1"), ("a", "2")]) == {"a": "2"}
    assert parse([("a", "1"), ("a[0]", "2")]) == {"a": {0: "2"}}
    assert parse([("a[0]", "2"), ("a", "1")]) == {"a": "1"}


def test_dots_and_spaces_in_names_and_unclosed_brackets() -> None:
    assert parse([("a.b", "1"), ("c d", "2")]) == {"a_b": "1", "c_d": "2"}
    assert parse([("a[b", "1")]) == {"a_b": "1"}
    assert parse([("a[b]c", "1")]) == {"a": {"b": "1"}}  # text after "]" is ignored
    assert parse([("a[b][c", "1")]) == {"a": {"b": "1"}}  # an unclosed later bracket ends the name
    assert parse([("[x]", "1")]) == {}  # no base name: ignored


def test_max_input_vars_drops_the_rest() -> None:
    out, dropped = parse_pairs([(f"ids[{n}]", str(n)) for n in range(10)], 4)
    assert out == {"ids": {0: "0", 1: "1", 2: "2", 3: "3"}} and dropped == 6


# -- over HTTP --------------------------------------------------------------------------------------


def test_out_of_order_indices_keep_their_order_of_arrival(site: Site) -> None:
    rest = site.rest
    body = rest.raw([("wstoken", rest.token), ("wsfunction", "mod_assign_save_user_extensions"),
                     ("moodlewsrestformat", "json"), ("assignmentid", "1"), ("userids[1]", "7"), ("userids[0]", "8"),
                     ("dates[1]", "1795994903"), ("dates[0]", "1796081303")]).json()
    assert body == []
    flags = {f.userid: f.extensionduedate for f in site.sim.user_flags(1)}
    assert flags == {7: 1795994903, 8: 1796081303}  # pairs by position in the arrays, as PHP iterates them


def test_get_and_post_merge_with_post_winning(site: Site) -> None:
    rest = site.rest
    response = rest.http.post(f"{site.server.rest_url}?wsfunction=core_course_get_contents&courseid=999",
                              data={"wstoken": rest.token, "moodlewsrestformat": "json", "courseid": "2"})
    assert [s["name"] for s in response.json()] == ["General", "Week 1"]


def test_without_json_format_the_answer_is_xml(site: Site) -> None:
    for fmt in (None, "JSON", "yaml"):
        pairs = [("wstoken", site.rest.token), ("wsfunction", "mod_quiz_get_overrides"), ("quizid", "1")]
        if fmt:
            pairs.append(("moodlewsrestformat", fmt))
        response = site.rest.raw(pairs)
        assert response.headers["content-type"] == "application/xml; charset=utf-8"
        assert response.text == ('<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n<SINGLE>\n'
                                 '<KEY name="overrides"><MULTIPLE>\n</MULTIPLE>\n</KEY>\n</SINGLE>\n</RESPONSE>\n')


def test_xml_escapes_values_and_prints_nulls_and_booleans(site: Site) -> None:
    site.sim.rename_module(3, 'Quiz "A" & <B>')
    site.rest("mod_quiz_save_overrides", data={"quizid": 1, "overrides": [{"userid": 5, "timelimit": 5400}]})
    pairs = [("wstoken", site.rest.token), ("wsfunction", "mod_quiz_get_overrides"), ("quizid", "1")]
    xml = site.rest.raw(pairs).text
    assert '<KEY name="timelimit"><VALUE>5400</VALUE>\n</KEY>' in xml
    assert '<KEY name="groupid"><VALUE null="null"/>\n</KEY>' in xml
    pairs = [("wstoken", site.rest.token), ("wsfunction", "mod_quiz_get_quizzes_by_courses"), ("courseids[0]", "2")]
    xml = site.rest.raw(pairs).text
    assert '<KEY name="name"><VALUE>Quiz &quot;A&quot; &amp; &lt;B&gt;</VALUE>' in xml
    assert '<KEY name="visible"><VALUE>1</VALUE>' in xml  # true prints as 1


def test_xml_error_body(site: Site) -> None:
    response = site.rest.raw([("wstoken", "nope"), ("wsfunction", "core_webservice_get_site_info")])
    assert response.text == ('<?xml version="1.0" encoding="UTF-8" ?>\n<EXCEPTION class="core\\exception\\moodle_exception">\n'
                             "<ERRORCODE>invalidtoken</ERRORCODE>\n<MESSAGE>Invalid token - token not found</MESSAGE>\n"
                             "</EXCEPTION>\n")


def test_a_function_returning_a_bare_list_of_warnings(site: Site) -> None:
    response = site.rest.raw([("wstoken", site.rest.token), ("wsfunction", "mod_assign_save_user_extensions"),
                              ("moodlewsrestformat", "json"), ("assignmentid", "1"), ("userids[0]", "5"),
                              ("dates[0]", "1796081303")])
    assert response.text == "[]" and response.headers["content-type"] == "application/json"


def test_unexpected_parameters_are_refused(site: Site) -> None:
    site.sim.config.debug = True
    body = site.rest("core_course_get_contents", courseid=2, foo="bar")
    assert is_error(body, "invalidparameter")
    assert body["debuginfo"] == "Unexpected keys (foo) detected in parameter array."
    body = site.rest("mod_quiz_save_overrides", data={"quizid": 1, "overrides": [{"userid": 5, "reason": "x"}]})
    assert body["debuginfo"] == ("data => Invalid parameter value detected: overrides => Invalid parameter value "
                                 "detected: Unexpected keys (reason) detected in parameter array.")


def test_nested_missing_and_wrongly_typed_keys_name_their_path(site: Site) -> None:
    site.sim.config.debug = True
    body = site.rest("mod_quiz_save_overrides", data={"overrides": [{"userid": 5}]})
    assert body["debuginfo"] == "data => Invalid parameter value detected: Missing required key in single structure: quizid"
    body = site.rest("mod_quiz_save_overrides", data={"quizid": 1, "overrides": [{"userid": "five"}]})
    assert body["debuginfo"] == ('data => Invalid parameter value detected: overrides => Invalid parameter value '
                                 'detected: userid => Invalid parameter value detected: Invalid external api '
                                 'parameter: the value is "five", the server was expecting "int" type')


@pytest.mark.parametrize("value", ["05", " 5", "5.0", "", "+5", "1e3"])
def test_integers_must_be_canonical(site: Site, value: str) -> None:
    assert is_error(site.rest("core_course_get_contents", courseid=value), "invalidparameter")


def test_an_array_where_a_scalar_belongs_and_the_reverse(site: Site) -> None:
    site.sim.config.debug = True
    body = site.rest.raw([("wstoken", site.rest.token), ("wsfunction", "core_course_get_contents"),
                          ("moodlewsrestformat", "json"), ("courseid[0]", "2")]).json()
    assert body["debuginfo"] == "courseid => Invalid parameter value detected: Scalar type expected, array or object received."
    body = site.rest.raw([("wstoken", site.rest.token), ("wsfunction", "mod_assign_get_user_flags"),
                          ("moodlewsrestformat", "json"), ("assignmentids", "1")]).json()
    assert body["debuginfo"].startswith("assignmentids => Invalid parameter value detected: Only arrays accepted.")


def test_booleans_are_0_or_1(site: Site) -> None:
    ok = site.rest("mod_assign_get_assignments", courseids=[2], includenotenrolledcourses="1")
    assert ok["courses"][0]["id"] == 2
    assert is_error(site.rest("mod_assign_get_assignments", courseids=[2], includenotenrolledcourses="true"),
                    "invalidparameter")


def test_text_parameters_refuse_tags(site: Site) -> None:
    body = site.rest("core_update_inplace_editable", component="format_topics", itemtype="<b>x</b>", itemid=2,
                     value="Exam")
    assert is_error(body, "invalidparameter")


def test_moodlewssetting_parameters_are_not_function_parameters(site: Site) -> None:
    body = site.rest("core_course_get_contents", courseid=2, moodlewssettingfilter="true",
                     moodlewssettingfileurl="true")
    assert [s["section"] for s in body] == [0, 1]


def test_unknown_paths_and_the_stats_endpoint(server: SimulatorServer, rest: Rest) -> None:
    assert httpx.get(f"{server.base_url}/nothing/here").status_code == 404
    rest("core_webservice_get_site_info")
    stats = httpx.get(f"{server.base_url}/__sim/stats").json()
    assert stats["by_function"]["core_webservice_get_site_info"] == 1


def test_inputs_past_max_input_vars_never_reach_the_function() -> None:
    with SimulatorServer(SimulatorConfig(max_input_vars=6)) as server:
        rest = Rest(server)
        course = server.sim.create_course("C", "C", numsections=0)
        cm = server.sim.create_quiz(course.id, "Q", section=0, timelimit=600)
        students = [server.sim.create_user("S", str(n)) for n in range(3)]
        for s in students:
            server.sim.enrol(course.id, s.id)
        overrides = [{"userid": s.id, "timelimit": 900} for s in students]
        body = rest("mod_quiz_save_overrides", data={"quizid": cm.instance, "overrides": overrides})
        # 3 reserved + quizid + 2 more variables: only the first override arrived whole
        assert body == {"ids": [server.sim.quiz_overrides(cm.instance)[0].id]}
        rest.close()
