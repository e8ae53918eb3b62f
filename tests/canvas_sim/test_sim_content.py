"""Modules (created unpublished), items, pages, the three-step file upload, announcements."""

from __future__ import annotations

import httpx
import pytest

from adapters.canvas.simulator import SimulatorConfig, SimulatorServer

from .conftest import World, build_world


def test_modules_are_created_unpublished_whatever_is_sent(client: httpx.Client, course_url: str) -> None:
    made = client.post(f"{course_url}/modules", data={"module[name]": "Exam: Chemistry", "module[published]": "true",
                                                      "module[unlock_at]": "2026-05-18T08:00:00Z"}).json()
    assert made["published"] is False and made["unlock_at"] == "2026-05-18T08:00:00Z"
    published = client.put(f"{course_url}/modules/{made['id']}", data={"module[published]": "true"}).json()
    assert published["published"] is True
    missing = client.post(f"{course_url}/modules", data={"module[position]": "1"})
    assert missing.status_code == 400 and missing.json() == {"message": "missing module name"}


def test_prerequisites_must_come_earlier(client: httpx.Client, course_url: str) -> None:
    first = client.post(f"{course_url}/modules", json={"module": {"name": "Intro"}}).json()
    second = client.post(f"{course_url}/modules", json={"module": {
        "name": "Exam", "prerequisite_module_ids": [first["id"]]}}).json()
    assert second["prerequisite_module_ids"] == [first["id"]]
    later = client.put(f"{course_url}/modules/{first['id']}", json={"module": {
        "prerequisite_module_ids": [second["id"]]}}).json()
    assert later["prerequisite_module_ids"] == []


def test_module_items_share_their_contents_published_state(client: httpx.Client, course_url: str, world: World) -> None:
    module = client.post(f"{course_url}/modules", json={"module": {"name": "Exam"}}).json()
    page = client.post(f"{course_url}/pages", json={"wiki_page": {"title": "Integrity statement", "body": "<p>x</p>"}}).json()
    assignment = client.post(f"{course_url}/assignments", json={"assignment": {"name": "Drop-box"}}).json()
    items = f"{course_url}/modules/{module['id']}/items"
    header = client.post(items, json={"module_item": {"type": "SubHeader", "title": "Read first"}}).json()
    page_item = client.post(items, json={"module_item": {"type": "Page", "page_url": page["url"]}}).json()
    drop_item = client.post(items, json={"module_item": {"type": "Assignment", "content_id": assignment["id"]}}).json()
    assert [header["position"], page_item["position"], drop_item["position"]] == [1, 2, 3]
    assert page_item["title"] == "Integrity statement" and drop_item["content_id"] == assignment["id"]
    assert not any(i["published"] for i in (header, page_item, drop_item))
    client.put(f"{items}/{drop_item['id']}", json={"module_item": {"published": True}})
    assert world.sim.get_assignment(world.course_id, assignment["id"]).published is True
    read = client.get(f"{course_url}/modules", params={"include[]": "items"}).json()
    assert [i["type"] for i in read[0]["items"]] == ["SubHeader", "Page", "Assignment"]
    assert read[0]["items"][2]["published"] is True
    bad = client.post(items, json={"module_item": {"type": "Assignment", "content_id": 1}})
    assert bad.status_code == 400
    # Deleting the content removes its item.
    client.delete(f"{course_url}/assignments/{assignment['id']}")
    assert len(client.get(items).json()) == 2


def test_pages_by_url_or_id_and_renames_keep_the_old_url(client: httpx.Client, course_url: str) -> None:
    page = client.post(f"{course_url}/pages", data={"wiki_page[title]": "Exam rules", "wiki_page[body]": "<p>1</p>",
                                                    "wiki_page[editing_roles]": "teachers"}).json()
    assert page["url"] == "exam-rules" and page["published"] is False
    assert client.get(f"{course_url}/pages/page_id:{page['page_id']}").json()["body"] == "<p>1</p>"
    renamed = client.put(f"{course_url}/pages/exam-rules", json={"wiki_page": {"title": "Exam rules 2026",
                                                                                "published": True}}).json()
    assert renamed["url"] == "exam-rules-2026" and renamed["published"] is True
    assert client.get(f"{course_url}/pages/exam-rules").json()["page_id"] == page["page_id"]
    second = client.post(f"{course_url}/pages", json={"wiki_page": {"title": "Exam rules"}}).json()
    assert second["url"] == "exam-rules"  # a current url wins over a former one
    assert client.get(f"{course_url}/pages/exam-rules").json()["page_id"] == second["page_id"]
    assert "body" not in client.get(f"{course_url}/pages").json()[0]


