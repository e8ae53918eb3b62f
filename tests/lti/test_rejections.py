"""Every refused launch is a clear 4xx HTML page naming the reason, and leaks no token."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from .platforms import (
    INSTRUCTOR,
    LEARNER,
    TOOL,
    FakePlatform,
    LaunchResult,
    _spec,
    launch,
    make_app,
    new_rsa_keypair,
    register,
    run_launch,
)


def assert_refused(result: LaunchResult | Any, status: int, code: str) -> None:
    response = result.response if isinstance(result, LaunchResult) else result
    text = response.get_data(as_text=True)
    assert response.status_code == status, text[:800]
    assert response.mimetype == "text/html"
    assert code in text, text[:800]
    assert "<h1>" in text  # a page a person can read, not a stack trace
    if isinstance(result, LaunchResult) and result.form and result.form["id_token"]:
        assert result.form["id_token"][:40] not in text  # never echo the token
    assert "launch=" not in response.headers.get("Location", "")


def test_forged_signature(client: Any, moodle: FakePlatform) -> None:
    forger_key, _ = new_rsa_keypair()  # same kid, another key
    result = run_launch(client, moodle, roles=LEARNER, sign_with=forger_key)
    assert_refused(result, 401, "bad_signature")


def test_tampered_claims(client: Any, canvas: FakePlatform) -> None:
    def promote(form: dict[str, str]) -> dict[str, str]:
        head, body, signature = form["id_token"].split(".")
        claims = json.loads(base64.urlsafe_b64decode(body + "=="))
        claims["https://purl.imsglobal.org/spec/lti/claim/roles"] = [
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
        ]
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        return {**form, "id_token": f"{head}.{body}.{signature}"}

    assert_refused(run_launch(client, canvas, roles=LEARNER, tamper_form=promote), 401, "bad_signature")


def test_expired_token(client: Any, moodle: FakePlatform) -> None:
    def expired(claims: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        return {**claims, "iat": now - 400, "exp": now - 300}

    assert_refused(run_launch(client, moodle, mutate=expired), 401, "expired")


def test_token_too_old_even_if_not_expired(client: Any, canvas: FakePlatform) -> None:
    def old(claims: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        return {**claims, "iat": now - 3000, "exp": now + 600}

    assert_refused(run_launch(client, canvas, mutate=old), 401, "expired")


def test_iat_in_the_future_beyond_leeway(client: Any, moodle: FakePlatform) -> None:
    moodle.clock_offset = 120  # the LMS's clock is 2 minutes ahead; leeway is 60 s
    assert_refused(run_launch(client, moodle), 401, "issued_in_future")


def test_iat_in_the_future_within_leeway_is_accepted(client: Any, moodle: FakePlatform) -> None:
    moodle.clock_offset = 30  # stock pylti1p3 (leeway 0) refuses this
    assert run_launch(client, moodle).status == 303


def test_missing_exp(client: Any, moodle: FakePlatform) -> None:
    def no_exp(claims: dict[str, Any]) -> dict[str, Any]:
        claims.pop("exp")
        return claims

    assert_refused(run_launch(client, moodle, mutate=no_exp), 401, "missing_claim")


def test_missing_iat(client: Any, moodle: FakePlatform) -> None:
    def no_iat(claims: dict[str, Any]) -> dict[str, Any]:
        claims.pop("iat")
        return claims

    assert_refused(run_launch(client, moodle, mutate=no_iat), 401, "missing_claim")


def test_wrong_audience(client: Any, canvas: FakePlatform) -> None:
    result = run_launch(client, canvas, mutate=lambda c: {**c, "aud": "10000000000099", "azp": "10000000000099"})
    assert_refused(result, 401, "wrong_audience")


def test_several_audiences_need_azp_naming_this_tool(client: Any, canvas: FakePlatform) -> None:
    both = ["someone-else", canvas.client_id]
    refused = run_launch(client, canvas, mutate=lambda c: {**{k: v for k, v in c.items() if k != "azp"}, "aud": both})
    assert_refused(refused, 401, "wrong_audience")
    wrong_azp = run_launch(client, canvas, mutate=lambda c: {**c, "aud": both, "azp": "someone-else"})
    assert_refused(wrong_azp, 401, "wrong_audience")
    accepted = run_launch(client, canvas, mutate=lambda c: {**c, "aud": both, "azp": canvas.client_id})
    assert accepted.status == 303, accepted.text  # stock pylti1p3 takes aud[0] and refuses this


def test_wrong_issuer(client: Any, moodle: FakePlatform) -> None:
    assert_refused(run_launch(client, moodle, mutate=lambda c: {**c, "iss": "https://evil.test"}), 401, "wrong_issuer")


def test_token_from_another_registered_platform_for_this_login(app: Flask, client: Any, moodle: FakePlatform,
                                                             canvas: FakePlatform) -> None:
    # A genuine Canvas token posted against a Moodle login's state.
    canvas_result = run_launch(app.test_client(), canvas)
    assert canvas_result.status == 303
    params = moodle.initiate_login(_spec(moodle, roles=LEARNER, user_id="5", course_id="2"))
    client.set_cookie("lms_bridge_cc", "1", domain="tool.test")
    login = client.post(moodle.login_url, data=params)
    from urllib.parse import parse_qsl, urlsplit

    state = dict(parse_qsl(urlsplit(login.headers["Location"]).query))["state"]
    response = client.post(f"{TOOL}/lti/launch", data={"id_token": canvas_result.form["id_token"], "state": state})
    assert_refused(response, 401, "bad_nonce")


def test_unknown_deployment_where_not_allowed(client: Any, moodle: FakePlatform) -> None:
    moodle.deployment_id = "7"
    assert_refused(run_launch(client, moodle), 403, "unknown_deployment")


def test_unknown_deployment_is_recorded_where_the_registration_allows_it(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    canvas = FakePlatform.canvas()
    register(app, canvas, deployments=[], accept_new_deployments=True)
    launch(app.test_client(), canvas)
    from lms_bridge.store.registry import get_lti_platform

    with app.extensions["lms_bridge.sessions"]() as session:
        platform = get_lti_platform(session, canvas.issuer, canvas.client_id)
    assert platform.registration.deployment_ids == (canvas.deployment_id,)
    launch(app.test_client(), canvas)  # and the next launch finds it


def test_replayed_nonce_same_browser(client: Any, moodle: FakePlatform) -> None:
    result = run_launch(client, moodle)
    assert result.status == 303
    again = client.post(result.form["launch_url"], data={"id_token": result.form["id_token"],
                                                         "state": result.form["state"]})
    assert_refused(again, 401, "replay")  # stock pylti1p3 accepts this (its nonce is never used up)


def test_a_captured_token_under_another_login_is_refused(app: Flask, client: Any, moodle: FakePlatform) -> None:
    """A token replayed with a fresh login's state and cookie: its nonce is not that login's."""
    first = run_launch(client, moodle)
    assert first.status == 303
    params = moodle.initiate_login(_spec(moodle, roles=LEARNER, user_id="5", course_id="2"))
    login = client.post(moodle.login_url, data=params)
    from urllib.parse import parse_qsl, urlsplit

    state = dict(parse_qsl(urlsplit(login.headers["Location"]).query))["state"]
    response = client.post(f"{TOOL}/lti/launch", data={"id_token": first.form["id_token"], "state": state})
    assert_refused(response, 401, "bad_nonce")


def test_an_expired_login_state_is_refused(app: Flask, client: Any, moodle: FakePlatform) -> None:
    tool = app.extensions["lms_bridge.lti"]
    old = "state-" + tool.states.issue(issuer=moodle.issuer, client_id=moodle.client_id, ttl=600, now=0)
    client.set_cookie(f"lti1p3-{old}", old, domain="tool.test")
    response = client.post(f"{TOOL}/lti/launch", data={"id_token": "a.b.c", "state": old})
    assert_refused(response, 401, "unknown_state")


def test_a_state_signed_with_another_key_is_refused(client: Any, moodle: FakePlatform) -> None:
    from lms_bridge.lti.login_state import StateSigner

    forged = "state-" + StateSigner("not-the-server-key").issue(issuer=moodle.issuer, client_id=moodle.client_id,
                                                                ttl=600)
    client.set_cookie(f"lti1p3-{forged}", forged, domain="tool.test")
    response = client.post(f"{TOOL}/lti/launch", data={"id_token": "a.b.c", "state": forged})
    assert_refused(response, 401, "unknown_state")


def test_missing_state(client: Any, moodle: FakePlatform) -> None:
    result = run_launch(client, moodle, tamper_form=lambda f: {**f, "state": ""})
    assert_refused(result, 400, "missing_state")


def test_unknown_state(client: Any, moodle: FakePlatform) -> None:
    result = run_launch(client, moodle, tamper_form=lambda f: {**f, "state": "state-made-up"})
    assert_refused(result, 401, "unknown_state")


def test_missing_id_token(client: Any, moodle: FakePlatform) -> None:
    result = run_launch(client, moodle, tamper_form=lambda f: {**f, "id_token": ""})
    assert_refused(result, 400, "missing_id_token")


def test_malformed_id_token(client: Any, moodle: FakePlatform) -> None:
    result = run_launch(client, moodle, tamper_form=lambda f: {**f, "id_token": "not.a-jwt"})
    assert_refused(result, 400, "malformed_token")


def test_signed_with_a_key_the_lms_does_not_publish(client: Any, moodle: FakePlatform) -> None:
    forger_key, _ = new_rsa_keypair()
    assert_refused(run_launch(client, moodle, sign_with=forger_key, kid="made-up-kid"), 401, "unknown_kid")


def test_hs256_token_is_refused(client: Any, moodle: FakePlatform) -> None:
    def hs256(form: dict[str, str]) -> dict[str, str]:
        import jwt

        claims = jwt.decode(form["id_token"], options={"verify_signature": False})
        token = jwt.encode(claims, "a-shared-secret-of-at-least-32-bytes!!", algorithm="HS256",
                           headers={"kid": moodle.kid})
        return {**form, "id_token": token}

    assert_refused(run_launch(client, moodle, tamper_form=hs256), 401, "bad_alg")


def test_deep_linking_is_not_offered(client: Any, canvas: FakePlatform) -> None:
    result = run_launch(client, canvas, message_type="LtiDeepLinkingRequest", placement="link_selection")
    assert_refused(result, 400, "unsupported_message")


def test_canvas_without_the_course_id_field(client: Any, canvas: FakePlatform) -> None:
    result = run_launch(client, canvas, custom={"canvas_course_id": "$Canvas.course.id"})
    assert_refused(result, 400, "no_course_id")


def test_target_link_uri_of_another_site(client: Any, moodle: FakePlatform) -> None:
    claim = "https://purl.imsglobal.org/spec/lti/claim/target_link_uri"
    result = run_launch(client, moodle, mutate=lambda c: {**c, claim: "https://elsewhere.test/lti/launch"})
    assert_refused(result, 401, "target_mismatch")


def test_unknown_platform_at_login(client: Any) -> None:
    response = client.post(f"{TOOL}/lti/login", data={"iss": "https://unknown.test", "login_hint": "1",
                                                      "client_id": "x", "target_link_uri": f"{TOOL}/lti/launch"})
    assert_refused(response, 400, "unknown_platform")
    assert "https://unknown.test" in response.get_data(as_text=True)


def test_login_without_iss(client: Any) -> None:
    assert_refused(client.get(f"{TOOL}/lti/login?login_hint=1"), 400, "missing_iss")


def test_learner_on_a_staff_route_gets_403_and_no_data(app: Flask, client: Any, canvas: FakePlatform) -> None:
    learner = launch(client, canvas, roles=LEARNER, student_id="s1")
    for path in ["/course/", "/course/plan", "/course/exams/new", "/course/exams/E1/"]:
        response = app.test_client().get(f"{TOOL}{path}?launch={learner}")
        assert response.status_code == 403, path
        assert "staff" in response.get_data(as_text=True).lower()
    post = app.test_client().post(f"{TOOL}/course/apply?launch={learner}", data={"launch": learner})
    assert post.status_code in (400, 403)  # refused before any view runs


def test_missing_csrf_token_is_refused(app: Flask, client: Any, canvas: FakePlatform) -> None:
    staff = launch(client, canvas, roles=INSTRUCTOR)
    response = app.test_client().post(f"{TOOL}/course/exams/new?launch={staff}", data={"launch": staff})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    from lms_bridge.web.session import csrf_token_for

    with app.test_request_context():
        token = csrf_token_for(staff)
    wrong = app.test_client().post(f"{TOOL}/course/exams/new?launch={staff}",
                                   data={"launch": staff, "csrf_token": token[::-1]})
    assert wrong.status_code == 403
    accepted = app.test_client().post(f"{TOOL}/course/exams/new?launch={staff}",
                                      data={"launch": staff, "csrf_token": token})
    assert accepted.status_code not in (400, 403) or "security token" not in accepted.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/lti/launch"])
def test_launch_only_accepts_post(client: Any, path: str) -> None:
    assert client.get(f"{TOOL}{path}").status_code == 405
