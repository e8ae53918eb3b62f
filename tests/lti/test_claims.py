"""Roles and LaunchContext from claims (pure), settings, and the state store's record formats."""

from __future__ import annotations

from typing import Any

import pytest

from lms_bridge.lti.claims import build_launch_context, canvas_permissions, context_roles
from lms_bridge.lti.errors import LaunchRejected
from lms_bridge.lti.state import context_from_json, context_to_json
from lms_bridge.lti.tool import LtiSettings
from lms_bridge.web.launch_context import Role

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.mark.parametrize(
    ("uris", "roles"),
    [
        ([LIS + "membership#Instructor"], {Role.INSTRUCTOR}),
        ([LIS + "membership#Learner"], {Role.LEARNER}),
        ([LIS + "membership#Administrator"], {Role.ADMINISTRATOR}),
        ([LIS + "membership/Instructor#TeachingAssistant", LIS + "membership#Instructor"], {Role.TEACHING_ASSISTANT}),
        ([LIS + "membership/instructor#TeachingAssistant"], {Role.TEACHING_ASSISTANT}),  # old Canvas spelling
        (["Instructor"], {Role.INSTRUCTOR}),  # short context role names (deprecated, allowed)
        (["Learner", "TeachingAssistant"], {Role.LEARNER, Role.TEACHING_ASSISTANT}),
        ([LIS + "membership/Learner#Learner"], {Role.LEARNER}),
        ([LIS + "system/person#User"], set()),
        ([LIS + "system/person#Administrator", LIS + "system/person#SysAdmin"], set()),
        ([LIS + "institution/person#Administrator", LIS + "institution/person#Instructor"], set()),
        ([LIS + "institution/person#Student", LIS + "membership#Learner"], {Role.LEARNER}),
        ([LIS + "membership#ContentDeveloper", LIS + "membership#Mentor"], set()),
        (["http://purl.imsglobal.org/vocab/lti/system/person#TestUser", LIS + "membership#Learner"], {Role.LEARNER}),
        ([], set()),
        ("not-a-list", set()),
        ([None, 3, LIS + "membership#Learner"], {Role.LEARNER}),
    ],
)
def test_context_roles(uris: Any, roles: set[Role]) -> None:
    assert context_roles(uris) == roles


def test_canvas_permissions() -> None:
    assert canvas_permissions("manage_assignments_add,read_roster") == {"manage_assignments_add", "read_roster"}
    assert canvas_permissions("") == frozenset()
    assert canvas_permissions("$Canvas.membership.permissions<manage_assignments_add>") is None
    assert canvas_permissions(None) is None


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": "https://moodle.test",
        "sub": "5",
        "name": "",
        "given_name": "Stu",
        "family_name": "Dent",
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "1",
        "https://purl.imsglobal.org/spec/lti/claim/roles": [LIS + "membership#Learner"],
        "https://purl.imsglobal.org/spec/lti/claim/context": {"id": "2", "label": "C101", "title": "Course 101"},
        "https://purl.imsglobal.org/spec/lti/claim/lis": {"person_sourcedid": "s1"},
        "https://purl.imsglobal.org/spec/lti/claim/tool_platform": {"product_family_code": "moodle"},
    }
    base.update(overrides)
    return base


def test_moodle_context() -> None:
    context = build_launch_context(claims(), launch_id="L", client_id="c", configured_platform=None)
    assert (context.course, context.student_id, context.name) == ("moodle:2", "s1", "Stu Dent")


def test_configured_platform_wins_and_unknown_platform_is_refused() -> None:
    no_family = claims(**{"https://purl.imsglobal.org/spec/lti/claim/tool_platform": {}})
    assert build_launch_context(no_family, launch_id="L", client_id="c", configured_platform="moodle").platform == "moodle"
    with pytest.raises(LaunchRejected) as refused:
        build_launch_context(no_family, launch_id="L", client_id="c", configured_platform=None)
    assert refused.value.code == "unknown_platform" and refused.value.status == 400