def _upload(client: httpx.Client, course_url: str, body: bytes) -> tuple[httpx.Response, dict[str, object]]:
    step1 = client.post(f"{course_url}/files", data={"name": "paper.pdf", "size": str(len(body)),
                                                     "content_type": "application/pdf",
                                                     "parent_folder_path": "exams/2026"}).json()
    upload = httpx.post(step1["upload_url"], data=step1["upload_params"],
                        files={"file": ("paper.pdf", body, "application/pdf")})
    return upload, step1


def test_file_upload_with_redirect(client: httpx.Client, course_url: str, world: World) -> None:
    body = b"%PDF-1.7 exam paper"
    upload, _ = _upload(client, course_url, body)
    assert upload.status_code == 301
    file_id = int(upload.headers["Location"].split("/files/")[1].split("/")[0])
    assert client.get(f"/files/{file_id}").status_code == 404  # not finished until step 3
    done = client.get(upload.headers["Location"]).json()
    assert done["display_name"] == "paper.pdf" and done["size"] == len(body) and done["content-type"] == "application/pdf"
    assert world.sim.files[file_id].data == body
    hidden = client.put(f"/files/{file_id}", data={"hidden": "true", "locked": "false",
                                                   "unlock_at": "2026-05-18T08:00:00Z", "lock_at": "2026-05-18T12:00:00Z"}).json()
    assert hidden["hidden"] is True and hidden["unlock_at"] == "2026-05-18T08:00:00Z"
    assert client.get(f"{course_url}/files/{file_id}").json()["lock_at"] == "2026-05-18T12:00:00Z"


@pytest.mark.parametrize("config", [SimulatorConfig(upload_redirect=False)])
def test_file_upload_answering_201(server: SimulatorServer, client: httpx.Client) -> None:
    world = build_world(server)
    upload, _ = _upload(client, f"/courses/{world.course_id}", b"data")
    assert upload.status_code == 201
    assert upload.json()["size"] == 4
    assert client.get(upload.headers["Location"]).json()["id"] == upload.json()["id"]


def test_upload_step_two_is_strict(client: httpx.Client, course_url: str, server: SimulatorServer) -> None:
    step1 = client.post(f"{course_url}/files", data={"name": "a.txt", "content_type": "text/plain"}).json()
    with_token = httpx.post(step1["upload_url"], data=step1["upload_params"], files={"file": ("a.txt", b"x")},
                            headers={"Authorization": f"Bearer {server.token}"})
    assert with_token.status_code == 400  # S3 refuses a second auth mechanism
    params = dict(step1["upload_params"])
    params.pop("x-sim-signature")
    assert httpx.post(step1["upload_url"], data=params, files={"file": ("a.txt", b"x")}).status_code == 400
    assert httpx.post(step1["upload_url"], data=step1["upload_params"], files={"file": ("a.txt", b"x")}).status_code == 301


def test_announcements(client: httpx.Client, course_url: str) -> None:
    client.post(f"{course_url}/discussion_topics", data={"title": "Exam moved", "message": "<p>to 10:00</p>",
                                                         "is_announcement": "true"})
    client.post(f"{course_url}/discussion_topics", data={"title": "General chat"})
    only = client.get(f"{course_url}/discussion_topics", params={"only_announcements": "true"}).json()
    assert [t["title"] for t in only] == ["Exam moved"] and only[0]["published"] is True
    assert [t["title"] for t in client.get(f"{course_url}/discussion_topics").json()] == ["General chat"]
