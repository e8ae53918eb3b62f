"""The exam period at a glance: the heatmap's numbers are the stored period's candidates per
release slot (day × local start time), over-limit slots say so in words, and Apply records the
stagger proposal through the jobs' service (queued for the LMS), refusing a stale proposal."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms_bridge.jobs import kinds
from lms_bridge.store.job_models import ReleaseShiftRow, WorkItemRow
from lms_bridge.store.models import AuditRow
from lms_bridge.web.office import heatmap

from .conftest import OFFICER, Files, Office, seed_store, text_of

LONDON = ZoneInfo("Europe/London")
REPO = Path(__file__).resolve().parents[2]


def small_policy() -> tuple[str, str]:
    """qmu with a limit of 8 candidates starting at once (E1 + E3 = 12 release together)."""
    text = (REPO / "config" / "policies" / "qmu.toml").read_text(encoding="utf-8")
    return "qmu_small", text.replace('name = "qmu"', 'name = "qmu_small"').replace(
        "max_concurrent_starts = 1500", "max_concurrent_starts = 8")


def cells(html: str, key: str) -> dict[tuple[str, str], int]:
    """(day, time) -> the number shown, for every slot with an exam in the named heatmap."""
    found = re.search(rf'<table class="heatmap" id="heatmap-{key}">(.*?)</table>', html, re.S)
    assert found, f"no heatmap {key}"
    out = {}
    for day, time, count, body in re.findall(
            r'<td class="heat-[\w-]+" data-day="([\d-]+)" data-time="([\d:]+)" data-count="(\d+)">(.*?)</td>',
            found.group(1), re.S):
        if int(count):
            shown = re.search(r'<span class="count">(\d+)</span>', body)
            assert shown and shown.group(1) == count  # the number is on the page, not only in the colour
            out[(day, time)] = int(count)
    return out


def expected(files: Files, moved: dict[str, timedelta] | None = None) -> dict[tuple[str, str], int]:
    period = files.period()
    counts = Counter(s.exam_id for s in period.sittings)
    out: Counter[tuple[str, str]] = Counter()
    for exam in period.exams:
        local = (exam.start + (moved or {}).get(exam.exam_id, timedelta())).astimezone(LONDON)
        out[(local.date().isoformat(), local.strftime("%H:%M"))] += counts[exam.exam_id]
    return dict(out)


def test_the_heatmap_counts_the_stored_candidates_per_slot_and_marks_the_slot_over_the_limit(tool: Office, files) -> None:
    name, text = small_policy()
    seed_store(tool.app, files, policy_text=text, policy_name=name)
    page = tool.get("/office/period", tool.officer())
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert cells(html, "now") == expected(files)
    slot = files.starts["E1"].astimezone(LONDON)
    key = (slot.date().isoformat(), slot.strftime("%H:%M"))
    assert expected(files)[key] == 12
    over = re.search(rf'<td class="heat-over" data-day="{key[0]}" data-time="{key[1]}" data-count="12">(.*?)</td>',
                     html, re.S)
    assert over and "over" in text_of(over.group(1)) and "E1, E3" in text_of(over.group(1))
    words = text_of(html)
    assert "allows at most 8 candidates to start at once" in words
    assert "1 slot over the limit" in words
    # the proposal: E3 (as big as E1, which stays) released 15 minutes later, and the grid after it
    assert cells(html, "proposal") == expected(files, {"E3": timedelta(minutes=15)})
    assert re.search(r"Ethics\s*<span class=\"exam-id\">E3</span>", html)
    assert "15 min later" in words and "proposed, not recorded yet" in words
    # colour AND numbers: a legend in words, and a caption on every table
    assert "over the limit (also marked “over”)" in words
    assert html.count("<caption") >= 3


def test_apply_records_the_shifts_queues_them_for_the_lms_and_audits_them(tool: Office, files) -> None:
    name, text = small_policy()
    seed_store(tool.app, files, policy_text=text, policy_name=name)
    launch_id = tool.officer()
    form = tool.form("/office/period", launch_id)
    assert form["digest"]
    done = tool.post("/office/period/stagger", form, launch_id)
    assert done.status_code == 303 and "recorded=1" in done.headers["Location"]
    with Session(tool.engine) as session:
        (shift,) = session.scalars(select(ReleaseShiftRow)).all()
        (item,) = session.scalars(select(WorkItemRow).where(WorkItemRow.kind == kinds.APPLY_STAGGER)).all()
        (entry,) = session.scalars(select(AuditRow).where(AuditRow.action == "release_shift.recorded")).all()
    assert (shift.exam_id, shift.new_start - shift.original_start) == ("E3", timedelta(minutes=15))
    assert shift.recorded_by == f"lti:canvas:{OFFICER}" and shift.applied_at is None
    assert item.args == {"exam_id": "E3"} and item.state == "pending"
    assert entry.actor == f"lti:canvas:{OFFICER}" and entry.entity_id == "E3"
    after = tool.get("/office/period", launch_id, recorded=1)
    words = text_of(after.get_data(as_text=True))
    assert "1 staggered release recorded" in words
    assert "recorded; waiting for the job workers" in words and "Every proposed shift is already recorded" in words
    # as it stands now equals the proposal
    html = after.get_data(as_text=True)
    assert cells(html, "now") == cells(html, "proposal") == expected(files, {"E3": timedelta(minutes=15)})
    # the overview shows the moved release
    assert "staggered: moved 15 min later" in text_of(tool.get("/office/", launch_id).get_data(as_text=True))


def test_a_stale_proposal_is_not_applied(tool: Office, files) -> None:
    name, text = small_policy()
    seed_store(tool.app, files, policy_text=text, policy_name=name)
    launch_id = tool.officer()
    form = tool.form("/office/period", launch_id)
    page = tool.post("/office/period/stagger", {**form, "digest": "0" * 32}, launch_id)
    assert page.status_code == 409
    assert "nothing was recorded" in text_of(page.get_data(as_text=True))
    assert tool.count(ReleaseShiftRow) == 0 and tool.count(WorkItemRow) == 0


def test_without_a_crowded_slot_nothing_is_proposed(tool: Office, files) -> None:
    seed_store(tool.app, files)  # qmu: 1500 at once
    page = tool.get("/office/period", tool.officer())
    words = text_of(page.get_data(as_text=True))
    assert "No slot is over the limit" in words and "Apply the stagger" not in words
    assert cells(page.get_data(as_text=True), "now") == expected(files)


def test_heat_levels_are_relative_to_the_limit() -> None:
    assert heatmap.level(0, 8, 12) == ("heat-0", False)
    assert heatmap.level(2, 8, 12) == ("heat-1", False)
    assert heatmap.level(5, 8, 12) == ("heat-3", False)
    assert heatmap.level(8, 8, 12) == ("heat-4", False)
    assert heatmap.level(9, 8, 12) == ("heat-over", True)
    assert heatmap.level(12, None, 12) == ("heat-4", False)  # no limit: relative to the busiest slot
    assert heatmap.level(1, None, 12) == ("heat-1", False)
