"""The Moodle REST client: parameter encoding against the recorded forms, Moodle's HTTP-200
errors as typed exceptions, warnings, retries only where safe, bounded concurrency, metrics,
and the token kept out of everything but the request body."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from adapters.moodle.client import MoodleClient, SiteInfo, encode_params
from adapters.moodle.errors import (
    MoodleAccessException,
    MoodleError,
    MoodleInvalidParameter,
    MoodleInvalidToken,
    MoodleNotFound,
    MoodlePermissionError,
    MoodleProtocolError,
    MoodleServerError,
    MoodleTransportError,
    MoodleUncertainWrite,
    MoodleUnknownFunction,
)

from ._support import FIXTURES, TOKEN, body_of, recorded_form, seq

# -- encoding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("number", "params"), [
    ("03", {"courseid": 2, "options": [{"name": "excludecontents", "value": True}]}),
    ("08", {"courseids": [2], "includenotenrolledcourses": True}),
    ("13", {"assignmentid": 1, "userids": [7, 8], "dates": [1795994903, 1796081303]}),
    ("19", {"data": {"quizid": 1, "overrides": [{"userid": 5, "timeclose": 1796081303, "timelimit": 5400}]}}),
    ("21", {"data": {"quizid": 1, "overrides": [{"id": 1, "userid": 5, "timeclose": 1796254103, "timelimit": 7200}]}}),
    ("27", {"data": {"quizid": 1, "overrides": [{"userid": 7, "timeclose": 1795994903},
                                                {"userid": 5, "timeclose": 1795994903}]}}),
    ("31", {"data": {"quizid": 1, "ids": [3]}}),
    ("35", {"action": "cm_hide", "courseid": 2, "ids": [2]}),
    ("38", {"component": "format_topics", "itemtype": "sectionname", "itemid": 2, "value": "Week 1 (renamed)"}),
])
def test_parameters_are_encoded_exactly_as_moodle_recorded_them(number, params):
    assert encode_params(params) == recorded_form(number)


def test_none_is_left_out_and_booleans_are_one_or_zero():
    assert encode_params({"a": None, "b": True, "c": False, "d": {"e": None, "f": [None, 3]}}) == [
        ("b", "1"), ("c", "0"), ("d[f][1]", "3")]
    with pytest.raises(TypeError, match="parameter x"):
        encode_params({"x": object()})


def test_a_call_posts_token_function_and_json_format_in_the_body(make_client, moodle):
    moodle.answers["core_webservice_get_site_info"] = body_of("01")

    async def go():
        async with make_client() as client:
            site = await client.site_info()
            again = await client.site_info()
            return site, again, client.metrics

    site, again, metrics = asyncio.run(go())
    assert site is again and metrics.calls == 1, "site info is read once per client"
    ((function, form),) = moodle.calls
    assert form[:3] == [("wstoken", TOKEN), ("wsfunction", "core_webservice_get_site_info"),
                        ("moodlewsrestformat", "json")]
    assert site.branch == (4, 5) and site.release.startswith("4.5.6")
    assert "mod_quiz_save_overrides" in site.functions and site.offers("core_course_get_contents")


def test_site_info_parses_a_release_it_does_not_know_without_failing():
    assert SiteInfo.parse({"release": "", "version": "x"}).branch == (0, 0)
    assert SiteInfo.parse({"release": "5.3dev+ (Build: 20260901)"}).branch == (5, 3)


# -- Moodle's errors (HTTP 200 bodies) ------------------------------------------------------------


@pytest.mark.parametrize(("number", "kind", "text"), [
    ("40", MoodleInvalidToken, "Invalid token"),
    ("42", MoodleAccessException, "add the function to the external service"),
    ("43", MoodleUnknownFunction, "no function local_nonexistent_function"),
    ("46", MoodleInvalidParameter, "Invalid parameter value detected"),
    ("52", MoodleInvalidParameter, "Missing required key in single structure: courseid"),
    ("53", MoodleInvalidParameter, "Multiple overrides cannot be made for the same user/group."),
    ("54", MoodleInvalidParameter, "You must override at least one of the quiz settings."),
    ("55", MoodleInvalidParameter, "couldn't be deleted"),
    ("17", MoodleNotFound, "Can't find data record in database table assign."),
    ("37", MoodleError, "Invalid course state action"),
])
def test_error_bodies_become_typed_errors(make_client, moodle, number, kind, text):
    recorded = next(p for p in FIXTURES.glob(f"{number}_*.json"))
    import json

    f = json.loads(recorded.read_text())
    function = f["function"]
    moodle.answers[function] = f["body"]

    async def go():
        async with make_client() as client:
            await client.write(function, {"x": 1}, idempotent=True)

    with pytest.raises(kind) as caught:
        asyncio.run(go())
    err = caught.value
    assert text in str(err)
    assert function in str(err)
    assert err.errorcode == f["body"]["errorcode"]
    assert TOKEN not in str(err)


def test_a_capability_error_is_a_permission_error_naming_the_capability(make_client, moodle):
    moodle.answers["mod_quiz_save_overrides"] = {
        "exception": "required_capability_exception", "errorcode": "nopermissions",
        "message": "Sorry, but you do not currently have permissions to do that (Manage quiz settings overrides).",
        "debuginfo": "mod/quiz:manageoverrides"}

    async def go():
        async with make_client() as client:
            await client.write("mod_quiz_save_overrides", {"data": {"quizid": 1}}, idempotent=True)

    with pytest.raises(MoodlePermissionError, match="mod/quiz:manageoverrides"):
        asyncio.run(go())


def test_an_xml_answer_is_a_protocol_error(make_client, moodle):
    xml = (FIXTURES / "44_core_webservice_get_site_info_no_restformat_xml.xml").read_bytes()
    moodle.answers["core_webservice_get_site_info"] = httpx.Response(200, content=xml,
                                                                     headers={"Content-Type": "application/xml"})

    async def go():
        async with make_client() as client:
            await client.site_info()

    with pytest.raises(MoodleProtocolError, match="XML"):
        asyncio.run(go())


def test_an_html_page_or_a_4xx_is_a_protocol_error(make_client, moodle):
    moodle.answers["a"] = httpx.Response(200, text="<html>Maintenance</html>")
    moodle.answers["b"] = httpx.Response(404, text="not found")

    async def go(function):
        async with make_client() as client:
            await client.read(function)

    with pytest.raises(MoodleProtocolError, match="HTML"):
        asyncio.run(go("a"))
    with pytest.raises(MoodleProtocolError, match="404"):
        asyncio.run(go("b"))


def test_warnings_are_counted_and_logged_without_their_items(make_client, moodle, caplog):
    moodle.answers["mod_assign_get_assignments"] = body_of("07")

    async def go():
        async with make_client() as client:
            body = await client.read("mod_assign_get_assignments", {"courseids": [2]})
            return body, client.metrics

    with caplog.at_level(logging.INFO, logger="lms_bridge.moodle"):
        body, metrics = asyncio.run(go())
    assert body["warnings"][0]["warningcode"] == "2"
    assert metrics.warnings == 1
    assert "User is not enrolled" in caplog.text


# -- retries --------------------------------------------------------------------------------------


def test_a_read_is_retried_after_5xx_timeouts_and_drops(make_client, moodle, sleep):
    moodle.answers["core_course_get_contents"] = seq(
        httpx.Response(503), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped"), [])

    async def go():
        async with make_client() as client:
            return await client.read("core_course_get_contents", {"courseid": 2}), client.metrics

    body, metrics = asyncio.run(go())
    assert body == []
    assert metrics.retries == 3 and metrics.retries_by_function["core_course_get_contents"] == 3
    assert metrics.faults == 3 and len(sleep.sleeps) == 3
    assert sleep.sleeps == sorted(sleep.sleeps), "backoff grows"


def test_an_idempotent_write_is_retried(make_client, moodle):
    moodle.answers["local_lmsbridge_upsert_activity"] = seq(httpx.Response(502), {"cmid": 9, "instance": 4,
                                                                                 "created": True, "warnings": []})

    async def go():
        async with make_client() as client:
            return await client.write("local_lmsbridge_upsert_activity", {"courseid": 2}, idempotent=True), client.metrics

    body, metrics = asyncio.run(go())
    assert body["cmid"] == 9 and metrics.writes == 2 and metrics.retries == 1


@pytest.mark.parametrize("fault", [httpx.Response(500), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("x")])
def test_a_write_that_is_not_idempotent_is_never_repeated_after_a_fault(make_client, moodle, fault):
    moodle.answers["mod_quiz_save_overrides"] = fault

    async def go():
        async with make_client() as client:
            await client.write("mod_quiz_save_overrides", {"data": {"quizid": 1}}, idempotent=False)

    with pytest.raises(MoodleUncertainWrite):
        asyncio.run(go())
    assert len(moodle.calls) == 1


def test_a_write_that_never_left_is_retried_even_if_not_idempotent(make_client, moodle):
    moodle.answers["core_courseformat_update_course"] = seq(httpx.ConnectError("refused"), "[]")

    async def go():
        async with make_client() as client:
            return await client.write("core_courseformat_update_course", {"action": "section_add"}, idempotent=False)

    assert asyncio.run(go()) == "[]"


def test_retries_are_bounded(make_client, moodle):
    moodle.answers["core_enrol_get_enrolled_users"] = httpx.Response(503)
    moodle.answers["mod_quiz_get_overrides"] = httpx.ConnectTimeout("down")

    async def go(function):
        async with make_client() as client:
            await client.read(function, {"courseid": 2})

    with pytest.raises(MoodleServerError, match="503 after 5 attempt"):
        asyncio.run(go("core_enrol_get_enrolled_users"))
    with pytest.raises(MoodleTransportError, match="ConnectTimeout after 5 attempt"):
        asyncio.run(go("mod_quiz_get_overrides"))


# -- concurrency and metrics ------------------------------------------------------------------------


def test_calls_in_flight_are_bounded(make_client, moodle):
    moodle.answers["mod_quiz_get_overrides"] = {"overrides": []}
    moodle.delay = 0.01

    async def go():
        async with make_client(max_concurrency=3) as client:
            await asyncio.gather(*(client.read("mod_quiz_get_overrides", {"quizid": i}) for i in range(20)))
            return client.metrics

    metrics = asyncio.run(go())
    assert moodle.max_in_flight == 3 == metrics.max_in_flight
    assert metrics.calls == 20 and metrics.reads == 20 and metrics.writes == 0
    metrics.reset()
    assert metrics.calls == 0 and not metrics.calls_by_function


def test_writes_are_counted_by_function(make_client, moodle):
    moodle.answers["mod_assign_save_user_extensions"] = []
    moodle.answers["mod_assign_get_user_flags"] = body_of("14")

    async def go():
        async with make_client() as client:
            await client.write("mod_assign_save_user_extensions", {"assignmentid": 1, "userids": [5], "dates": [1]},
                               idempotent=True)
            await client.read("mod_assign_get_user_flags", {"assignmentids": [1]})
            return client.metrics

    m = asyncio.run(go())
    assert (m.calls, m.writes, m.reads) == (2, 1, 1)
    assert m.writes_by_function == {"mod_assign_save_user_extensions": 1}


# -- the token and plan data stay out of logs and errors ------------------------------------------


def test_neither_token_nor_parameters_reach_logs_or_errors(make_client, moodle, caplog):
    moodle.answers["mod_quiz_save_overrides"] = httpx.Response(500, text="boom")

    async def go():
        async with make_client() as client:
            await client.write("mod_quiz_save_overrides",
                               {"data": {"quizid": 1, "overrides": [{"userid": 5, "timelimit": 5417}]}}, idempotent=False)

    with caplog.at_level(logging.DEBUG), pytest.raises(MoodleUncertainWrite) as caught:
        asyncio.run(go())
    for text in (caplog.text, str(caught.value), repr(caught.value)):
        assert TOKEN not in text and "5417" not in text


def test_a_token_is_required_and_the_url_may_name_the_endpoint():
    with pytest.raises(ValueError):
        MoodleClient("https://m.test", " ")
    client = MoodleClient("https://m.test/webservice/rest/server.php/", "t")
    assert client.base_url == "https://m.test"
    asyncio.run(client.aclose())


# -- uploads --------------------------------------------------------------------------------------


def test_upload_returns_the_draft_area_and_sends_the_token_only_in_the_form(make_client, moodle):
    moodle.answers["webservice/upload.php"] = [{"component": "user", "contextid": 5, "userid": 3, "filearea": "draft",
                                                "filename": "p.pdf", "filepath": "/", "itemid": 731, "filesize": 3}]

    async def go():
        async with make_client() as client:
            return await client.upload("p.pdf", b"%PD"), client.metrics

    files, metrics = asyncio.run(go())
    assert files[0]["itemid"] == 731 and metrics.writes == 1
    (request,) = moodle.requests
    assert TOKEN not in str(request.url) and TOKEN.encode() in request.content
    assert b'name="file_1"; filename="p.pdf"' in request.content


def test_an_upload_refused_per_file_is_an_error(make_client, moodle):
    moodle.answers["webservice/upload.php"] = [{"filename": "p.pdf", "errortype": "fileoversized", "error": "too big"}]

    async def go():
        async with make_client() as client:
            await client.upload("p.pdf", b"%PD")

    with pytest.raises(MoodleError, match="too big"):
        asyncio.run(go())
