"""One web-service call: who is calling, with which capabilities, against which Moodle."""

from __future__ import annotations

from dataclasses import dataclass

from .config import CAP_COURSE_VIEW, SimulatorConfig
from .errors import require_login, required_capability
from .records import Account, Course, User
from .state import MoodleSimulator


@dataclass
class Call:
    sim: MoodleSimulator
    account: Account
    wwwroot: str
    function: str

    @property
    def config(self) -> SimulatorConfig:
        return self.sim.config

    @property
    def user(self) -> User:
        return self.sim.users[self.account.userid]

    def can(self, capability: str) -> bool:
        return capability in self.account.capabilities

    def require(self, capability: str) -> None:
        """require_capability(): `required_capability_exception` (nopermissions) when missing."""
        if not self.can(capability):
            raise required_capability(capability)

    def enrolled(self, courseid: int) -> bool:
        return self.sim.is_enrolled(courseid, self.account.userid, active_only=True)

    def validate_course(self, course: Course) -> None:
        """validate_context() on a course: enrolled, or allowed to view courses without participation."""
        if not (self.enrolled(course.id) or self.can(CAP_COURSE_VIEW)):
            raise require_login()

    def url(self, path: str) -> str:
        return self.wwwroot + path

    def icon(self, component: str, name: str = "monologo") -> str:
        return f"{self.wwwroot}/theme/image.php/boost/{component}/{self.config.theme_rev}/{name}?filtericon=1"
