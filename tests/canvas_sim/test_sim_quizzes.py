"""Classic Quizzes (assignment, overrides, extensions) and New Quizzes (publish, accommodations)."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import World


def _quiz(client: httpx.Client, course_url: str, **fields: Any) -> dict[str, Any]:
    body = {"quiz": {"title": "Thermo exam", "quiz_type": "assignment", "time_limit": 60,
                     "due_at": "2026-05-21T10:00:00Z", "lock_at": "2026-05-21T10:00:00Z", **fields}}
    response = client.post(f"{course_url}/quizzes", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def test_graded_quiz_has_an_assignment_carrying_its_overrides(client: httpx.Client, course_url: str, world: World) -> None:
    quiz = _quiz(client, course_url, access_code="x1", ip_filter="10.0.0.0/8", published=False)
    assert quiz["time_limit"] == 60 and quiz["access_code"] == "x1" and quiz["published"] is False
    aid = quiz["assignment_id"]
    assignment = client.get(f"{course_url}/assignments/{aid}", params={"override_assignment_dates": "false"}).json()
    assert assignment["quiz_id"] == quiz["id"] and assignment["submission_types"] == ["online_quiz"]
    assert assignment["due_at"] == quiz["due_at"]
    override = client.post(f"{course_url}/assignments/{aid}/overrides", json={"assignment_override": {
        "title": "+50%", "student_ids": [world.students[0]], "lock_at": "2026-05-21T10:30:00Z"}}).json()
    assert override["quiz_id"] == quiz["id"]
    details = client.get(f"{course_url}/quizzes/{quiz['id']}/date_details").json()
    assert [o["id"] for o in details["overrides"]] == [override["id"]]
    client.put(f"{course_url}/quizzes/{quiz['id']}", json={"quiz": {"published": True}})
    assert world.sim.get_assignment(world.course_id, aid).published is True
    practice = _quiz(client, course_url, title="Mock", quiz_type="practice_quiz")
    assert practice["assignment_id"] is None


def test_quiz_date_details_put_reconciles_on_the_quiz(client: httpx.Client, course_url: str, world: World) -> None:
    quiz = _quiz(client, course_url)
    response = client.put(f"{course_url}/quizzes/{quiz['id']}/date_details", json={
        "lock_at": "2026-05-21T11:00:00Z", "assignment_overrides": [
            {"title": "+25%", "student_ids": [world.students[1]], "lock_at": "2026-05-21T11:15:00Z"}]})
    assert response.status_code == 204
    assert client.get(f"{course_url}/quizzes/{quiz['id']}").json()["lock_at"] == "2026-05-21T11:00:00Z"
    overrides = client.get(f"{course_url}/assignments/{quiz['assignment_id']}/overrides").json()
    assert [o["student_ids"] for o in overrides] == [[world.students[1]]]


def test_quiz_fancy_midnight(client: httpx.Client, course_url: str) -> None:
    quiz = _quiz(client, course_url, due_at="2026-01-10T00:00:00Z", lock_at="2026-01-10T00:00:00Z")
    assert quiz["due_at"] == quiz["lock_at"] == "2026-01-10T23:59:59Z"


def test_extensions_are_set_and_clamped(client: httpx.Client, course_url: str, world: World) -> None:
    quiz = _quiz(client, course_url)
    s1, s2 = world.students[:2]
    url = f"{course_url}/quizzes/{quiz['id']}/extensions"
    first = client.post(url, json={"quiz_extensions": [{"user_id": s1, "extra_time": 30},
                                                       {"user_id": s2, "extra_time": 99999, "extra_attempts": -5000}]})
    assert first.status_code == 200
    rows = {e["user_id"]: e for e in first.json()["quiz_extensions"]}
    assert rows[s1]["extra_time"] == 30
    assert rows[s2]["extra_time"] == 10080 and rows[s2]["extra_attempts"] == 1000
    # Sent again: set, not added. Form encoding works too.
    again = client.post(url, data={"quiz_extensions[][user_id]": str(s1), "quiz_extensions[][extra_time]": "30"})
    assert again.json()["quiz_extensions"][0]["extra_time"] == 30
    submissions = client.get(f"{course_url}/quizzes/{quiz['id']}/submissions").json()["quiz_submissions"]
    assert {(r["user_id"], r["extra_time"], r["workflow_state"]) for r in submissions} == {
        (s1, 30, "settings_only"), (s2, 10080, "settings_only")}


def test_one_non_student_fails_the_whole_extension_request(client: httpx.Client, course_url: str, world: World) -> None:
    quiz = _quiz(client, course_url)
    for stranger in (world.outsider, world.teacher, world.inactive, 424242):
        response = client.post(f"{course_url}/quizzes/{quiz['id']}/extensions", json={"quiz_extensions": [
            {"user_id": world.students[0], "extra_time": 15}, {"user_id": stranger, "extra_time": 15}]})
        assert response.status_code == 404
    assert world.sim.quiz_submission_rows(world.course_id, quiz["id"]) == []
    empty = client.post(f"{course_url}/quizzes/{quiz['id']}/extensions", json={"quiz_extensions": []})
    assert empty.status_code == 400


def test_new_quiz_lifecycle_and_publish_through_assignments(client: httpx.Client, world: World) -> None:
    nq = f"/api/quiz/v1/courses/{world.course_id}/quizzes"
    base = str(client.base_url).replace("/api/v1", "")
    made = client.post(base + nq, json={"quiz": {
        "title": "Stats exam", "due_at": "2026-05-22T10:00:00Z", "points_possible": 20,
        "quiz_settings": {"has_time_limit": True, "session_time_limit_in_seconds": 3600,
                          "require_student_access_code": True, "student_access_code": "k9", "shuffle_answers": True}}})
    assert made.status_code == 200, made.text
    quiz = made.json()
    assert isinstance(quiz["id"], str) and quiz["published"] is False
    assert quiz["quiz_settings"]["session_time_limit_in_seconds"] == 3600
    aid = int(quiz["id"])
    assignment = client.get(f"/courses/{world.course_id}/assignments/{aid}").json()
    assert assignment["is_quiz_lti_assignment"] is True
    client.put(f"/courses/{world.course_id}/assignments/{aid}", data={"assignment[published]": "true"})
    assert client.get(f"{base}{nq}/{aid}").json()["published"] is True
    patched = client.patch(f"{base}{nq}/{aid}", json={"quiz": {"quiz_settings": {"session_time_limit_in_seconds": 5400}}})
    assert patched.json()["quiz_settings"]["session_time_limit_in_seconds"] == 5400
    assert patched.json()["quiz_settings"]["student_access_code"] == "k9"  # merged, not replaced
    bad = client.post(base + nq, json={"quiz": {"title": "x", "quiz_settings": {
        "multiple_attempts": {"multiple_attempts_enabled": True}}}})
    assert bad.status_code == 400
    assert [q["id"] for q in client.get(base + nq).json()] == [quiz["id"]]


def test_accommodations_fail_per_entry_and_replace(client: httpx.Client, world: World) -> None:
    base = str(client.base_url).replace("/api/v1", "")
    aid = int(client.post(f"{base}/api/quiz/v1/courses/{world.course_id}/quizzes",
                          json={"quiz": {"title": "NQ"}}).json()["id"])
    url = f"{base}/api/quiz/v1/courses/{world.course_id}/quizzes/{aid}/accommodations"
    s1, s2 = world.students[:2]
    response = client.post(url, json=[{"user_id": s1, "extra_time": 30}, {"user_id": world.teacher, "extra_time": 30},
                                      {"user_id": s2, "extra_time": 20000}, {"user_id": str(s2), "extra_time": 5}])
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Accommodations processed"
    assert body["successful"] == [{"user_id": s1}]
    assert [f["user_id"] for f in body["failed"]] == [world.teacher, s2, str(s2)]
    assert all(f["error"] for f in body["failed"])
    client.post(url, json=[{"user_id": s1, "extra_time": 45, "extra_attempts": 1}])
    read = client.get(f"/courses/{world.course_id}/new_quizzes/{aid}/accommodations").json()
    assert read == {"accommodations": [{"user_id": s1, "extra_time": 45, "extra_attempts": 1,
                                        "reduce_choices_enabled": False}]}
    classic = _quiz(client, f"/courses/{world.course_id}")
    not_new = client.get(f"/courses/{world.course_id}/new_quizzes/{classic['assignment_id']}/accommodations")
    assert not_new.status_code == 422
    assert client.post(url, json={"user_id": s1}).status_code == 400
