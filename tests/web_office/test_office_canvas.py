"""The exams office against the Canvas simulator over real HTTP, with the job workers doing the
LMS work (as `lms-bridge worker` would): an upload reaches Canvas, the overview shows each
exam's status and last LMS read and the alert of a course that could not be reached, an
incident previewed from the Canvas roster and confirmed extends the affected candidates'
closes in Canvas, its export lists them, and one clarification becomes an announcement in every
course where the paper runs, recorded in the audit log."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms_bridge.connections import Connections
from lms_bridge.store.job_models import IncidentRow
from lms_bridge.store.models import AuditRow

from .conftest import OFFICER, Files, Office, hidden_fields, node_for, office_app, run_until_idle, table, text_of
from .test_office_upload import good, upload

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def lms(files: Files) -> Iterator[object]:
    from adapters.canvas.simulator import SimulatorConfig, SimulatorServer, seed_from_files

    files.write(e3_title="Anatomy")  # one paper, sat in canvas:101 (E1) and canvas:102 (E3)
    with SimulatorServer(SimulatorConfig()) as server:
        seed_from_files(server.sim, files.timetable, files.candidates)
        yield server


@pytest.fixture
def connected(tmp_path, lms) -> Iterator[Office]:  # noqa: ANN001
    from tests.lti.platforms import FakePlatform

    canvas, moodle = FakePlatform.canvas(), FakePlatform.moodle()
    app = office_app(tmp_path, canvas, moodle, LMS_BRIDGE_CONNECTIONS=Connections(lms.base_url, lms.token))
    yield Office(app, app.test_client(), canvas, moodle)
    app.extensions["lms_bridge.lti"].close()
    app.extensions["lms_bridge.engine"].dispose()


def api(server) -> httpx.Client:  # noqa: ANN001
    return httpx.Client(base_url=server.api_url, headers={"Authorization": f"Bearer {server.token}"})


def utc(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def windows_in_canvas(client: httpx.Client, course: int, exam_id: str) -> dict[str, tuple]:
    """Every enrolled student's (opens, due, closes) for the exam's drop-box, as Canvas holds it."""
    sis = {r["user_id"]: r["user"].get("sis_user_id")
           for r in client.get(f"/courses/{course}/enrollments", params={"per_page": 100}).json()
           if r["type"] == "StudentEnrollment"}
    rows = client.get(f"/courses/{course}/assignments", params={"include[]": "overrides", "per_page": 100,
                                                                "override_assignment_dates": "false"}).json()
    (a,) = [a for a in rows if a["name"].endswith(f"[{exam_id}]") and not a["name"].startswith("Practice")]
    out = {s: (utc(a["unlock_at"]), utc(a["due_at"]), utc(a["lock_at"])) for s in sis.values()}
    for o in a.get("overrides") or ():
        for uid in o["student_ids"]:
            out[sis[uid]] = (utc(o["unlock_at"]), utc(o["due_at"]), utc(o["lock_at"]))
    return out


def test_upload_incident_export_and_clarification_reach_canvas(connected: Office, files: Files, lms) -> None:  # noqa: ANN001
    tool = connected
    node = node_for(tool.engine, lms)
    launch_id = tool.officer()

    # the upload queues a reconcile of each course; the workers bring Canvas up to date
    page = upload(tool, launch_id, good(files))
    assert page.status_code == 200 and "A reconcile of 3 changed courses is queued" in text_of(page.get_data(as_text=True))
    run_until_idle(node)
    home = tool.get("/office/", launch_id).get_data(as_text=True)
    statuses = {r[0].split()[-1]: r for r in table(home, "statuses")}
    for exam in ("E1", "E2", "E3"):
        assert statuses[exam][3] == "applied", statuses[exam]
        assert statuses[exam][4].startswith(datetime.now(UTC).astimezone(LONDON).strftime("%a"))  # read today
        assert "changes needed" in statuses[exam][4]
    assert statuses["M1"][3] == "planned" and statuses["M1"][4] == "never"
    assert "reconcile of moodle:7 failed" in text_of(home)  # no Moodle connection here: alerted

    # the incident, previewed from the Canvas roster of canvas:101
    start = files.starts["E1"]
    with api(lms) as client:
        before = windows_in_canvas(client, 101, "E1")
    fmt = "%Y-%m-%dT%H:%M"
    form = tool.form("/office/incidents", launch_id)
    preview = tool.post("/office/incidents/preview", {
        **form, "exam": "E1", "from": (start + timedelta(minutes=10)).astimezone(LONDON).strftime(fmt),
        "to": (start + timedelta(minutes=40)).astimezone(LONDON).strftime(fmt)}, launch_id)
    words = text_of(preview.get_data(as_text=True))
    assert "the course roster in canvas:101, read from the LMS just now" in words
    assert "Decision extend" in words
    assert [r[0] for r in table(preview.get_data(as_text=True), "affected")] == [f"s{i}" for i in range(1, 7)]
    with api(lms) as client:
        assert windows_in_canvas(client, 101, "E1") == before  # a preview changes nothing

    done = tool.post("/office/incidents", hidden_fields(preview.get_data(as_text=True)), launch_id)
    assert done.status_code == 303
    run_until_idle(node)
    with api(lms) as client:
        after = windows_in_canvas(client, 101, "E1")
    assert set(after) == {f"s{i}" for i in range(1, 7)}
    for student in after:
        assert after[student][0] == before[student][0]  # opens as before
        assert after[student][1] - before[student][1] == timedelta(minutes=30)
        assert after[student][2] - before[student][2] == timedelta(minutes=30)
    with Session(tool.engine) as session:
        (incident,) = session.scalars(select(IncidentRow)).all()
    assert incident.state == "applied"
    detail = text_of(tool.get(f"/office/incidents/{incident.id}", launch_id).get_data(as_text=True))
    assert "In the LMS extended," in detail

    # the export: each affected candidate's window before and after, as Canvas now holds it
    export = tool.get(f"/office/incidents/{incident.id}/affected.csv", launch_id).get_data(as_text=True)
    records = {r["student_id"]: r for r in csv.DictReader(io.StringIO(export.lstrip("\ufeff")))}
    assert set(records) == set(after)
    for student, r in records.items():
        assert datetime.fromisoformat(r["closes_before"]) == before[student][2]
        assert datetime.fromisoformat(r["closes_after"]) == after[student][2]
        assert datetime.fromisoformat(r["due_after"]) == after[student][1]

    # one clarification, announced in both courses where the paper runs
    form = tool.form("/office/clarifications", launch_id)
    sent = tool.post("/office/clarifications", {**form, "exam": "E1", "subject": "Question 4",
                                                "message": "In question 4, read 'litres' as 'millilitres'.\n\nGood luck."},
                     launch_id)
    assert sent.status_code == 303
    run_until_idle(node)
    posted = {}
    with api(lms) as client:
        for course in (101, 102):
            posts = client.get(f"/courses/{course}/discussion_topics", params={"only_announcements": "true"}).json()
            (posted[course],) = [p for p in posts if p["title"].endswith("[E1/1]")]
    for post in posted.values():
        assert post["is_announcement"] is True
        assert post["title"] == "Question 4 (Anatomy) [E1/1]"
        assert "millilitres" in post["message"] and "<p>Good luck.</p>" in post["message"]
    with Session(tool.engine) as session:
        entries = session.execute(select(AuditRow.action, AuditRow.actor, AuditRow.entity_id)
                                  .where(AuditRow.entity == "clarification").order_by(AuditRow.id)).all()
    assert entries[0] == ("clarification.created", f"lti:canvas:{OFFICER}", "1")
    assert sorted((a, e) for a, _, e in entries[1:]) == [("clarification.posted", "1/canvas:101"),
                                                          ("clarification.posted", "1/canvas:102")]
    listed = table(tool.get("/office/clarifications", launch_id).get_data(as_text=True), "clarifications-table")
    assert listed[0][2] == "canvas:101, canvas:102" and listed[0][3].startswith("posted ")
    # and the audit page finds all of it under the exam
    about = table(tool.get("/office/audit", launch_id, exam="E1", entity="clarification").get_data(as_text=True),
                  "audit")
    assert sorted(r[2] for r in about) == ["clarification.created", "clarification.posted", "clarification.posted"]
