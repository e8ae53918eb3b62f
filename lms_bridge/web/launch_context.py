"""What a page knows about the person in front of it: one verified LTI launch.

The LTI layer (lms_bridge.lti) builds a LaunchContext from a verified id_token and keeps it
server-side under a launch id; pages only ever see this record, never the raw claims.
Roles come from the context membership claim only (never system or institution roles alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal


class Role(str, Enum):
    INSTRUCTOR = "Instructor"
    TEACHING_ASSISTANT = "TeachingAssistant"
    ADMINISTRATOR = "Administrator"
    LEARNER = "Learner"


STAFF_ROLES = frozenset({Role.INSTRUCTOR, Role.TEACHING_ASSISTANT, Role.ADMINISTRATOR})


@dataclass(frozen=True, slots=True)
class LaunchContext:
    launch_id: str
    issuer: str
    client_id: str
    deployment_id: str
    platform: Literal["canvas", "moodle"]
    # As the timetable's `course` column writes it: "canvas:1234" or "moodle:7".
    course: str
    context_id: str
    context_title: str
    user_sub: str
    # The institution's student number (Canvas sis_user_id / Moodle idnumber), when the platform sends it.
    student_id: str | None
    name: str
    roles: frozenset[Role]
    # Canvas's course permissions custom field, parsed; empty elsewhere.
    permissions: frozenset[str] = frozenset()
    # Added by the LTI layer (all optional):
    # Canvas's $Canvas.api.domain: which Canvas to call for this course (e.g. "school.instructure.com").
    api_domain: str | None = None
    # The resource link (Canvas placement or Moodle activity) the person launched from.
    resource_link_id: str | None = None
    # Canvas's placement claim ("course_navigation", "assignment_menu"), None elsewhere.
    placement: str | None = None
    # Where the LMS wants the person sent back (launch_presentation.return_url).
    return_url: str | None = None
    # The course roster service (LTI NRPS context_memberships_url), when the platform offers it.
    memberships_url: str | None = None

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)
