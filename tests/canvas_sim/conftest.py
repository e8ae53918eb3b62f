"""Fixtures for the Canvas simulator tests: a live server on a free port and an httpx client.

Every test talks real HTTP to `SimulatorServer`; `server.sim` is the state behind it, used to
arrange data and to check what a request wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import pytest

from adapters.canvas.simulator import CanvasSimulator, SimulatorConfig, SimulatorServer
from adapters.canvas.simulator.records import TEACHER

COURSE_ID = 101


@dataclass
class World:
    """One course, a teacher, 25 active students (s01..s25), one inactive, two sections."""

    server: SimulatorServer
    course_id: int
    students: list[int]
    inactive: int
    teacher: int
    outsider: int  # a student of another course
    sections: list[int]

    @property
    def sim(self) -> CanvasSimulator:
        return self.server.sim


def build_world(server: SimulatorServer) -> World:
    sim = server.sim
    course = sim.create_course("Chemistry 101", id=COURSE_ID, sis_course_id="CHEM-101")
    sections = [sim.create_section(course.id, "Lab A").id, sim.create_section(course.id, "Lab B").id]
    students = []
    for n in range(1, 26):
        user = sim.create_user(f"Student {n:02d}", f"s{n:02d}")
        sim.enroll(course.id, user.id, section_id=sections[n % 2])
        students.append(user.id)
    inactive = sim.create_user("Dropped Out", "s99")
    sim.enroll(course.id, inactive.id, state="inactive")
    teacher = sim.create_user("Tess Teacher", "t01")
    sim.enroll(course.id, teacher.id, TEACHER)
    other = sim.create_course("Other", id=202)
    outsider = sim.create_user("Out Sider", "x01")
    sim.enroll(other.id, outsider.id)
    return World(server, course.id, students, inactive.id, teacher.id, outsider.id, sections)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def form(pairs: list[tuple[str, str]]) -> str:
    """A form body with repeated keys kept in order (Rails' `a[][k]` grouping depends on it;
    httpx's `data=`/`params=` group repeated keys together)."""
    return urlencode(pairs)


@pytest.fixture
def config() -> SimulatorConfig:
    return SimulatorConfig()


@pytest.fixture
def server(config: SimulatorConfig) -> Iterator[SimulatorServer]:
    with SimulatorServer(config) as running:
        yield running


@pytest.fixture
def world(server: SimulatorServer) -> World:
    return build_world(server)


@pytest.fixture
def client(server: SimulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.api_url, headers={"Authorization": f"Bearer {server.token}"},
                      timeout=5.0) as http:
        yield http


@pytest.fixture
def course_url(world: World) -> str:
    return f"/courses/{world.course_id}"
