"""Assignment overrides: ADHOC uniqueness, batch all-or-nothing, declarative sets, dates."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx

from .conftest import FORM, World, form

DUE = "2026-05-18T10:00:00Z"


def _assignment(client: httpx.Client, course_url: str, **fields: Any) -> dict[str, Any]:
    body = {"assignment": {"name": "Exam", "submission_types": ["online_upload"], "due_at": DUE, **fields}}
    response = client.post(f"{course_url}/assignments", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def test_a_student_can_be_in_only_one_adhoc_override(client: httpx.Client, course_url: str, world: World) -> None:
    aid = _assignment(client, course_url)["id"]
    s1, s2 = world.students[:2]
    first = client.post(f"{course_url}/assignments/{aid}/overrides", data={
        "assignment_override[title]": "+25%", "assignment_override[student_ids][]": [str(s1), str(s2)],
        "assignment_override[due_at]": "2026-05-18T10:15:00Z"})
    assert first.status_code == 200
    assert first.json()["student_ids"] == [s1, s2] and first.json()["due_at"] == "2026-05-18T10:15:00Z"
    second = client.post(f"{course_url}/assignments/{aid}/overrides", json={
        "assignment_override": {"title": "+50%", "student_ids": [s2]}})
    assert second.status_code == 400
    error = second.json()["errors"]["assignment_override_students"][0]
    assert error["message"] == "already belongs to an assignment override"
    assert len(world.sim.list_overrides(world.course_id, aid)) == 1


def test_sis_user_ids_and_unknown_students(client: httpx.Client, course_url: str, world: World) -> None:
    aid = _assignment(client, course_url)["id"]
    ok = client.post(f"{course_url}/assignments/{aid}/overrides", json={
        "assignment_override": {"title": "t", "student_ids": ["sis_user_id:s05"]}})
    assert ok.json()["student_ids"] == [world.students[4]]
    bad = client.post(f"{course_url}/assignments/{aid}/overrides", json={
        "assignment_override": {"title": "t", "student_ids": [str(world.outsider), "424242"]}})
    assert bad.status_code == 400
    assert bad.json() == {"errors": [f'unknown student ids: ["{world.outsider}", "424242"]']}
    none = client.post(f"{course_url}/assignments/{aid}/overrides", json={"assignment_override": {"title": "t"}})
    assert none.json() == {"errors": ["one of student_ids, group_id, or course_section_id is required"]}


def test_one_section_override_per_section(client: httpx.Client, course_url: str, world: World) -> None:
    aid = _assignment(client, course_url)["id"]
    body = {"assignment_override": {"course_section_id": world.sections[0], "lock_at": "2026-05-19T10:00:00Z"}}
    first = client.post(f"{course_url}/assignments/{aid}/overrides", json=body)
    assert first.status_code == 200 and first.json()["title"] == "Lab A"
    assert "student_ids" not in first.json() and "due_at" not in first.json()
    assert client.post(f"{course_url}/assignments/{aid}/overrides", json=body).status_code == 400


def test_override_put_clears_dates_not_resent(client: httpx.Client, course_url: str, world: World) -> None:
    aid = _assignment(client, course_url)["id"]
    created = client.post(f"{course_url}/assignments/{aid}/overrides", json={"assignment_override": {
        "title": "t", "student_ids": [world.students[0]], "due_at": DUE, "lock_at": DUE}}).json()
    updated = client.put(f"{course_url}/assignments/{aid}/overrides/{created['id']}", json={
        "assignment_override": {"due_at": "2026-05-18T11:00:00Z"}}).json()
    assert updated["due_at"] == "2026-05-18T11:00:00Z" and "lock_at" not in updated
    assert updated["student_ids"] == [world.students[0]]  # target kept when not resent


def test_adhoc_override_that_loses_all_students_is_deleted(client: httpx.Client, course_url: str, world: World) -> None:
    aid = _assignment(client, course_url)["id"]
    created = client.post(f"{course_url}/assignments/{aid}/overrides", json={
        "assignment_override": {"title": "t", "student_ids": [world.students[0]]}}).json()
    client.put(f"{course_url}/assignments/{aid}/overrides/{created['id']}", json={
        "assignment_override": {"student_ids": []}})
    assert client.get(f"{course_url}/assignments/{aid}/overrides").json() == []
    assert client.get(f"{course_url}/assignments/{aid}/overrides/{created['id']}").status_code == 404


def test_delete_returns_the_former_override(client: httpx.Client, course_url: str, world: World) -> None:
    aid = _assignment(client, course_url)["id"]
    created = client.post(f"{course_url}/assignments/{aid}/overrides", json={
        "assignment_override": {"title": "t", "student_ids": [world.students[0]]}}).json()
    deleted = client.delete(f"{course_url}/assignments/{aid}/overrides/{created['id']}")
    assert deleted.json()["id"] == created["id"]
    assert world.sim.overrides[created["id"]].deleted  # soft delete


def test_batch_create_is_all_or_nothing_with_positional_errors(client: httpx.Client, course_url: str, world: World) -> None:
    a1 = _assignment(client, course_url)["id"]
    a2 = _assignment(client, course_url, name="Exam 2")["id"]
    s1, s2, s3 = world.students[:3]
    bad = client.post(f"{course_url}/assignments/overrides", json={"assignment_overrides": [
        {"assignment_id": a1, "title": "ok", "student_ids": [s1]},
        {"title": "no assignment", "student_ids": [s2]},
        {"assignment_id": 999, "title": "x", "student_ids": [s2]},
        {"assignment_id": a2, "id": 5, "title": "x", "student_ids": [s2]},
    ]})
    assert bad.status_code == 400
    assert bad.json() == {"errors": [None, ["must specify an assignment id"], ["assignment not found"],
                                     ["may not specify an override id"]]}
    assert world.sim.write_count_state()["overrides"] == 0
    # A uniqueness clash inside the batch also rolls back the good items.
    clash = client.post(f"{course_url}/assignments/overrides", json={"assignment_overrides": [
        {"assignment_id": a1, "title": "a", "student_ids": [s1, s3]},
        {"assignment_id": a1, "title": "b", "student_ids": [s3]},
    ]})
    assert clash.status_code == 400
    errors = clash.json()["errors"]
    assert errors[0] is None and "already belongs to an assignment override" in errors[1][0]
    assert world.sim.write_count_state()["overrides"] == 0
    good = client.post(f"{course_url}/assignments/overrides", headers=FORM, content=form([
        ("assignment_overrides[][assignment_id]", str(a1)), ("assignment_overrides[][title]", "a"),
        ("assignment_overrides[][student_ids][]", str(s1)), ("assignment_overrides[][student_ids][]", str(s2)),
        ("assignment_overrides[][assignment_id]", str(a2)), ("assignment_overrides[][title]", "b"),
        ("assignment_overrides[][student_ids][]", str(s3)),
    ]))
    assert good.status_code == 200, good.text
    assert [(o["assignment_id"], o["student_ids"]) for o in good.json()] == [(a1, [s1, s2]), (a2, [s3])]


def test_batch_update_and_get(client: httpx.Client, course_url: str, world: World) -> None:
    aid = _assignment(client, course_url)["id"]
    made = client.post(f"{course_url}/assignments/overrides", json={"assignment_overrides": [
        {"assignment_id": aid, "title": "a", "student_ids": [world.students[0]], "due_at": DUE}]}).json()
    oid = made[0]["id"]
    bad = client.put(f"{course_url}/assignments/overrides", json={"assignment_overrides": [
        {"assignment_id": aid, "id": oid, "due_at": "2026-05-18T12:00:00Z"},
        {"assignment_id": aid, "id": 1, "due_at": "2026-05-18T12:00:00Z"},
        {"assignment_id": aid, "due_at": "2026-05-18T12:00:00Z"}]})
    assert bad.json() == {"errors": [None, ["override not found"], ["must specify an override id"]]}
    unchanged = world.sim.overrides[oid].due_at
    assert unchanged is not None and unchanged.hour == 10
    good = client.put(f"{course_url}/assignments/overrides", json={"assignment_overrides": [
        {"assignment_id": aid, "id": oid, "due_at": "2026-05-18T12:00:00Z"}]})
    assert good.json()[0]["due_at"] == "2026-05-18T12:00:00Z"
    # Built by hand: httpx's `params=` groups repeated keys, which breaks Rails' `[][k]` hashes.
    query = urlencode([("assignment_overrides[][id]", str(oid)), ("assignment_overrides[][assignment_id]", str(aid)),
                       ("assignment_overrides[][id]", "1"), ("assignment_overrides[][assignment_id]", str(aid))])
    fetched = client.get(f"{course_url}/assignments/overrides?{query}").json()
    assert fetched[0]["id"] == oid and fetched[1] is None


def test_assignment_put_with_overrides_reconciles_the_set(client: httpx.Client, course_url: str, world: World) -> None:
    s = world.students
    created = _assignment(client, course_url, assignment_overrides=[
        {"title": "keep", "student_ids": [s[0]], "due_at": DUE},
        {"title": "drop", "student_ids": [s[1]], "due_at": DUE}])
    aid = created["id"]
    keep, drop = world.sim.list_overrides(world.course_id, aid)
    # Absent key: overrides untouched.
    client.put(f"{course_url}/assignments/{aid}", json={"assignment": {"name": "Exam (renamed)"}})
    assert len(world.sim.list_overrides(world.course_id, aid)) == 2
    # Present key: with id -> update, without -> create, omitted -> delete. The student moves.
    response = client.put(f"{course_url}/assignments/{aid}", params={"include[]": "overrides"}, json={"assignment": {
        "assignment_overrides": [
            {"id": keep.id, "title": "keep", "student_ids": [s[0]], "due_at": "2026-05-18T11:00:00Z"},
            {"title": "new", "student_ids": [s[1], s[2]], "lock_at": "2026-05-18T12:00:00Z"}]}})
    assert response.status_code == 200, response.text
    after = {o["title"]: o for o in response.json()["overrides"]}
    assert set(after) == {"keep", "new"}
    assert after["keep"]["id"] == keep.id and after["keep"]["due_at"] == "2026-05-18T11:00:00Z"
    assert after["new"]["student_ids"] == [s[1], s[2]]
    assert world.sim.overrides[drop.id].deleted
    # An empty list deletes them all.
    client.put(f"{course_url}/assignments/{aid}", json={"assignment": {"assignment_overrides": []}})
    assert world.sim.list_overrides(world.course_id, aid) == []


def test_failed_assignment_put_changes_nothing(client: httpx.Client, course_url: str, world: World) -> None:
    aid = _assignment(client, course_url)["id"]
    response = client.put(f"{course_url}/assignments/{aid}", json={"assignment": {
        "name": "changed", "assignment_overrides": [
            {"title": "a", "student_ids": [world.students[0]]}, {"title": "b", "student_ids": [world.students[0]]}]}})
    assert response.status_code == 400
    assert world.sim.get_assignment(world.course_id, aid).name == "Exam"
    assert world.sim.list_overrides(world.course_id, aid) == []


def test_date_details_get_and_put(client: httpx.Client, course_url: str, world: World) -> None:
    s = world.students
    aid = _assignment(client, course_url, assignment_overrides=[{"title": "old", "student_ids": [s[0]]}])["id"]
    old = world.sim.list_overrides(world.course_id, aid)[0]
    response = client.put(f"{course_url}/assignments/{aid}/date_details", json={
        "due_at": "2026-05-18T11:00:00Z", "lock_at": "2026-05-18T12:00:00Z", "assignment_overrides": [
            {"title": "+50%", "student_ids": [s[0], s[1]], "due_at": "2026-05-18T11:30:00Z"}]})
    assert response.status_code == 204 and response.content == b""
    details = client.get(f"{course_url}/assignments/{aid}/date_details").json()
    assert details["due_at"] == "2026-05-18T11:00:00Z" and details["lock_at"] == "2026-05-18T12:00:00Z"
    assert details["visible_to_everyone"] is True
    [override] = details["overrides"]
    assert override["title"] == "+50%" and override["id"] != old.id
    assert [st["name"] for st in override["students"]] == ["Student 01", "Student 02"]
    assert world.sim.overrides[old.id].deleted


def test_fancy_midnight_on_assignments_and_overrides(client: httpx.Client, course_url: str, world: World) -> None:
    # 00:00 BST on 2 June is 23:00Z on 1 June; Canvas turns it into 23:59:59 BST on 2 June.
    created = _assignment(client, course_url, due_at="2026-06-01T23:00:00Z", lock_at="2026-06-02T00:00:00+01:00",
                          unlock_at="2026-06-01T23:00:00Z")
    assert created["due_at"] == created["lock_at"] == "2026-06-02T22:59:59Z"
    assert created["unlock_at"] == "2026-06-01T23:00:00Z"  # unlock_at is left alone
    assert created["all_day"] is True and created["all_day_date"] == "2026-06-02"
    override = client.post(f"{course_url}/assignments/{created['id']}/overrides", json={"assignment_override": {
        "title": "t", "student_ids": [world.students[0]], "due_at": "2026-12-01T00:00:00Z"}}).json()
    assert override["due_at"] == "2026-12-01T23:59:59Z"  # GMT in winter
    assert _assignment(client, course_url, due_at="2026-06-02T00:01:00+01:00")["due_at"] == "2026-06-01T23:01:00Z"


def test_naive_dates_are_read_in_the_api_users_zone(client: httpx.Client, course_url: str) -> None:
    created = _assignment(client, course_url, due_at="2026-05-18T09:00:00")
    assert created["due_at"] == "2026-05-18T15:00:00Z"  # America/Denver, not the course's London


def test_teacher_view_dates_unless_override_assignment_dates_false(client: httpx.Client, course_url: str, world: World) -> None:
    aid = _assignment(client, course_url, assignment_overrides=[
        {"title": "late", "student_ids": [world.students[0]], "due_at": "2026-05-18T12:00:00Z"}])["id"]
    assert client.get(f"{course_url}/assignments/{aid}").json()["due_at"] == "2026-05-18T12:00:00Z"
    base = client.get(f"{course_url}/assignments/{aid}", params={"override_assignment_dates": "false"}).json()
    assert base["due_at"] == DUE
    dates = world.sim.student_dates(world.course_id, aid, world.students[0])
    assert dates is not None and dates["due_at"] is not None and dates["due_at"].hour == 12
