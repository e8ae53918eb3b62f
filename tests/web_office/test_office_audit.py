"""The audit log page: each filter (entity, action with prefix, actor, exam id, date range,
words) narrows the entries as asked, paging walks them all, and a bad date is an error tied to
its field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lms_bridge.web.office import audit as audit_view

from .conftest import OFFICER, Files, Office, hidden_fields, seed_store, table, text_of

LONDON = ZoneInfo("Europe/London")


def entries(tool: Office, launch_id: str, **filters: str) -> list[list[str]]:
    page = tool.get("/office/audit", launch_id, **filters)
    assert page.status_code == 200, text_of(page.get_data(as_text=True))[:500]
    html = page.get_data(as_text=True)
    if "No entries" in text_of(html):
        return []
    return table(html, "audit")  # when, who, action, entity + id, reason, changes


@pytest.fixture
def logged(tool: Office, files: Files) -> str:
    """A stored period (by `test`) and an incident on E1 recorded by the officer."""
    seed_store(tool.app, files)
    launch_id = tool.officer()
    start = files.starts["E1"]
    fmt = "%Y-%m-%dT%H:%M"
    form = tool.form("/office/incidents", launch_id)
    page = tool.post("/office/incidents/preview", {
        **form, "exam": "E1", "from": (start + timedelta(minutes=10)).astimezone(LONDON).strftime(fmt),
        "to": (start + timedelta(minutes=20)).astimezone(LONDON).strftime(fmt)}, launch_id)
    assert tool.post("/office/incidents", hidden_fields(page.get_data(as_text=True)), launch_id).status_code == 303
    return launch_id


def test_filters_by_entity_action_and_actor(tool: Office, logged: str) -> None:
    exams = entries(tool, logged, entity="exam")
    assert len(exams) == 4 and {r[2] for r in exams} == {"exam.created"}
    plans = entries(tool, logged, action="plan.*")
    assert len(plans) == 3 and {r[2] for r in plans} == {"plan.created"}
    assert entries(tool, logged, action="plan") == []  # exact unless it ends in *
    mine = entries(tool, logged, actor=f"lti:canvas:{OFFICER}")
    assert [r[2] for r in mine] == ["incident.recorded"]
    assert {r[1] for r in entries(tool, logged, actor="test", entity="sitting")} == {"test"}


def test_the_exam_filter_finds_everything_about_one_exam(tool: Office, logged: str) -> None:
    about = entries(tool, logged, exam="E1")
    actions = sorted(r[2] for r in about)
    assert actions == ["exam.created", "incident.recorded"] + ["sitting.created"] * 6
    assert all("E2" not in r[3] and "E3" not in r[3] for r in about)
    assert len(entries(tool, logged, exam="E3")) == 1 + 6


def test_the_date_range_is_in_local_days_both_included(tool: Office, logged: str) -> None:
    today = datetime.now(UTC).astimezone(LONDON).date()
    everything = entries(tool, logged)
    assert entries(tool, logged, since=today.isoformat(), until=today.isoformat()) == everything
    assert entries(tool, logged, until=(today - timedelta(days=1)).isoformat()) == []
    assert entries(tool, logged, since=(today + timedelta(days=1)).isoformat()) == []


def test_words_search_the_action_entity_and_reason(tool: Office, logged: str) -> None:
    found = entries(tool, logged, q="qmu.incident")
    assert [r[2] for r in found] == ["incident.recorded"]
    # the entry's changes are shown field by field
    assert "exam_id" in found[0][5] and "extend" in found[0][5]


def test_paging_walks_every_entry_once(tool: Office, logged: str, monkeypatch) -> None:
    everything = entries(tool, logged, entity="sitting")
    assert len(everything) == 20
    monkeypatch.setattr(audit_view, "PAGE", 8)
    pages = [entries(tool, logged, entity="sitting", page=str(n)) for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [8, 8, 4]
    assert sum(pages, []) == everything
    html = tool.get("/office/audit", logged, entity="sitting", page="2").get_data(as_text=True)
    assert "Newer entries" in html and "Older entries" in html and "page=3" in html and "entity=sitting" in html


def test_a_bad_date_is_an_error_on_its_field(tool: Office, logged: str) -> None:
    page = tool.get("/office/audit", logged, since="2026-13-01", until="yesterday")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'href="#field-since"' in html and 'href="#field-until"' in html
    assert "'2026-13-01' is not a date (YYYY-MM-DD)" in text_of(html)
    assert 'id="field-since" name="since" type="date" value="2026-13-01" aria-describedby="error-since" aria-invalid="true"' in html
    page = tool.get("/office/audit", logged, since="2026-12-02", until="2026-12-01")
    assert page.status_code == 400 and "The last day is before the first day." in text_of(page.get_data(as_text=True))
