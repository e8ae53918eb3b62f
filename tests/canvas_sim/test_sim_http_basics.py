"""Auth, error shapes, SIS ids in paths, pagination and Link headers."""

from __future__ import annotations

import re

import httpx

from adapters.canvas.simulator import SimulatorServer

from .conftest import World


def _links(response: httpx.Response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers["Link"])}


def test_missing_or_bad_token_is_401_with_www_authenticate(server: SimulatorServer, world: World) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = httpx.get(f"{server.api_url}/courses/{world.course_id}", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="canvas-lms"'
        assert response.json() == {"status": "unauthenticated", "errors": [{"message": "user authorization required"}]}
    assert server.stats.snapshot()["unauthorized"] == 2


def test_unknown_records_and_paths_are_canvas_404s(client: httpx.Client, world: World) -> None:
    missing = {"errors": [{"message": "The specified resource does not exist."}]}
    for path in ("/courses/999", f"/courses/{world.course_id}/assignments/5", "/courses/101/no_such_thing"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == missing


def test_course_by_sis_id_in_the_path(client: httpx.Client, world: World) -> None:
    course = client.get("/courses/sis_course_id:CHEM-101").json()
    assert course["id"] == world.course_id
    assert course["time_zone"] == "Europe/London"
    assert client.get("/courses/sis_course_id:CHEM-101/sections").status_code == 200


def test_pages_follow_link_headers_to_the_end(client: httpx.Client, course_url: str) -> None:
    url: str | None = f"{course_url}/enrollments?type[]=StudentEnrollment&per_page=7"
    seen: list[int] = []
    pages = 0
    while url:
        response = client.get(url)
        links = _links(response)
        assert set(links) >= {"current", "first", "last"}
        assert "type%5B%5D=StudentEnrollment" in links["current"]  # the query survives
        seen += [e["user_id"] for e in response.json()]
        pages += 1
        url = links.get("next")
    assert pages == 4 and len(seen) == len(set(seen)) == 25
    assert "page=4" in links["last"]


def test_default_page_is_ten_and_per_page_is_clamped_to_100(client: httpx.Client, course_url: str, world: World) -> None:
    for n in range(120):
        world.sim.create_assignment(world.course_id, {"name": f"A{n}"})
    assert len(client.get(f"{course_url}/assignments").json()) == 10
    response = client.get(f"{course_url}/assignments", params={"per_page": 500})
    assert len(response.json()) == 100
    assert "per_page=100" in _links(response)["next"]
    assert len(client.get(f"{course_url}/assignments", params={"per_page": 0}).json()) == 1


def test_a_page_past_the_end_is_empty_not_404(client: httpx.Client, course_url: str) -> None:
    response = client.get(f"{course_url}/enrollments", params={"page": 50})
    assert response.status_code == 200 and response.json() == []


def test_enrollment_filters_and_nested_user(client: httpx.Client, course_url: str, world: World) -> None:
    rows = client.get(f"{course_url}/enrollments", params=[
        ("type[]", "StudentEnrollment"), ("sis_user_id[]", "s03"), ("sis_user_id[]", "s99"),
        ("state[]", "active"), ("state[]", "inactive")]).json()
    assert {(r["user"]["sis_user_id"], r["enrollment_state"]) for r in rows} == {("s03", "active"), ("s99", "inactive")}
    assert set(rows[0]["user"]) >= {"id", "name", "sis_user_id"}
    # Inactive enrolments are left out unless asked for.
    default = client.get(f"{course_url}/enrollments", params={"per_page": 100}).json()
    assert all(r["enrollment_state"] == "active" for r in default) and len(default) == 26


def test_users_by_enrollment_type(client: httpx.Client, course_url: str) -> None:
    teachers = client.get(f"{course_url}/users", params={"enrollment_type[]": "teacher"}).json()
    assert [t["sis_user_id"] for t in teachers] == ["t01"]
    students = client.get(f"{course_url}/search_users", params={"enrollment_type[]": "student", "per_page": 100}).json()
    assert len(students) == 25


def test_stats_endpoint_counts_by_route(client: httpx.Client, server: SimulatorServer, course_url: str) -> None:
    server.reset_stats()
    client.get(course_url)
    client.post(f"{course_url}/assignment_groups", data={"name": "Exams"})
    stats = httpx.get(f"{server.base_url}/__sim/stats").json()
    assert stats["total"] == 2 and stats["writes"] == 1
    assert stats["by_route"] == {"GET /api/v1/courses/<course_ref>": 1,
                                 "POST /api/v1/courses/<course_ref>/assignment_groups": 1}
