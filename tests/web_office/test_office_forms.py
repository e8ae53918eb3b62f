"""Clarifications (queued once, audited with the officer; a message naming a student refused),
alerts acknowledged, and CSRF on every form: a post without its token is a 400, with another
launch's token a 403, and neither changes anything."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms_bridge.jobs import kinds
from lms_bridge.jobs.alerts import AlertSink
from lms_bridge.store.job_models import AlertRow, ClarificationRow, IncidentRow, ReleaseShiftRow, WorkItemRow
from lms_bridge.store.models import AuditRow, ExamRow

from .conftest import OFFICER, Files, Office, seed_store, table, text_of


def test_a_clarification_is_stored_audited_and_queued_for_the_exams_courses(tool: Office, files: Files) -> None:
    seed_store(tool.app, files)
    launch_id = tool.officer()
    form = tool.form("/office/clarifications", launch_id)
    page = tool.get("/office/clarifications", launch_id).get_data(as_text=True)
    assert "Anatomy (E1)" in page and ": canvas:101</option>" in page  # where each exam is announced
    done = tool.post("/office/clarifications", {**form, "exam": "E1", "subject": "Question 4",
                                                "message": "In question 4, read 'litres' as 'millilitres'."}, launch_id)
    assert done.status_code == 303
    with Session(tool.engine) as session:
        (row,) = session.scalars(select(ClarificationRow)).all()
        (item,) = session.scalars(select(WorkItemRow)).all()
        (entry,) = session.scalars(select(AuditRow).where(AuditRow.entity == "clarification")).all()
    assert f"sent={row.id}" in done.headers["Location"]
    assert (row.exam_id, row.subject, row.state, row.created_by) == ("E1", "Question 4", "pending", f"lti:canvas:{OFFICER}")
    assert item.kind == kinds.SEND_CLARIFICATION and item.args == {"clarification_id": row.id}
    assert entry.action == "clarification.created" and entry.actor == f"lti:canvas:{OFFICER}"
    listed = tool.get("/office/clarifications", launch_id, sent=row.id).get_data(as_text=True)
    assert f"Clarification {row.id} is queued" in text_of(listed)
    (shown,) = table(listed, "clarifications-table")
    assert shown[:4] == ["Question 4", "E1", "canvas:101", "waiting for the job workers"]


def test_a_clarification_naming_a_student_or_missing_fields_is_refused(tool: Office, files: Files) -> None:
    seed_store(tool.app, files)
    launch_id = tool.officer()
    form = tool.form("/office/clarifications", launch_id)
    cases = [
        ({"exam": "E1", "subject": "For s2", "message": "Your time is extended."}, "subject", "names a student"),
        ({"exam": "E1", "subject": "Time", "message": "Candidates s1 and s5 may take longer."}, "message",
         "names a student"),
        ({"exam": "E1", "subject": "", "message": "x"}, "subject", "Enter a subject."),
        ({"exam": "E1", "subject": "x" * 201, "message": "x"}, "subject", "at most 200 characters"),
        ({"exam": "E1", "subject": "Q", "message": ""}, "message", "Enter the clarification."),
        ({"exam": "", "subject": "Q", "message": "m"}, "exam", "Choose the exam"),
        ({"exam": "E9", "subject": "Q", "message": "m"}, "exam", "no exam with that id"),
    ]
    for values, field, message in cases:
        page = tool.post("/office/clarifications", {**form, **values}, launch_id)
        assert page.status_code == 400, values
        html = page.get_data(as_text=True)
        assert f'href="#field-{field}"' in html and message in text_of(html), (values, field)
        assert f'id="error-{field}"' in html
    assert tool.count(ClarificationRow) == 0 and tool.count(WorkItemRow) == 0
    # the words a student is refused for are kept in the form, so nothing typed is lost
    page = tool.post("/office/clarifications", {**form, **cases[1][0]}, launch_id).get_data(as_text=True)
    assert "Candidates s1 and s5 may take longer.</textarea>" in page


def test_an_alert_is_listed_and_acknowledged_with_an_audit_entry(tool: Office, files: Files) -> None:
    seed_store(tool.app, files)
    with tool.sessions.begin() as session:
        AlertSink().raise_(session, kind="drift", message="exam E1 in canvas:101 drifted: 2 candidates' windows differ",
                           at=datetime.now(UTC), exam_id="E1", course="canvas:101")
    launch_id = tool.officer()
    home = tool.get("/office/", launch_id).get_data(as_text=True)
    assert "exam E1 in canvas:101 drifted" in text_of(home)
    assert '1<span class="visually-hidden"> open alert for E1</span>' in home
    form = tool.form("/office/", launch_id)  # the first post form on the page: this alert's
    done = tool.post("/office/alerts/1/acknowledge", form, launch_id)
    assert done.status_code == 303
    with Session(tool.engine) as session:
        alert = session.get(AlertRow, 1)
        (entry,) = session.scalars(select(AuditRow).where(AuditRow.action == "alert.acknowledged")).all()
    assert alert.acknowledged_by == entry.actor == f"lti:canvas:{OFFICER}"
    assert "No open alerts." in text_of(tool.get("/office/", launch_id).get_data(as_text=True))
    assert tool.post("/office/alerts/1/acknowledge", form, launch_id).status_code == 404


def test_every_form_refuses_a_missing_or_foreign_csrf_token_and_changes_nothing(tool: Office, files: Files) -> None:
    seed_store(tool.app, files)
    launch_id = tool.officer()
    other = tool.officer()  # the same person's other launch: its token is not this one's
    foreign = tool.form("/office/incidents", other)["csrf_token"]
    writes = (("/office/upload", {}), ("/office/period/stagger", {"digest": "x"}),
              ("/office/incidents/preview", {"exam": "E1", "from": "2026-12-01T10:00", "to": "2026-12-01T10:30"}),
              ("/office/incidents", {"exam": "E1", "from": "2026-12-01T10:00", "to": "2026-12-01T10:30"}),
              ("/office/clarifications", {"exam": "E1", "subject": "Q4", "message": "Read litres as millilitres."}),
              ("/office/alerts/1/acknowledge", {}))
    counts = [tool.count(m) for m in (AuditRow, ExamRow, IncidentRow, ClarificationRow, ReleaseShiftRow, WorkItemRow)]
    for path, data in writes:
        missing = tool.post(path, {**data, "launch": launch_id}, launch_id)
        assert missing.status_code == 400, (path, missing.status_code)
        assert "security token" in text_of(missing.get_data(as_text=True))
        wrong = tool.post(path, {**data, "launch": launch_id, "csrf_token": foreign}, launch_id)
        assert wrong.status_code == 403, (path, wrong.status_code)
    assert counts == [tool.count(m) for m in (AuditRow, ExamRow, IncidentRow, ClarificationRow, ReleaseShiftRow,
                                              WorkItemRow)]


def test_every_post_form_on_every_page_carries_the_launch_and_its_token(tool: Office, files: Files) -> None:
    from lms_bridge.web.csrf import token_for

    from .conftest import forms_of

    seed_store(tool.app, files)
    with tool.sessions.begin() as session:
        AlertSink().raise_(session, kind="failed", message="x", at=datetime.now(UTC))
    launch_id = tool.officer()
    for path in ("/office/", "/office/upload", "/office/period", "/office/incidents", "/office/clarifications"):
        html = tool.get(path, launch_id).get_data(as_text=True)
        posts = [f for f in forms_of(html) if f["_method"] == "post"]
        assert posts or path == "/office/period", path  # (no stagger form when nothing is crowded)
        for f in posts:
            assert f["launch"] == launch_id and f["csrf_token"] == token_for(launch_id, "test-secret-key"), path
            assert f"launch={launch_id}" in f["_action"], path


def test_no_support_plan_number_reaches_a_log_line(tool: Office, files: Files, caplog) -> None:
    """Every page and form of the office, logged at DEBUG: plan numbers appear only in pages."""
    import logging
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from .conftest import PLAN_BREAKS, PLAN_PERCENT, hidden_fields

    caplog.set_level(logging.DEBUG)
    seed_store(tool.app, files)
    launch_id = tool.officer()
    start = files.starts["E1"].astimezone(ZoneInfo("Europe/London"))
    form = tool.form("/office/incidents", launch_id)
    preview = tool.post("/office/incidents/preview", {**form, "exam": "E1",
                                                      "from": (start + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
                                                      "to": (start + timedelta(minutes=25)).strftime("%Y-%m-%dT%H:%M")},
                        launch_id)
    assert tool.post("/office/incidents", hidden_fields(preview.get_data(as_text=True)), launch_id).status_code == 303
    for path in ("/office/", "/office/period", "/office/audit", "/office/incidents", "/office/incidents/1",
                 "/office/incidents/1/affected.csv", "/office/clarifications", "/office/upload"):
        assert tool.get(path, launch_id).status_code == 200, path
    # the plan entries are in the audit page (staff only) ...
    audit_page = tool.get("/office/audit", launch_id, entity="plan").get_data(as_text=True)
    assert PLAN_PERCENT in audit_page
    # ... and in no log line
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert PLAN_PERCENT not in logged and PLAN_BREAKS not in logged
