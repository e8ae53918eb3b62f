"""Uploading the timetable and plans: validated whole, every problem shown by file, row and
column and tied to its file field; nothing imported on any problem; a clean upload imported in
one transaction, audited with the launch user, and a reconcile queued for each changed course."""

from __future__ import annotations

import io
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms_bridge.jobs import kinds
from lms_bridge.store.job_models import WorkItemRow
from lms_bridge.store.models import AuditRow, ExamRow, PlanRow, PolicyRow, SittingRow

from .conftest import OFFICER, PLAN_BREAKS, PLAN_PERCENT, Files, Office, table, text_of

BAD_TIMETABLE = """\
exam_id,title,delivery,start,duration_minutes,course
E1,Anatomy,dropbox,2026-12-01 09:30,90,canvas:101
E2,Statistics,essay,2026-03-29 01:30,60,canvas:101
E1,Again,quiz,2026-12-02 09:30,60,canvas:101
"""
BAD_PLANS = """\
student_id,extra_time_percent
s1,-12.5
s2,50
"""


def upload(tool: Office, launch_id: str, files: dict[str, tuple[bytes, str]], **fields: str):  # noqa: ANN201
    token = tool.form("/office/upload", launch_id)
    data: dict = {**token, **fields}
    for name, (content, filename) in files.items():
        data[name] = (io.BytesIO(content), filename)
    return tool.post("/office/upload", data, launch_id, content_type="multipart/form-data")


def good(f: Files) -> dict[str, tuple[bytes, str]]:
    return {"timetable": (f.timetable.read_bytes(), "Timetable Dec.csv"), "plans": (f.plans.read_bytes(), "plans.csv"),
            "candidates": (f.candidates.read_bytes(), "candidates.csv")}


