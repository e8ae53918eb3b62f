"""The plan diff and Apply, from the pages, against the Canvas simulator over real HTTP: the
background run shows its progress, converges the course (a second plan has no operations),
audits every write with the launch's user, and drift made by hand shows up."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters.canvas.simulator import SimulatorConfig, SimulatorServer, seed_from_files
from lms_bridge.store.audit import audit_entries
from lms_bridge.store.registry import add_lms_connection
from tests.lti.platforms import TOOL

from .conftest import Tool, hidden_fields, text_of


@pytest.fixture
def lms(tool: Tool, period_files: dict[str, Path]) -> Iterator[SimulatorServer]:
    """A simulated Canvas holding courses 101 and 202 with their rosters, registered in the store
    as the tool's Canvas connection (as an administrator would)."""
    with SimulatorServer(SimulatorConfig()) as server:
        seed_from_files(server.sim, period_files["timetable"], period_files["candidates"])
        with tool.sessions.begin() as session:
            add_lms_connection(session, name="canvas", kind="canvas", base_url=server.base_url,
                               token=server.token, actor="admin", now=datetime.now(UTC))
        yield server


def wait_for_progress(tool: Tool, progress_url: str, timeout: float = 60) -> list[dict]:
    """Poll the JSON progress endpoint (as the page's script does) until the run finishes."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = tool.client.get(progress_url, base_url=TOOL)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
        seen.append(r.get_json())
        if seen[-1]["finished"]:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"apply did not finish: {seen[-1]}")


def test_plan_apply_progress_and_convergence(tool: Tool, lms: SimulatorServer) -> None:
    launch_id = tool.staff(user="setter-1")
    plan = tool.get("/course/plan", launch_id)
    html = plan.get_data(as_text=True)
    text = text_of(html)
    assert plan.status_code == 200
    assert "Plan: 11 changes" in text
    assert "Anatomy Drop-box E1 : 5 changes" in text and "Statistics Quiz E2 : 6 changes" in text
    assert "create module module 'Exam: Anatomy Drop-box [E1]' because not in the LMS yet" in text
    assert "Rest-break time added on top of extra time (qmu.rest_breaks)".lower() in text.lower()
    assert "No drift" in text
    assert "Law New Quiz" not in text  # course 202 is not this course's business
    assert 'id="apply-button"' in html and "Apply 11 changes" in text

    fields = hidden_fields(html)
    started = tool.post("/course/apply", fields, launch_id)
    assert started.status_code == 303
    progress_page = started.headers["Location"]
    assert f"launch={launch_id}" in progress_page
    page = tool.client.get(progress_page, base_url=TOOL).get_data(as_text=True)
    assert "Applying the plan" in page and 'role="status"' in page
    progress_url = TOOL + page.split('data-progress-url="')[1].split('"')[0].replace("&amp;", "&")
    seen = wait_for_progress(tool, progress_url)
    final = seen[-1]
    assert final == {"state": "done", "done": 11, "total": 11, "failed": 0, "finished": True,
                     "text": "Applied all 11 changes."}
    assert all(p["done"] <= (p["total"] or 0) for p in seen)
    # without JavaScript: the finished page says so and stops refreshing
    done_page = tool.client.get(progress_page, base_url=TOOL).get_data(as_text=True)
    assert "Applied all 11 changes." in done_page and 'http-equiv="refresh"' not in done_page

    again = text_of(tool.get("/course/plan", launch_id).get_data(as_text=True))
    assert "Plan: 0 changes" in again and "The course is up to date" in again
    assert "Apply 0" not in again

    with tool.sessions() as session:
        writes = [e for e in audit_entries(session, entity="exam", limit=500) if e.action.endswith(".done")]
        assert len(writes) == 11
        assert {e.actor for e in writes} == {"lti:canvas:setter-1"}
        assert {e.entity_id.split("/")[0] for e in writes} == {"canvas:101"}
    home = text_of(tool.get("/course/", launch_id).get_data(as_text=True))
    assert "never" not in home  # "Last applied" is filled in for both exams

    # course 202 was left alone
    with httpx.Client(base_url=lms.api_url, headers={"Authorization": f"Bearer {lms.token}"}) as api:
        assert api.get("/courses/202/modules").json() == []
        assert len(api.get("/courses/101/modules").json()) == 2


def test_windows_come_from_the_lms_roster_when_connected(tool: Tool, lms: SimulatorServer) -> None:
    user = lms.sim.create_user("Late Student", "s7")
    lms.sim.enroll(101, user.id)
    text = text_of(tool.get("/course/exams/E2/", tool.staff()).get_data(as_text=True))
    assert "the Canvas course roster, read just now" in text
    assert "s7" in text  # enrolled in Canvas, in no candidates list


def test_drift_made_by_hand_is_shown(tool: Tool, lms: SimulatorServer) -> None:
    launch_id = tool.staff()
    tool.post("/course/apply", hidden_fields(tool.get("/course/plan", launch_id).get_data(as_text=True)), launch_id)
    runner = tool.app.extensions["lms_bridge.apply_runner"]
    (run_id,) = list(runner._runs)
    assert runner.wait(run_id, 60)["state"] == "done"
    with httpx.Client(base_url=lms.api_url, headers={"Authorization": f"Bearer {lms.token}"}) as api:
        rows = api.get("/courses/101/assignments", params={"per_page": 100}).json()
        (a,) = [r for r in rows if r["name"].endswith("[E1]")]
        api.put(f"/courses/101/assignments/{a['id']}", json={"assignment": {"due_at": "2026-12-01T10:00:00Z"}})
    text = text_of(tool.get("/course/plan", launch_id).get_data(as_text=True))
    assert "1 change repairs drift" in text
    assert "E1: update assessment dropbox 'Anatomy Drop-box [E1]'" in text
    assert "Tue 01 Dec 2026 10:00 GMT" in text and "Tue 01 Dec 2026 11:35 GMT" in text  # before -> after, local


def test_another_course_cannot_see_a_run(tool: Tool, lms: SimulatorServer) -> None:
    mine = tool.staff("canvas", "101")
    theirs = tool.staff("canvas", "202", user="t9")
    location = tool.post("/course/apply", hidden_fields(tool.get("/course/plan", mine).get_data(as_text=True)),
                         mine).headers["Location"]
    run_id = location.split("/apply/")[1].split("?")[0]
    assert tool.get(f"/course/apply/{run_id}", theirs).status_code == 404
    assert tool.get(f"/course/apply/{run_id}/progress.json", theirs).status_code == 404
    tool.app.extensions["lms_bridge.apply_runner"].wait(run_id, 60)


# --- Moodle -------------------------------------------------------------------------------------


@pytest.fixture
def moodle_lms(request, tool: Tool, period_files: dict[str, Path]) -> Iterator[object]:  # noqa: ANN001
    """A simulated Moodle (4.5, with or without the companion plugin) holding course 7."""
    from adapters.moodle.simulator import SimulatorConfig as MoodleConfig
    from adapters.moodle.simulator import SimulatorServer as MoodleServer
    from adapters.moodle.simulator import seed_from_files as seed_moodle

    with MoodleServer(MoodleConfig(version="4.5", plugin=request.param)) as server:
        seed_moodle(server.sim, period_files["timetable"], period_files["candidates"])
        with tool.sessions.begin() as session:
            add_lms_connection(session, name="moodle", kind="moodle", base_url=server.base_url,
                               token=server.token, actor="admin", now=datetime.now(UTC))
        yield server


@pytest.mark.parametrize("moodle_lms", [True], indirect=True, ids=["plugin"])
def test_moodle_course_plans_applies_and_converges(tool: Tool, moodle_lms: object) -> None:
    launch_id = tool.staff("moodle", "7", user="m-teacher")
    html = tool.get("/course/plan", launch_id).get_data(as_text=True)
    text = text_of(html)
    assert "Moodle Essay" in text and re.search(r"Apply \d+ changes", text)
    assert "Anatomy" not in text  # the Canvas course's exams are not this course's business
    started = tool.post("/course/apply", hidden_fields(html), launch_id)
    progress_url = TOOL + tool.client.get(started.headers["Location"], base_url=TOOL).get_data(as_text=True) \
        .split('data-progress-url="')[1].split('"')[0].replace("&amp;", "&")
    final = wait_for_progress(tool, progress_url)[-1]
    assert final["state"] == "done" and final["failed"] == 0 and final["done"] == final["total"] > 0
    again = text_of(tool.get("/course/plan", launch_id).get_data(as_text=True))
    assert "Plan: 0 changes" in again and "The course is up to date" in again
    with tool.sessions() as session:
        writes = [e for e in audit_entries(session, entity="exam", limit=500) if e.action.endswith(".done")]
        assert writes and {e.actor for e in writes} == {"lti:moodle:m-teacher"}
        assert {e.entity_id for e in writes} == {"moodle:7/M1"}


@pytest.mark.parametrize("moodle_lms", [False], indirect=True, ids=["core-only"])
def test_moodle_without_the_plugin_lists_the_steps_by_hand(tool: Tool, moodle_lms: object) -> None:
    launch_id = tool.staff("moodle", "7")
    html = tool.get("/course/plan", launch_id).get_data(as_text=True)
    text = text_of(html)
    assert re.search(r"\d+ steps? to do by hand in Moodle", text), text[:2000]
    assert "Why by hand:" in text
    assert "%" not in text.split("to do by hand in Moodle", 1)[1]  # no plan numbers in the steps
