"""The reference's minimum-call exam set-up (§6.2, Classic Quiz variant) against the simulator."""

from __future__ import annotations

import httpx

from adapters.canvas.simulator import SimulatorServer

from .conftest import World


def test_exam_area_in_about_eighteen_calls(client: httpx.Client, server: SimulatorServer, world: World) -> None:
    c = f"/courses/{world.course_id}"
    server.reset_stats()
    course = client.get(c).json()
    assert course["time_zone"] == "Europe/London"
    extra = [f"s{n:02d}" for n in range(1, 7)]
    roster = client.get(f"{c}/enrollments", params=[("type[]", "StudentEnrollment"), ("state[]", "active"),
                                                    ("per_page", "100"), *[("sis_user_id[]", s) for s in extra]]).json()
    ids = {r["user"]["sis_user_id"]: r["user_id"] for r in roster}
    group = client.post(f"{c}/assignment_groups", data={"name": "Exams"}).json()
    module = client.post(f"{c}/modules", data={"module[name]": "Exam: Thermo"}).json()
    page = client.post(f"{c}/pages", data={"wiki_page[title]": "Thermo: integrity statement"}).json()
    step1 = client.post(f"{c}/files", data={"name": "thermo.pdf", "content_type": "application/pdf"}).json()
    upload = httpx.post(step1["upload_url"], data=step1["upload_params"], files={"file": ("thermo.pdf", b"%PDF")})
    file = client.get(upload.headers["Location"]).json()
    client.put(f"/files/{file['id']}", data={"hidden": "true", "unlock_at": "2026-05-21T08:00:00Z"})
    dropbox = client.post(f"{c}/assignments", json={"assignment": {
        "name": "Thermo: upload", "submission_types": ["online_upload"], "allowed_extensions": ["pdf"],
        "assignment_group_id": group["id"], "unlock_at": "2026-05-21T08:00:00Z", "due_at": "2026-05-21T10:30:00Z",
        "lock_at": "2026-05-21T10:30:00Z", "assignment_overrides": [
            {"title": "Thermo +50%", "student_ids": [ids["s01"], ids["s02"]], "due_at": "2026-05-21T11:30:00Z",
             "lock_at": "2026-05-21T11:30:00Z"}]}}).json()
    quiz = client.post(f"{c}/quizzes", json={"quiz": {
        "title": "Thermo", "quiz_type": "assignment", "time_limit": 120, "access_code": "k",
        "unlock_at": "2026-05-21T08:00:00Z", "due_at": "2026-05-21T10:00:00Z", "lock_at": "2026-05-21T10:00:00Z"}}).json()
    client.post(f"{c}/assignments/overrides", json={"assignment_overrides": [
        {"assignment_id": quiz["assignment_id"], "title": "Thermo +50%", "student_ids": [ids["s01"], ids["s02"]],
         "due_at": "2026-05-21T11:00:00Z", "lock_at": "2026-05-21T11:00:00Z"},
        {"assignment_id": quiz["assignment_id"], "title": "Thermo +25%", "student_ids": [ids["s03"]],
         "due_at": "2026-05-21T10:30:00Z", "lock_at": "2026-05-21T10:30:00Z"}]})
    client.post(f"{c}/quizzes/{quiz['id']}/extensions", json={"quiz_extensions": [
        {"user_id": ids["s01"], "extra_time": 60}, {"user_id": ids["s02"], "extra_time": 60},
        {"user_id": ids["s03"], "extra_time": 30}]})
    items = f"{c}/modules/{module['id']}/items"
    client.post(items, data={"module_item[type]": "Page", "module_item[page_url]": page["url"]})
    client.post(items, data={"module_item[type]": "File", "module_item[content_id]": str(file["id"])})
    client.post(items, data={"module_item[type]": "Assignment", "module_item[content_id]": str(dropbox["id"])})
    client.post(items, data={"module_item[type]": "Quiz", "module_item[content_id]": str(quiz["id"])})
    client.put(f"{c}/modules/{module['id']}", data={"module[published]": "true"})
    client.put(f"{c}/quizzes/{quiz['id']}", data={"quiz[published]": "true"})

    stats = server.stats.snapshot()
    assert stats["total"] == 19 and stats["writes"] == 16  # 15 Canvas writes + the storage POST
    assert stats["throttled"] == 0 and stats["faults_injected"] == 0
    # Read back what a reconcile pass would look at.
    read = client.get(f"{c}/modules/{module['id']}", params={"include[]": ["items", "content_details"]}).json()
    assert read["published"] and [i["type"] for i in read["items"]] == ["Page", "File", "Assignment", "Quiz"]
    published = {i["type"]: i["published"] for i in read["items"]}
    assert published["Quiz"] is True and published["Assignment"] is False  # the drop-box was never published
    subs = client.get(f"{c}/quizzes/{quiz['id']}/submissions", params={"per_page": 100}).json()["quiz_submissions"]
    assert sorted(s["extra_time"] for s in subs) == [30, 60, 60]
    s01 = world.sim.student_dates(world.course_id, quiz["assignment_id"], ids["s01"])
    s10 = world.sim.student_dates(world.course_id, quiz["assignment_id"], world.students[9])
    assert s01 is not None and s10 is not None
    assert s01["lock_at"] is not None and s01["lock_at"].isoformat() == "2026-05-21T11:00:00+00:00"
    assert s10["lock_at"] is not None and s10["lock_at"].isoformat() == "2026-05-21T10:00:00+00:00"
