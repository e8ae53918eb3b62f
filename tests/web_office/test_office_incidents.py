"""Incident entry: the policy's decision and every affected candidate shown before anything is
recorded; confirm records it through the jobs' service (an `extend` queued for the LMS); a
changed decision is not recorded blind; bad input names its field; the affected candidates
export for special consideration. (Against Canvas itself: test_office_canvas.py.)"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms_bridge.jobs import kinds
from lms_bridge.store.job_models import IncidentRow, WorkItemRow
from lms_bridge.store.models import AuditRow
from lms_bridge.web.office.incidents import EXPORT_COLUMNS

from .conftest import OFFICER, Files, Office, hidden_fields, seed_store, table, text_of

LONDON = ZoneInfo("Europe/London")


def local(instant: datetime) -> str:
    return instant.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def preview(tool: Office, launch_id: str, exam: str, start: datetime, end: datetime):  # noqa: ANN201
    form = tool.form("/office/incidents", launch_id)
    return tool.post("/office/incidents/preview", {**form, "exam": exam, "from": local(start), "to": local(end)},
                     launch_id)


def test_preview_shows_the_decision_and_every_affected_candidate_and_records_nothing(tool: Office, files: Files) -> None:
    seed_store(tool.app, files)
    launch_id = tool.officer()
    start = files.starts["E1"]
    page = preview(tool, launch_id, "E1", start + timedelta(minutes=10), start + timedelta(minutes=40))
    assert page.status_code == 200, text_of(page.get_data(as_text=True))[:600]
    html = page.get_data(as_text=True)
    words = text_of(html)
    assert "Nothing is recorded yet" in words
    assert "Decision extend" in words and "qmu.incident" in words and "30 minutes" in words
    assert "the stored candidates list" in words
    rows = table(html, "affected")
    assert [r[0] for r in rows] == [f"s{i}" for i in range(1, 7)]
    for r in rows:  # opens, due before/after, closes before/after, limit before/after
        due_before, due_after = (datetime.strptime(v[4:], "%d %b %Y, %H:%M") for v in (r[2], r[3]))
        assert due_after - due_before == timedelta(minutes=30)
    assert "Record it and extend 6 candidates' windows in Canvas" in words
    assert tool.count(IncidentRow) == 0 and tool.count(WorkItemRow) == 0


def test_confirm_records_it_audits_it_and_queues_the_extension_then_exports_the_candidates(tool: Office,
                                                                                           files: Files) -> None:
    seed_store(tool.app, files)
    launch_id = tool.officer()
    start = files.starts["E1"]
    page = preview(tool, launch_id, "E1", start + timedelta(minutes=10), start + timedelta(minutes=40))
    confirm = hidden_fields(page.get_data(as_text=True))
    assert set(confirm) == {"launch", "csrf_token", "exam", "from", "to", "digest"}
    done = tool.post("/office/incidents", confirm, launch_id)
    assert done.status_code == 303
    with Session(tool.engine) as session:
        (row,) = session.scalars(select(IncidentRow)).all()
        (item,) = session.scalars(select(WorkItemRow).where(WorkItemRow.kind == kinds.APPLY_INCIDENT)).all()
        (entry,) = session.scalars(select(AuditRow).where(AuditRow.action == "incident.recorded")).all()
    assert f"/office/incidents/{row.id}" in done.headers["Location"]
    assert (row.decision, row.disruption_minutes, row.affected) == ("extend", 30, [f"s{i}" for i in range(1, 7)])
    assert row.recorded_by == entry.actor == f"lti:canvas:{OFFICER}" and row.state == "recorded"
    assert item.args == {"incident_id": row.id}
    detail = tool.get(f"/office/incidents/{row.id}", launch_id, recorded=1)
    words = text_of(detail.get_data(as_text=True))
    assert "The incident is recorded and its extension is queued for the LMS" in words
    assert "waiting for the job workers (pending)" in words
    listed = text_of(tool.get("/office/incidents", launch_id).get_data(as_text=True))
    assert f"Incident {row.id}" in listed and "extend" in listed

    export = tool.get(f"/office/incidents/{row.id}/affected.csv", launch_id)
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert export.headers["Cache-Control"] == "no-store"
    assert f'filename="incident-{row.id}-E1-affected.csv"' in export.headers["Content-Disposition"]
    records = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert tuple(records[0]) == EXPORT_COLUMNS
    assert [r["student_id"] for r in records] == [f"s{i}" for i in range(1, 7)]
    for r in records:
        assert (r["exam_id"], r["exam_title"], r["decision"], r["rule"]) == ("E1", "Anatomy", "extend", "qmu.incident")
        assert r["disruption_minutes"] == "30"
        for what in ("due", "closes"):
            moved = datetime.fromisoformat(r[f"{what}_after"]) - datetime.fromisoformat(r[f"{what}_before"])
            assert moved == timedelta(minutes=30)
        assert datetime.fromisoformat(r["disruption_from"]) == start + timedelta(minutes=10)
    # support-plan students' windows are longer than the others' (s1 and s2 have plans)
    closes = {r["student_id"]: datetime.fromisoformat(r["closes_before"]) for r in records}
    assert closes["s1"] > closes["s3"] and closes["s2"] > closes["s3"]


def test_a_void_decision_flags_every_candidate_and_changes_nothing_in_the_lms(tool: Office, files: Files) -> None:
    seed_store(tool.app, files)
    launch_id = tool.officer()
    start = files.starts["E3"]
    page = preview(tool, launch_id, "E3", start + timedelta(minutes=5), start + timedelta(minutes=80))
    words = text_of(page.get_data(as_text=True))
    assert "Decision void" in words and "Nothing changes in the LMS" in words
    assert "Record the decision and flag 6 candidates" in words
    assert [r[0] for r in table(page.get_data(as_text=True), "affected")] == [f"s{i}" for i in range(4, 10)]
    done = tool.post("/office/incidents", hidden_fields(page.get_data(as_text=True)), launch_id)
    assert done.status_code == 303
    assert tool.count(IncidentRow) == 1 and tool.count(WorkItemRow) == 0  # nothing for the LMS to do


def test_a_decision_that_changed_since_the_preview_is_not_recorded(tool: Office, files: Files) -> None:
    seed_store(tool.app, files)
    launch_id = tool.officer()
    start = files.starts["E1"]
    page = preview(tool, launch_id, "E1", start + timedelta(minutes=10), start + timedelta(minutes=40))
    confirm = hidden_fields(page.get_data(as_text=True))
    # a candidate joins the exam between preview and confirm
    files.candidates.write_text(files.candidates.read_text() + "E1,s11\n", encoding="utf-8")
    seed_store(tool.app, files)
    again = tool.post("/office/incidents", confirm, launch_id)
    assert again.status_code == 409
    words = text_of(again.get_data(as_text=True))
    assert "nothing was recorded" in words and "7 affected candidates" in words
    assert tool.count(IncidentRow) == 0 and tool.count(WorkItemRow) == 0
    # confirming the new preview works
    assert tool.post("/office/incidents", hidden_fields(again.get_data(as_text=True)), launch_id).status_code == 303
    assert tool.count(IncidentRow) == 1


def test_bad_input_names_its_field_and_records_nothing(tool: Office, files: Files) -> None:
    seed_store(tool.app, files)
    launch_id = tool.officer()
    start = files.starts["E1"]
    cases = [
        ({"exam": "", "from": local(start), "to": local(start + timedelta(minutes=5))}, "exam", "Choose the disrupted exam."),
        ({"exam": "E9", "from": local(start), "to": local(start + timedelta(minutes=5))}, "exam", "no exam with that id"),
        ({"exam": "E1", "from": "tomorrow", "to": local(start)}, "from", "is not a time"),
        ({"exam": "E1", "from": local(start + timedelta(minutes=30)), "to": local(start + timedelta(minutes=10))},
         "to", "must end after it starts"),
        ({"exam": "E1", "from": local(start - timedelta(hours=2)), "to": local(start - timedelta(hours=1))},
         "from", "starts before the exam opens"),
        ({"exam": "E1", "from": "2026-03-29T01:30", "to": "2026-03-29T02:30"}, "from", "does not exist"),
    ]
    form = tool.form("/office/incidents", launch_id)
    for values, field, message in cases:
        page = tool.post("/office/incidents/preview", {**form, **values}, launch_id)
        assert page.status_code == 400, values
        html = page.get_data(as_text=True)
        assert f'href="#field-{field}"' in html, (values, field)
        assert f'id="error-{field}"' in html and message in text_of(html), (values, message)
        assert f'aria-describedby="hint-{field} error-{field}" aria-invalid="true"' in html or \
            f'aria-describedby="error-{field}" aria-invalid="true"' in html
    assert tool.count(IncidentRow) == 0


def test_unknown_incident_is_404(tool: Office, files: Files) -> None:
    seed_store(tool.app, files)
    launch_id = tool.officer()
    assert tool.get("/office/incidents/99", launch_id).status_code == 404
    assert tool.get("/office/incidents/99/affected.csv", launch_id).status_code == 404
