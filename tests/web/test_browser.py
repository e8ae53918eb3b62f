"""Browser tests in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright; no browser
is downloaded): the exam setter's flow from launch to a finished apply, the student's view, a
keyboard-only apply, and a basic automated accessibility check on every page visited.

The app runs on a live server (werkzeug in a thread) and is launched into by a fake Canvas over
real HTTP, like the LMS iframe would. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from adapters.canvas.simulator import SimulatorConfig, SimulatorServer, seed_from_files
from lms_bridge.store.registry import add_lms_connection
from tests.lti.platforms import INSTRUCTOR, LEARNER, FakePlatform, live_launch
from tests.support.apps import close_app, platform_app
from tests.support.browser import assert_accessible, browser, live_server, shot  # noqa: F401 - fixture

from .conftest import seed_store

pytestmark = pytest.mark.browser

@dataclass
class Live:
    base_url: str
    canvas: FakePlatform
    app: Any

    def launch(self, *, role: str, user: str, student_id: str | None = None, course_id: str = "101") -> str:
        launch_id, http = live_launch(self.base_url, self.canvas, roles=role, user_id=user, student_id=student_id,
                                      course_id=course_id, name=f"Person {user}", context_title="Anatomy and Statistics 101")
        http.close()
        return launch_id

    def url(self, path: str, launch_id: str) -> str:
        return f"{self.base_url}{path}?launch={launch_id}"


@pytest.fixture
def live(tmp_path: Path, period_files: dict[str, Path]) -> Iterator[Live]:
    canvas: FakePlatform | None = None

    def build(base_url: str) -> Flask:
        nonlocal canvas
        canvas = FakePlatform.canvas(tool_base=base_url)
        app = platform_app(tmp_path, canvas, LTI_BASE_URL=base_url, TESTING=False)
        seed_store(app, period_files)
        return app

    with SimulatorServer(SimulatorConfig()) as lms, live_server(build) as (base_url, app):
        seed_from_files(lms.sim, period_files["timetable"], period_files["candidates"])
        with app.extensions["lms_bridge.sessions"].begin() as session:
            add_lms_connection(session, name="canvas", kind="canvas", base_url=lms.base_url, token=lms.token,
                               actor="admin", now=datetime.now(UTC))
        try:
            yield Live(base_url, canvas, app)
        finally:
            close_app(app)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    p = context.new_page()
    p.set_default_timeout(20_000)
    yield p
    context.close()


def tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus (keyboard only)."""
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def test_exam_setter_flow_launch_edit_windows_plan_apply(live: Live, page: Any) -> None:
    launch_id = live.launch(role=INSTRUCTOR, user="setter-1")
    page.goto(live.url("/course/", launch_id))
    assert page.locator("h1").inner_text() == "Exams in this course"
    assert_accessible(page)
    shot(page, "01-staff-course-home")

    # the skip link is the first thing the keyboard reaches, and it is visible when focused
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator("a.skip-link").bounding_box()["x"] >= 0

    page.get_by_role("link", name="Edit Anatomy Drop-box").click()
    assert page.locator("h1").inner_text() == "Edit Anatomy Drop-box"
    assert_accessible(page)
    page.get_by_label("Duration in minutes").fill("90")
    page.get_by_label("Reading time in minutes").fill("-5")
    page.get_by_role("button", name="Save exam").click()
    # refused: the error summary has the focus, and each error is tied to its field
    assert "There is a problem; nothing was saved" in page.locator("#error-summary").inner_text()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'")
    assert page.get_by_label("Reading time in minutes").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    shot(page, "02-staff-edit-errors")

    page.get_by_label("Reading time in minutes").fill("10")
    page.get_by_label("Title").fill("Anatomy Drop-box (revised)")
    page.get_by_label("Quiz (Canvas Classic Quiz or Moodle quiz)").check()
    page.get_by_role("button", name="Save exam").click()
    assert "The exam was saved." in page.get_by_role("status").inner_text()
    assert "Anatomy Drop-box (revised)" in page.locator("h1").inner_text()
    windows = page.get_by_role("table", name="Windows of 3 candidates, local time (Europe/London)")
    assert windows.locator("tbody tr").count() == 3
    assert page.get_by_role("img", name="Windows of Anatomy Drop-box (revised)").count() == 1
    assert_accessible(page)
    shot(page, "03-staff-exam-windows")

    page.get_by_role("navigation", name="Exam tool").get_by_role("link", name="Plan and apply").click()
    assert page.locator("h2#plan-heading").inner_text().startswith("Plan: ")
    assert "No drift" in page.locator(".drift-status").inner_text()
    assert_accessible(page)
    shot(page, "04-staff-plan")

    # keyboard only: Tab to Apply and press Enter
    tab_to(page, "#apply-button")
    outline = page.locator("#apply-button").evaluate(
        "el => { const s = getComputedStyle(el); return s.outlineStyle + ' ' + s.boxShadow; }")
    assert not outline.startswith("none none"), f"no visible focus on Apply: {outline}"
    page.keyboard.press("Enter")
    page.wait_for_url("**/course/apply/**")
    assert page.locator("h1").inner_text() == "Applying the plan"
    # the page's script polls the progress endpoint and updates the text in place
    page.wait_for_function("document.getElementById('apply-progress').dataset.state === 'done'", timeout=60_000)
    assert page.locator("#progress-text").inner_text().startswith("Applied all")
    bar = page.locator("#progress-bar")
    assert bar.evaluate("el => el.value === el.max && el.max > 1")
    assert page.locator("#progress-next").is_visible()
    assert_accessible(page)
    shot(page, "05-staff-apply-done")

    page.get_by_role("link", name="Plan again").click()
    assert "The course is up to date" in page.locator("main").inner_text()
    assert page.locator("#apply-button").count() == 0
    shot(page, "06-staff-plan-up-to-date")


def test_progress_page_works_without_javascript(live: Live, browser: Any) -> None:
    launch_id = live.launch(role=INSTRUCTOR, user="setter-2")
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live.url("/course/plan", launch_id))
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url("**/course/apply/**")
        # <noscript><meta refresh> reloads the page until the run is done
        for _ in range(60):
            if "Applied all" in page.locator("#progress-text").inner_text():
                break
            page.wait_for_timeout(1000)
        assert "Applied all" in page.locator("#progress-text").inner_text()
    finally:
        context.close()


def test_student_view_in_a_narrow_iframe(live: Live, browser: Any) -> None:
    launch_id = live.launch(role=LEARNER, user="u-s1", student_id="s1")
    context = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        page = context.new_page()
        page.goto(live.url("/me/", launch_id))
        assert page.locator("h1").inner_text() == "My exams"
        text = page.locator("main").inner_text()
        assert "You have 52 min extra time" in text and "The drop-box closes at 12:27." in text
        assert "s2" not in text and "%" not in text
        # fits the narrow frame: nothing scrolls sideways
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert page.get_by_role("img", name="Your exam times").count() == 1
        assert_accessible(page)
        shot(page, "07-student-my-exams-narrow")
        page.set_viewport_size({"width": 1024, "height": 800})
        shot(page, "08-student-my-exams-wide")
        # and a Learner who tries a staff URL gets the refusal page, keyboard-reachable and accessible
        page.goto(live.url("/course/plan", launch_id))
        assert page.locator("h1").inner_text() == "Forbidden"
        assert_accessible(page)
        shot(page, "09-learner-refused-staff-page")
    finally:
        context.close()
