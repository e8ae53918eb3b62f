"""pylti1p3's outbound calls (JWKS, token, NRPS, AGS) go through httpx, with timeouts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import requests
from flask import Flask
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.service_connector import ServiceConnector

from lms_bridge.lti.http import RequestsShim, new_client

from .platforms import FakePlatform


def test_shim_answers_like_requests() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True}, headers={"Link": '<https://lms.test/p2>; rel="next"'})

    shim = RequestsShim(new_client(transport=httpx.MockTransport(handler)))
    got = shim.get("https://lms.test/members", headers={"Accept": "application/json"})
    assert got.ok and got.status_code == 200 and got.json() == {"ok": True}
    assert got.url == "https://lms.test/members" and "rel=" in got.headers["link"]
    shim.post("https://lms.test/token", data={"grant_type": "client_credentials"})
    shim.post("https://lms.test/scores", data='{"score": 1}', headers={"Content-Type": "application/json"})
    assert seen[1].content == b"grant_type=client_credentials"
    assert seen[2].content == b'{"score": 1}'
    assert seen[0].headers["User-Agent"].startswith("lms-bridge")


def test_shim_turns_httpx_errors_into_requests_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    shim = RequestsShim(new_client(transport=httpx.MockTransport(handler)))
    with pytest.raises(requests.exceptions.RequestException, match="ConnectTimeout"):
        shim.get("https://lms.test/jwks")


def test_clients_have_timeouts() -> None:
    client = new_client(timeout=7)
    assert client.timeout.read == 7 and client.timeout.connect == 5
    assert client.follow_redirects is False


def test_services_sign_with_the_active_tool_key_through_httpx(app: Flask, moodle: FakePlatform) -> None:
    """NRPS outside a launch (what a scheduled job does): token request then roster, via httpx."""
    import jwt

    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if request.url.path.endswith("/token.php"):
            return httpx.Response(200, json={"access_token": "t-1", "expires_in": 3600})
        return httpx.Response(200, json={"members": [{"user_id": "5", "roles": ["Learner"]}]})

    tool = app.extensions["lms_bridge.lti"]
    tool.set_http_transport(httpx.MockTransport(handler))
    registration = tool.conf().find_registration_by_params(moodle.issuer, moodle.client_id)
    connector = ServiceConnector(registration, requests_session=tool.requests_session())
    nrps = NamesRolesProvisioningService(connector, {"context_memberships_url": moodle.base_url + "/nrps"})
    assert [m["user_id"] for m in nrps.get_members()] == ["5"]
    form = dict(httpx.QueryParams(calls[0].content.decode()))
    assertion: dict[str, Any] = jwt.decode(form["client_assertion"], options={"verify_signature": False})
    assert assertion["iss"] == assertion["sub"] == moodle.client_id
    assert jwt.get_unverified_header(form["client_assertion"])["kid"] == tool.tool_keys.active().kid
    assert calls[1].headers["Authorization"] == "Bearer t-1"
