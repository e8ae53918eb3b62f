"""The exams office in headless Chromium (Debian's /usr/bin/chromium through Playwright; no
browser is downloaded): the overview with statuses and an alert, the exam period heatmap, and an
incident entered and previewed with the keyboard, in an LMS-iframe-sized window and a narrow one;
an automated accessibility check (labels, captions and scopes, contrast, headings, ids) on each.
Screenshots go to test-artifacts/screenshots/office-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from lms_bridge.jobs.alerts import AlertSink
from lms_bridge.jobs.status import APPLIED, DRIFTED, VERIFIED, record_status
from tests.lti.platforms import INSTRUCTOR, FakePlatform, live_launch
from tests.support.apps import close_app
from tests.support.browser import assert_accessible, browser, live_server  # noqa: F401 - fixture
from tests.support.browser import shot as screenshot

from .conftest import OFFICER, Files, office_app, seed_store
from .test_office_period import small_policy

pytestmark = pytest.mark.browser

LONDON = ZoneInfo("Europe/London")


@dataclass
class Live:
    base_url: str
    canvas: FakePlatform
    app: Any

    def officer(self) -> str:
        launch_id, http = live_launch(self.base_url, self.canvas, roles=INSTRUCTOR, user_id=OFFICER,
                                      course_id="101", name="Olive Officer", context_title="Exams Office")
        http.close()
        return launch_id

    def url(self, path: str, launch_id: str) -> str:
        return f"{self.base_url}{path}?launch={launch_id}"


@pytest.fixture
def live(tmp_path: Path, files: Files) -> Iterator[Live]:
    canvas: FakePlatform | None = None

    def build(base_url: str) -> Flask:
        nonlocal canvas
        canvas, moodle = FakePlatform.canvas(tool_base=base_url), FakePlatform.moodle(tool_base=base_url)
        app = office_app(tmp_path, canvas, moodle, LTI_BASE_URL=base_url, TESTING=False)
        name, text = small_policy()
        seed_store(app, files, policy_text=text, policy_name=name)
        now = datetime.now(UTC)
        with app.extensions["lms_bridge.sessions"].begin() as session:
            record_status(session, "E1", state=VERIFIED, now=now, course="canvas:101", operations=0, differing=0)
            record_status(session, "E2", state=APPLIED, now=now, course="canvas:101", operations=4, differing=6)
            record_status(session, "E3", state=DRIFTED, now=now, course="canvas:102", operations=2, differing=1,
                          message="exam E3 in canvas:102 drifted: 1 candidates' windows differ; a repair is queued")
            AlertSink().raise_(session, kind="drift", at=now, exam_id="E3", course="canvas:102",
                               message="exam E3 in canvas:102 drifted: 1 candidates' windows differ from the plan")
        return app

    with live_server(build) as (base_url, app):
        try:
            yield Live(base_url, canvas, app)
        finally:
            close_app(app)


def shot(page: Any, name: str) -> None:
    screenshot(page, f"office-{name}")


def test_office_overview_heatmap_and_incident_preview(live: Live, browser: Any, files: Files) -> None:
    launch_id = live.officer()
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(live.url("/office/", launch_id))
        assert page.locator("h1").inner_text() == "Every exam in its LMS"
        statuses = page.get_by_role("table", name="4 exams, by start")
        assert statuses.locator("tbody tr").count() == 4
        row = statuses.locator("tbody tr", has_text="E3")
        assert "drifted" in row.inner_text() and "2 changes needed, 1 candidate differed" in row.inner_text()
        assert "exam E3 in canvas:102 drifted" in page.locator("#alerts + ul").inner_text()
        assert_accessible(page)
        shot(page, "01-overview")

        page.get_by_role("navigation", name="Exams office").get_by_role("link", name="Exam period").click()
        assert page.locator("h1").inner_text() == "The exam period at a glance"
        slot = files.starts["E1"].astimezone(LONDON)
        cell = page.locator(f'#heatmap-now td[data-day="{slot.date().isoformat()}"][data-time="{slot:%H:%M}"]')
        assert "12" in cell.inner_text() and "OVER" in cell.inner_text().upper()
        assert_accessible(page)  # the over-limit cell's white on dark red passes the contrast check too
        shot(page, "02-period-heatmap")

        # keyboard only: from the nav to the incident form, fill it, preview
        page.get_by_role("navigation", name="Exams office").get_by_role("link", name="Incidents").focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**/office/incidents?**")
        assert_accessible(page)
        page.get_by_label("Exam", exact=True).focus()
        page.get_by_label("Exam", exact=True).select_option("E1")
        start = files.starts["E1"]
        page.get_by_label("Disruption started").fill((start + timedelta(minutes=10)).astimezone(LONDON).strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Disruption ended").fill((start + timedelta(minutes=40)).astimezone(LONDON).strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Disruption ended").focus()
        for _ in range(12):  # past the date-time field's own parts (day, month, year, hour, minute)
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.tagName") == "BUTTON":
                break
        assert page.evaluate("document.activeElement.textContent.trim()") == "Preview the decision"
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", "no visible focus on the button"
        page.keyboard.press("Enter")
        page.wait_for_url("**/office/incidents/preview?**")
        assert page.locator("h1").inner_text() == "What the policy decides"
        affected = page.get_by_role("table", name="Affected candidates and their windows, before and after the extension")
        assert affected.locator("tbody tr").count() == 6
        confirm = page.get_by_role("button", name="Record it and extend 6 candidates' windows in Canvas")
        assert confirm.is_visible()
        assert_accessible(page)
        shot(page, "03-incident-preview")

        # a refused form: the error summary takes the focus and links to the field
        page.goto(live.url("/office/incidents", launch_id))
        page.get_by_role("button", name="Preview the decision").click()
        page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'")
        assert page.get_by_label("Exam", exact=True).get_attribute("aria-invalid") == "true"
        assert_accessible(page)
        shot(page, "04-incident-errors")

        # in a narrow LMS frame the page does not scroll sideways (tables scroll in their own region)
        page.set_viewport_size({"width": 360, "height": 740})
        page.goto(live.url("/office/", launch_id))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        shot(page, "05-overview-narrow")
    finally:
        context.close()
