"""Full OIDC launches from a fake Canvas and a fake Moodle (lti1p3platform signs the id_tokens)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from lms_bridge.web.launch_context import Role

from .platforms import (
    CANVAS_ACCOUNT_ADMIN_AS_STUDENT,
    INSTRUCTOR,
    LEARNER,
    LIS,
    MOODLE_ADMIN,
    ROLE_INST_ADMIN,
    ROLE_SYS_ADMIN,
    ROLE_SYS_USER,
    TA,
    TOOL,
    FakePlatform,
    launch,
    make_app,
    register,
    run_launch,
)


def stored(app: Flask, launch_id: str) -> Any:
    return app.extensions["lms_bridge.launch_store"].get_launch(launch_id)


# --- Canvas ------------------------------------------------------------------------------------


def test_canvas_instructor_launch_lands_on_the_staff_home(app: Flask, client: Any, canvas: FakePlatform) -> None:
    result = run_launch(client, canvas, roles=INSTRUCTOR, user_id="535fa085f22b4655f48c", course_id="1234",
                        name="Ina Instructor")
    assert result.status == 303, result.text
    assert result.response.headers["Location"].startswith("/course/?launch=")
    context = stored(app, result.launch_id)
    assert context.platform == "canvas"
    assert context.course == "canvas:1234"  # from $Canvas.course.id, never the opaque context id
    assert context.context_id != "1234" and len(context.context_id) == 40
    assert context.issuer == "https://canvas.instructure.com"
    assert context.client_id == canvas.client_id
    assert context.deployment_id == canvas.deployment_id
    assert context.roles == {Role.INSTRUCTOR}  # institution#Instructor and system#User ignored
    assert context.is_staff
    assert context.permissions == {"manage_assignments_add", "manage_assignments_edit", "manage_assignments_delete"}
    assert context.api_domain == "school.instructure.test"
    assert context.placement == "course_navigation"
    assert context.name == "Ina Instructor"
    assert context.student_id is None  # $Canvas.user.sisid left unexpanded: no SIS id
    assert result.used_platform_storage is False  # the cookie did the job


def test_canvas_student_lands_on_their_own_exams_with_their_sis_id(
    app: Flask, client: Any, canvas: FakePlatform
) -> None:
    launch_id = launch(client, canvas, roles=LEARNER, user_id="ab12", student_id="s0042", course_id="1234")
    context = stored(app, launch_id)
    assert context.roles == {Role.LEARNER} and not context.is_staff
    assert context.student_id == "s0042"
    page = client.get(f"{TOOL}/me/?launch={launch_id}")
    assert page.status_code == 200


def test_canvas_ta_is_a_teaching_assistant_not_an_instructor(app: Flask, client: Any, canvas: FakePlatform) -> None:
    context = stored(app, launch(client, canvas, roles=TA))
    assert context.roles == {Role.TEACHING_ASSISTANT}
    assert context.is_staff


def test_canvas_account_admin_enrolled_as_student_is_only_a_learner(
    app: Flask, client: Any, canvas: FakePlatform
) -> None:
    context = stored(app, launch(client, canvas, roles=CANVAS_ACCOUNT_ADMIN_AS_STUDENT, student_id="s9"))
    assert context.roles == {Role.LEARNER}
    assert not context.is_staff


def test_canvas_teacher_without_the_assignment_permission_is_not_staff(
    app: Flask, client: Any, canvas: FakePlatform
) -> None:
    context = stored(app, launch(client, canvas, roles=[LIS + "membership#Instructor", LIS + "membership#Learner"],
                                 permissions="read_roster", student_id="s1"))
    assert context.permissions == {"read_roster"}
    assert context.roles == {Role.LEARNER}
    assert not context.is_staff


def test_two_canvas_customers_share_the_issuer_and_are_told_apart_by_client_id(
    app: Flask, client: Any, canvas: FakePlatform
) -> None:
    other = FakePlatform.canvas(client_id="10000000000077", deployment_id="99:abc", base_url="https://sso2.canvaslms.test",
                                key_index=2)
    register(app, other)
    first = stored(app, launch(client, canvas, course_id="1"))
    second = stored(app, launch(app.test_client(), other, course_id="2"))
    assert (first.client_id, first.deployment_id) == (canvas.client_id, canvas.deployment_id)
    assert (second.client_id, second.deployment_id) == ("10000000000077", "99:abc")
    assert first.issuer == second.issuer


# --- Moodle ------------------------------------------------------------------------------------


def test_moodle_student_launch(app: Flask, client: Any, moodle: FakePlatform) -> None:
    result = run_launch(client, moodle, roles=LEARNER, user_id="5", student_id="s1", course_id="2",
                        name="Student1 Learner")
    assert result.status == 303, result.text
    assert result.response.headers["Location"].startswith("/me/?launch=")
    context = stored(app, result.launch_id)
    assert context.platform == "moodle"
    assert context.course == "moodle:2"  # Moodle's context id is the numeric course id
    assert context.context_id == "2"
    assert context.student_id == "s1"  # lis.person_sourcedid = the user's idnumber
    assert context.user_sub == "5"
    assert context.roles == {Role.LEARNER}
    assert context.memberships_url.endswith("/CourseSection/2/bindings/1/memberships")
    assert context.context_title == "Course 101"


def test_moodle_teacher_and_site_admin_are_staff(app: Flask, client: Any, moodle: FakePlatform) -> None:
    teacher = stored(app, launch(client, moodle, roles=INSTRUCTOR, user_id="4", course_id="2"))
    admin = stored(app, launch(app.test_client(), moodle, roles=MOODLE_ADMIN, user_id="2", course_id="2"))
    assert teacher.roles == {Role.INSTRUCTOR} and teacher.is_staff
    assert admin.roles == {Role.INSTRUCTOR}  # system/institution Administrator ignored
    assert admin.is_staff


def test_moodle_student_without_idnumber_has_no_student_id(app: Flask, client: Any, moodle: FakePlatform) -> None:
    context = stored(app, launch(client, moodle, roles=LEARNER, user_id="10", student_id=None, course_id="2"))
    assert context.student_id is None


# --- pages through a launch -------------------------------------------------------------------


STAFF_PAGES = ["/course/", "/course/plan", "/course/exams/new"]
LEARNER_PAGES = ["/me/"]


@pytest.mark.parametrize("platform_name", ["canvas", "moodle"])
def test_every_page_opens_through_a_launch(request: pytest.FixtureRequest, app: Flask, platform_name: str) -> None:
    platform = request.getfixturevalue(platform_name)
    staff = launch(app.test_client(), platform, roles=INSTRUCTOR, course_id="2")
    learner = launch(app.test_client(), platform, roles=LEARNER, student_id="s1", course_id="2")
    client = app.test_client()  # a fresh browser: only the launch id in the URL counts
    for path in STAFF_PAGES + LEARNER_PAGES + ["/lti/launched"]:
        if not any(rule.rule == path for rule in app.url_map.iter_rules()):
            continue
        page = client.get(f"{TOOL}{path}?launch={staff}")
        assert page.status_code == 200, (path, page.status_code)
    for path in LEARNER_PAGES + ["/lti/launched"]:
        page = client.get(f"{TOOL}{path}?launch={learner}")
        assert page.status_code == 200, (path, page.status_code)


def test_the_launched_page_stands_in_when_no_page_blueprint_is_registered(
    app: Flask, client: Any, moodle: FakePlatform
) -> None:
    launch_id = launch(client, moodle, roles=LEARNER, student_id="s1", course_id="2")
    page = client.get(f"{TOOL}/lti/launched?launch={launch_id}")
    assert page.status_code == 200
    assert "You are signed in from your course" in page.get_data(as_text=True)
    app.view_functions.pop("student.my_exams")
    result = run_launch(app.test_client(), moodle, roles=LEARNER, student_id="s1", course_id="2")
    assert result.response.headers["Location"].startswith("/lti/launched?launch=")


def test_a_page_without_a_launch_is_a_401_page(client: Any) -> None:
    for path in ["/course/", "/me/", "/lti/launched", "/lti/launched?launch=not-a-launch"]:
        page = client.get(f"{TOOL}{path}")
        assert page.status_code == 401, path
        assert "opened from your course" in page.get_data(as_text=True)


def test_the_launch_cookie_is_a_convenience_only(app: Flask, client: Any, moodle: FakePlatform) -> None:
    launch_id = launch(client, moodle, roles=LEARNER, student_id="s1", course_id="2")
    assert client.get(f"{TOOL}/lti/launched").status_code == 200  # cookie kept by this browser
    assert app.test_client().get(f"{TOOL}/lti/launched").status_code == 401
    assert app.test_client().get(f"{TOOL}/lti/launched?launch={launch_id}").status_code == 200


# --- cookies and third-party cookie blocking ------------------------------------------------------


def _set_cookies(response: Any) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def test_first_login_checks_cookies_in_the_frame_then_goes_straight_on(client: Any, moodle: FakePlatform) -> None:
    from .platforms import _spec

    params = moodle.initiate_login(_spec(moodle, roles=LEARNER, user_id="5", student_id="s1", course_id="2"))
    first = client.post(moodle.login_url, data=params)
    html = first.get_data(as_text=True)
    assert first.status_code == 200
    assert 'name="lms_bridge_cookies" value="ok"' in html and 'target="_blank"' in html
    assert "Partitioned" in html  # the page's test cookie is partitioned too
    second = client.post(moodle.login_url, data={**params, "lms_bridge_cookies": "ok"})
    assert second.status_code == 302 and second.headers["Location"].startswith(moodle.auth_login_url)
    assert "lms_bridge_cc" in _set_cookies(second)
    third = client.post(moodle.login_url, data=params)  # the browser now carries lms_bridge_cc
    assert third.status_code == 302


def test_a_new_window_login_skips_the_check(client: Any, moodle: FakePlatform) -> None:
    from .platforms import _spec

    params = moodle.initiate_login(_spec(moodle, roles=LEARNER, user_id="5", student_id="s1", course_id="2"))
    response = client.post(moodle.login_url, data={**params, "lms_bridge_cookies": "new_window"})
    assert response.status_code == 302


def test_tool_cookies_are_samesite_none_secure_partitioned_over_tls(client: Any, moodle: FakePlatform) -> None:
    result = run_launch(client, moodle, roles=LEARNER, student_id="s1", course_id="2")
    launch_cookie = _set_cookies(result.response)["lms_bridge_launch"]
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned"):
        assert attribute in launch_cookie


def test_behind_a_tls_proxy_cookies_are_partitioned_and_urls_are_https(tmp_path: Path, moodle: FakePlatform) -> None:
    app = make_app(tmp_path, PROXY_FIX=1, LTI_BASE_URL=None)
    register(app, moodle)
    client = app.test_client()
    client.set_cookie("lms_bridge_cc", "1", domain="tool.test")
    from .platforms import _spec

    params = moodle.initiate_login(_spec(moodle, roles=LEARNER, user_id="5", course_id="2"))
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "tool.test"}
    response = client.post("http://tool.test/lti/login", data=params, headers=headers)
    assert response.status_code == 302
    assert "redirect_uri=https%3A%2F%2Ftool.test%2Flti%2Flaunch" in response.headers["Location"]
    state_cookie = next(v for k, v in _set_cookies(response).items() if k.startswith("lti1p3-state-"))
    assert "SameSite=None" in state_cookie and "Secure" in state_cookie and "Partitioned" in state_cookie


def test_over_plain_http_cookies_are_lax_not_secure(tmp_path: Path) -> None:
    app = make_app(tmp_path, LTI_BASE_URL="http://tool.local")
    moodle = FakePlatform.moodle(base_url="http://moodle.local", tool_base="http://tool.local")
    register(app, moodle)
    client = app.test_client()
    result = run_launch(client, moodle, roles=LEARNER, student_id="s1", course_id="2")
    assert result.status == 303, result.text
    cookie = _set_cookies(result.response)["lms_bridge_launch"]
    assert "SameSite=Lax" in cookie and "Secure" not in cookie and "Partitioned" not in cookie


def test_canvas_launch_survives_blocked_cookies_through_platform_storage(
    app: Flask, client: Any, canvas: FakePlatform
) -> None:
    result = run_launch(client, canvas, roles=LEARNER, student_id="s7", cookies_blocked=True)
    assert result.used_platform_storage
    assert result.status == 303, result.text
    assert stored(app, result.launch_id).student_id == "s7"


def test_platform_storage_page_asks_the_lms_frame_and_never_embeds_the_binding(
    client: Any, canvas: FakePlatform
) -> None:
    from .platforms import _spec

    params = canvas.initiate_login(_spec(canvas, roles=LEARNER, user_id="u1", student_id=None, course_id="1"))
    login = client.post(canvas.login_url, data=params)
    html = login.get_data(as_text=True)
    assert login.status_code == 200  # Canvas offered Platform Storage: no cookie check page
    assert "lti.put_data" in html and "post_message_forwarding" in html
    assert "https://sso.canvaslms.test" in html  # the postMessage target origin: Canvas's auth host


def test_a_wrong_platform_storage_value_is_refused(app: Flask, client: Any, canvas: FakePlatform) -> None:
    result = run_launch(client, canvas, roles=LEARNER, cookies_blocked=True)
    assert result.status == 303  # sanity: the storage path works
    from .platforms import _spec

    params = canvas.initiate_login(_spec(canvas, roles=LEARNER, user_id="u1", student_id=None, course_id="1"))
    login = client.post(canvas.login_url, data=params)
    from urllib.parse import parse_qsl, urlsplit

    from .platforms import _storage

    storage = _storage(login.get_data(as_text=True))
    form = canvas.authorize(dict(parse_qsl(urlsplit(storage["next"]).query)))
    fresh = app.test_client()  # no cookies at all
    refused = fresh.post(form["launch_url"], data={"id_token": form["id_token"], "state": form["state"],
                                                   "lti_storage_binding": "guessed"})
    assert refused.status_code == 401
    assert "state_mismatch" in refused.get_data(as_text=True)


def test_moodle_launch_with_blocked_cookies_explains_the_new_window(client: Any, moodle: FakePlatform) -> None:
    result = run_launch(client, moodle, roles=LEARNER, cookies_blocked=True)
    assert result.status == 401
    assert "third-party cookies" in result.text and "new window" in result.text


# --- misc endpoints ---------------------------------------------------------------------------------


def test_healthz(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_pages_do_not_leak_launch_ids_through_referer(client: Any) -> None:
    assert client.get("/healthz").headers["Referrer-Policy"] == "same-origin"


def test_roles_claim_institution_and_system_roles_alone_give_no_access(client: Any, canvas: FakePlatform) -> None:
    result = run_launch(client, canvas, roles=[ROLE_INST_ADMIN, ROLE_SYS_ADMIN, ROLE_SYS_USER])
    assert result.status == 403
    assert "no_course_role" in result.text