def test_an_upload_with_errors_lists_them_by_file_row_and_column_and_writes_nothing(tool: Office, files, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    launch_id = tool.officer()
    audited = tool.count(AuditRow)  # the platforms' registration
    page = upload(tool, launch_id, {"timetable": (BAD_TIMETABLE.encode(), "my timetable.csv"),
                                    "plans": (BAD_PLANS.encode(), "plans.csv"),
                                    "candidates": (files.candidates.read_bytes(), "candidates.csv")})
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    text = text_of(html)
    assert "nothing was imported" in text
    # each problem by file, row and column (the uploaded name shown beside the file's role)
    rows = [tuple(r[:3]) + (r[3],) for r in table(html, "problems")]
    shown = "timetable.csv (uploaded as my timetable.csv)"
    assert (shown, "3", "delivery") in [r[:3] for r in rows]
    (start,) = [r for r in rows if r[:3] == (shown, "3", "start")]
    assert "does not exist in Europe/London" in start[3] and "clocks go forward" in start[3]
    assert (shown, "4", "exam_id", "exam id E1 is already used on row 2") in rows
    (plan,) = [r for r in rows if r[0] == "plans.csv"]
    assert plan[1:3] == ("2", "extra_time_percent") and plan[3].startswith("must not be negative")
    assert "/tmp" not in text and "lms_bridge_upload_" not in text  # no server paths
    # the error summary links to each file's field, which points to its message
    assert 'href="#field-timetable"' in html and 'href="#field-plans"' in html
    assert 'id="field-timetable" name="timetable" type="file"' in html
    assert 'aria-describedby="hint-timetable error-timetable" aria-invalid="true"' in html
    assert "timetable.csv has 3 problems" in text and "plans.csv has 1 problem," in text
    # plan values never repeated in an error
    assert "-12.5" not in text and "12.5" not in text
    # nothing at all was written
    assert tool.count(ExamRow) == tool.count(PlanRow) == tool.count(SittingRow) == 0
    assert tool.count(PolicyRow) == tool.count(WorkItemRow) == 0 and tool.count(AuditRow) == audited
    assert "12.5" not in "\n".join(r.getMessage() for r in caplog.records)


def test_a_missing_file_is_an_error_on_its_field(tool: Office, files) -> None:
    launch_id = tool.officer()
    audited = tool.count(AuditRow)
    page = upload(tool, launch_id, {"timetable": (files.timetable.read_bytes(), "timetable.csv")})
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'href="#field-plans"' in html and "Choose the plans.csv file." in html
    assert tool.count(ExamRow) == 0 and tool.count(AuditRow) == audited


def test_a_candidates_file_naming_an_unknown_exam_blocks_the_whole_import(tool: Office, files) -> None:
    launch_id = tool.officer()
    audited = tool.count(AuditRow)
    content = files.candidates.read_bytes() + b"E9,s1\n"
    page = upload(tool, launch_id, {**good(files), "candidates": (content, "candidates.csv")})
    assert page.status_code == 400
    assert table(page.get_data(as_text=True), "problems") == [
        ["candidates.csv", "22", "exam_id", "unknown exam 'E9' (not in timetable.csv)"]]
    assert tool.count(ExamRow) == 0 and tool.count(SittingRow) == 0 and tool.count(AuditRow) == audited


def test_a_good_upload_imports_audits_with_the_launch_user_and_queues_reconciles(tool: Office, files, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    launch_id = tool.officer()
    page = upload(tool, launch_id, good(files))
    assert page.status_code == 200, text_of(page.get_data(as_text=True))[:800]
    text = text_of(page.get_data(as_text=True))
    assert "Imported" in text and "Exams 4 0 0 0 0" in text and "Support plans 3 0 0 0 0" in text
    assert "Candidates (sittings) 20 0 0 0 0" in text
    assert "A reconcile of 3 changed courses is queued" in text
    assert tool.count(ExamRow) == 4 and tool.count(PlanRow) == 3 and tool.count(SittingRow) == 20
    with Session(tool.engine) as session:
        actors = set(session.scalars(select(AuditRow.actor).where(
            AuditRow.entity.in_(("exam", "plan", "sitting", "policy")))))
        actions = set(session.scalars(select(AuditRow.action)))
        queued = {tuple(sorted(w.args.items())) for w in session.scalars(select(WorkItemRow))}
        kinds_ = set(session.scalars(select(WorkItemRow.kind)))
    assert actors == {f"lti:canvas:{OFFICER}"}
    assert {"exam.created", "plan.created", "sitting.created", "policy.activated"} <= actions
    assert kinds_ == {kinds.RECONCILE_COURSE}
    assert queued == {(("course", "canvas:101"),), (("course", "canvas:102"),), (("course", "moodle:7"),)}
    # no plan number in any log line
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert PLAN_PERCENT not in logged and PLAN_BREAKS not in logged

    # the same files again: nothing changes, nothing more is queued
    again = upload(tool, launch_id, good(files))
    assert again.status_code == 200
    assert "Exams 0 0 4 0 0" in text_of(again.get_data(as_text=True))
    assert "Nothing changed" in text_of(again.get_data(as_text=True))
    assert tool.count(WorkItemRow) == 3


def test_an_oversized_upload_is_refused_before_it_is_read(tool: Office, files) -> None:
    launch_id = tool.officer()
    audited = tool.count(AuditRow)
    tool.app.config["OFFICE_MAX_UPLOAD_BYTES"] = 2000
    big = files.timetable.read_bytes() + b"\n" * 5000
    page = upload(tool, launch_id, {**good(files), "timetable": (big, "timetable.csv")})
    assert page.status_code == 413
    assert tool.count(ExamRow) == 0 and tool.count(AuditRow) == audited


def test_an_unknown_policy_choice_is_refused(tool: Office, files) -> None:
    launch_id = tool.officer()
    page = upload(tool, launch_id, good(files), policy="../../etc/passwd")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'href="#field-policy"' in html and "Choose one of the policies listed." in html
    assert tool.count(ExamRow) == 0
