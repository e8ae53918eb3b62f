"""From verified id_token claims to a LaunchContext: platform, course, person and course roles.

Authorization comes from the *context membership* roles only: Instructor, its TeachingAssistant
sub-role, Administrator (of the course) and Learner. Institution and system roles
(``institution/person#Administrator``, ``system/person#User``, ...) are ignored, alone or not:
Canvas sends ``institution/person#Instructor`` to a teacher of any course even where they are a
student, and ``system/person#User`` to everybody.

On Canvas the custom field ``canvas_permissions`` (``$Canvas.membership.permissions<...>``) is a
second check: when Canvas sends it, a staff role counts only with one of STAFF_PERMISSIONS.
Permissions never grant a role; they can only withhold one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

from ..web.launch_context import LaunchContext, Role
from .errors import LaunchRejected

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
ROLES_CLAIM = CLAIM + "roles"
CONTEXT_CLAIM = CLAIM + "context"
CUSTOM_CLAIM = CLAIM + "custom"
LIS_CLAIM = CLAIM + "lis"
TOOL_PLATFORM_CLAIM = CLAIM + "tool_platform"
DEPLOYMENT_CLAIM = CLAIM + "deployment_id"
MESSAGE_TYPE_CLAIM = CLAIM + "message_type"
TARGET_LINK_CLAIM = CLAIM + "target_link_uri"
RESOURCE_LINK_CLAIM = CLAIM + "resource_link"
LAUNCH_PRESENTATION_CLAIM = CLAIM + "launch_presentation"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
CANVAS_PLACEMENT_CLAIM = "https://www.instructure.com/placement"

_MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"

# Custom fields lms_bridge asks each platform for (Canvas JSON / dynamic registration).
CANVAS_COURSE_FIELD = "canvas_course_id"  # $Canvas.course.id
CANVAS_API_DOMAIN_FIELD = "canvas_api_domain"  # $Canvas.api.domain
CANVAS_SIS_FIELD = "canvas_user_sisid"  # $Canvas.user.sisid
CANVAS_PERMISSIONS_FIELD = "canvas_permissions"  # $Canvas.membership.permissions<...>
MOODLE_COURSE_FIELD = "course_id"  # $Context.id
MOODLE_SIS_FIELD = "sis_user"  # $Person.sourcedId

# A Canvas staff role counts only with one of these course permissions (when Canvas sends them).
STAFF_PERMISSIONS = frozenset({"manage_assignments", "manage_assignments_add", "manage_assignments_edit"})
ASKED_PERMISSIONS = ("manage_assignments_add", "manage_assignments_edit", "manage_assignments_delete")

Platform = Literal["canvas", "moodle"]


def context_roles(role_uris: Any) -> frozenset[Role]:
    """The course roles named by the roles claim; everything but context membership roles is ignored.

    A TeachingAssistant also carries its principal role ``membership#Instructor`` (LIS requires
    the pair, and Canvas sends both): a TA is a TA, not an Instructor.
    """
    if not isinstance(role_uris, list):
        return frozenset()
    found: set[Role] = set()
    for uri in role_uris:
        if not isinstance(uri, str):
            continue
        role = _context_role(uri.strip())
        if role is not None:
            found.add(role)
    if Role.TEACHING_ASSISTANT in found:
        found.discard(Role.INSTRUCTOR)
    return frozenset(found)


def _context_role(uri: str) -> Role | None:
    # Short names are context roles by definition (deprecated in LTI 1.3 but allowed).
    if "/" not in uri and "#" not in uri:
        principal, sub = uri, None
    elif uri.startswith(_MEMBERSHIP + "#"):
        principal, sub = uri[len(_MEMBERSHIP) + 1 :], None
    elif uri.lower().startswith(_MEMBERSHIP.lower() + "/"):
        # Sub-role: membership/<Principal>#<Sub>; older Canvas wrote the principal in lower case.
        principal, _, sub = uri[len(_MEMBERSHIP) + 1 :].partition("#")
    else:
        return None  # institution, system, LTI system roles, or unknown vocabularies
    principal = principal.lower()
    if principal == "instructor":
        return Role.TEACHING_ASSISTANT if (sub or "").lower() == "teachingassistant" else Role.INSTRUCTOR
    if principal == "teachingassistant" and sub is None:
        return Role.TEACHING_ASSISTANT
    if principal == "administrator":
        return Role.ADMINISTRATOR
    if principal == "learner":
        return Role.LEARNER
    return None  # ContentDeveloper, Mentor, Member, Manager, Officer: no access to this tool


def canvas_permissions(value: Any) -> frozenset[str] | None:
    """The permissions Canvas expanded into the custom field, or None if it was not expanded."""
    if not isinstance(value, str) or value.startswith("$"):
        return None
    return frozenset(p.strip() for p in value.split(",") if p.strip())


def _text(value: Any) -> str | None:
    """A custom or LIS value, or None when empty or left unexpanded by the platform ($Var)."""
    if value is None:
        return None
    value = str(value).strip()
    if not value or value.startswith("$"):
        return None
    return value


def detect_platform(claims: Mapping[str, Any], configured: str | None) -> Platform:
    if configured in ("canvas", "moodle"):
        return cast(Platform, configured)
    family = (claims.get(TOOL_PLATFORM_CLAIM) or {}).get("product_family_code")
    if family in ("canvas", "moodle"):
        return cast(Platform, family)
    raise LaunchRejected(
        "This LMS did not say whether it is Canvas or Moodle, and its registration does not say "
        "either. An administrator can set it with `lms-bridge lti add-platform --platform`.",
        code="unknown_platform",
        status=400,
    )


def build_launch_context(
    claims: Mapping[str, Any], *, launch_id: str, client_id: str, configured_platform: str | None
) -> LaunchContext:
    """The LaunchContext of a verified launch (claims already checked for signature and dates)."""
    platform = detect_platform(claims, configured_platform)
    context = claims.get(CONTEXT_CLAIM) or {}
    custom = claims.get(CUSTOM_CLAIM) or {}
    lis = claims.get(LIS_CLAIM) or {}
    if not isinstance(context, Mapping) or not _text(context.get("id")):
        raise LaunchRejected(
            "The launch did not come from a course (no context claim). Open the tool from a course.",
            code="no_context",
            status=400,
        )
    if not isinstance(custom, Mapping):
        custom = {}
    if not isinstance(lis, Mapping):
        lis = {}
    context_id = str(context["id"])
    roles = context_roles(claims.get(ROLES_CLAIM))
    permissions: frozenset[str] = frozenset()

    if platform == "canvas":
        course_id = _text(custom.get(CANVAS_COURSE_FIELD))
        if course_id is None:
            raise LaunchRejected(
                "Canvas did not send the course id. The tool's developer key needs the custom field "
                f"{CANVAS_COURSE_FIELD}=$Canvas.course.id (see /lti/setup).",
                code="no_course_id",
                status=400,
            )
        student_id = _text(custom.get(CANVAS_SIS_FIELD)) or _text(lis.get("person_sourcedid"))
        granted = canvas_permissions(custom.get(CANVAS_PERMISSIONS_FIELD))
        if granted is not None:
            permissions = granted
            if not granted & STAFF_PERMISSIONS:
                roles = roles - {Role.INSTRUCTOR, Role.TEACHING_ASSISTANT, Role.ADMINISTRATOR}
    else:
        # Moodle: context.id is the numeric course id (custom course_id=$Context.id says the same).
        course_id = _text(custom.get(MOODLE_COURSE_FIELD)) or context_id
        student_id = _text(lis.get("person_sourcedid")) or _text(custom.get(MOODLE_SIS_FIELD))

    if not roles:
        raise LaunchRejected(
            "Your role in this course does not give access to this tool. It is for the course's "
            "teachers, teaching assistants and students.",
            code="no_course_role",
            status=403,
        )
    name = _text(claims.get("name")) or " ".join(
        p for p in (_text(claims.get("given_name")), _text(claims.get("family_name"))) if p
    )
    resource_link = claims.get(RESOURCE_LINK_CLAIM) or {}
    presentation = claims.get(LAUNCH_PRESENTATION_CLAIM) or {}
    nrps = claims.get(NRPS_CLAIM) or {}
    placement = claims.get(CANVAS_PLACEMENT_CLAIM)
    return LaunchContext(
        launch_id=launch_id,
        issuer=str(claims["iss"]),
        client_id=client_id,
        deployment_id=str(claims.get(DEPLOYMENT_CLAIM)),
        platform=platform,
        course=f"{platform}:{course_id}",
        context_id=context_id,
        context_title=_text(context.get("title")) or _text(context.get("label")) or "",
        user_sub=str(claims["sub"]),
        student_id=student_id,
        name=name,
        roles=roles,
        permissions=permissions,
        api_domain=_text(custom.get(CANVAS_API_DOMAIN_FIELD)) if platform == "canvas" else None,
        resource_link_id=_text(resource_link.get("id")) if isinstance(resource_link, Mapping) else None,
        placement=_text(placement) if platform == "canvas" else None,
        return_url=_text(presentation.get("return_url")) if isinstance(presentation, Mapping) else None,
        memberships_url=_text(nrps.get("context_memberships_url")) if isinstance(nrps, Mapping) else None,
    )
