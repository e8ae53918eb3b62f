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