def test_a_launch_outside_a_course_is_refused() -> None:
    without = claims(**{"https://purl.imsglobal.org/spec/lti/claim/context": None})
    with pytest.raises(LaunchRejected) as refused:
        build_launch_context(without, launch_id="L", client_id="c", configured_platform=None)
    assert refused.value.code == "no_context"


def test_launch_context_round_trips_through_json() -> None:
    context = build_launch_context(
        claims(**{"https://purl.imsglobal.org/spec/lti/claim/roles": [LIS + "membership#Instructor"]}),
        launch_id="L", client_id="c", configured_platform=None,
    )
    assert context_from_json(context_to_json(context)) == context


def test_settings_from_config() -> None:
    settings = LtiSettings.from_config({"LTI_LEEWAY": 30, "LTI_LAUNCH_TTL": 60, "OTHER": 1})
    assert (settings.leeway, settings.launch_ttl, settings.max_token_age) == (30, 60, 600)
    assert settings.nonce_ttl == 600 + 60
    with pytest.raises(ValueError, match="LTI_DYNAMIC_REGISTRATION"):
        LtiSettings.from_config({"LTI_DYNAMIC_REGISTRATION": "sometimes"})
    with pytest.raises(ValueError, match="LTI_LEEWAY"):
        LtiSettings.from_config({"LTI_LEEWAY": 3600})


# --- id_token.verify -------------------------------------------------------------------------------

from lms_bridge.lti import id_token  # noqa: E402
from lms_bridge.lti.keys import new_key_pair  # noqa: E402

_KID, _PRIVATE, _PUBLIC = new_key_pair()


def _token(**claims: Any) -> str:
    import jwt

    base = {"iss": "https://lms.test", "aud": "client", "sub": "1", "nonce": "n", "iat": 1000, "exp": 1060}
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, _PRIVATE, algorithm="RS256",
                      headers={"kid": _KID})


def _verify(token: str, now: float = 1010, **kwargs: Any) -> dict[str, Any]:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    options = {"issuer": "https://lms.test", "client_id": "client", "leeway": 60, "max_age": 600, "now": now}
    options.update(kwargs)
    return id_token.verify(token, load_pem_public_key(_PUBLIC.encode()), "RS256", **options)


@pytest.mark.parametrize(
    ("claims", "now", "code"),
    [
        ({}, 1010, None),
        ({"exp": 1000}, 1061, "expired"),  # past exp + leeway
        ({"exp": 1000}, 1059, None),  # within leeway
        ({"iat": 1100, "exp": 1200}, 1010, "issued_in_future"),  # iat 90 s ahead
        ({"nbf": 1100}, 1010, "issued_in_future"),
        ({"iat": 100, "exp": 5000}, 1010, "expired"),  # older than max_age
        ({"exp": "soon"}, 1010, "invalid_token"),
        ({"exp": True}, 1010, "invalid_token"),
        ({"nonce": None}, 1010, "missing_claim"),
        ({"sub": ""}, 1010, "missing_claim"),
        ({"iss": "https://other.test"}, 1010, "wrong_issuer"),
        ({"aud": "someone"}, 1010, "wrong_audience"),
        ({"aud": ["client", "x"]}, 1010, "wrong_audience"),  # several audiences, no azp
        ({"aud": ["client", "x"], "azp": "client"}, 1010, None),
        ({"azp": "x"}, 1010, "wrong_audience"),
    ],
)
def test_verify_claims(claims: dict[str, Any], now: float, code: str | None) -> None:
    if code is None:
        assert _verify(_token(**claims), now)["sub"] == "1"
    else:
        with pytest.raises(LaunchRejected) as refused:
            _verify(_token(**claims), now)
        assert refused.value.code == code


def test_verify_refuses_alterations() -> None:
    token = _token()
    head, body, signature = token.split(".")
    with pytest.raises(LaunchRejected) as refused:
        _verify(f"{head}.{body}x.{signature}")
    assert refused.value.code in ("bad_signature", "malformed_token")
    with pytest.raises(LaunchRejected) as refused:
        _verify(f"{head}.{body}.{signature}!")
    assert refused.value.code == "malformed_token"
    with pytest.raises(LaunchRejected) as refused:
        _verify("only.two")
    assert refused.value.code == "malformed_token"
