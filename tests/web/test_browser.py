"""Browser tests in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright; no browser
is downloaded): the exam setter's flow from launch to a finished apply, the student's view, a
keyboard-only apply, and a basic automated accessibility check on every page visited.

The app runs on a live server (werkzeug in a thread) and is launched into by a fake Canvas over
real HTTP, like the LMS iframe would. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from adapters.canvas.simulator import SimulatorConfig, SimulatorServer, seed_from_files
from lms_bridge.store.registry import add_lms_connection
from tests.lti.platforms import INSTRUCTOR, LEARNER, FakePlatform, live_launch, make_app, register

from .conftest import seed_store

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


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
    holder: dict[str, Any] = {}
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app = make_app(tmp_path, LTI_BASE_URL=base_url, TESTING=False)
    canvas = FakePlatform.canvas(tool_base=base_url)
    register(app, canvas)
    seed_store(app, period_files)
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    with SimulatorServer(SimulatorConfig()) as lms:
        seed_from_files(lms.sim, period_files["timetable"], period_files["candidates"])
        with app.extensions["lms_bridge.sessions"].begin() as session:
            add_lms_connection(session, name="canvas", kind="canvas", base_url=lms.base_url, token=lms.token,
                               actor="admin", now=datetime.now(UTC))
        try:
            yield Live(base_url, canvas, app)
        finally:
            server.shutdown()
            thread.join(5)
            runner = app.extensions.get("lms_bridge.apply_runner")
            for run_id in list(getattr(runner, "_runs", {})):
                runner.wait(run_id, 30)
            app.extensions["lms_bridge.lti"].close()
            app.extensions["lms_bridge.engine"].dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian chromium not found at {CHROMIUM} (apt-get install chromium); no browser is downloaded")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    p = context.new_page()
    p.set_default_timeout(20_000)
    yield p
    context.close()


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


# A basic, automated accessibility check (not a full audit): labels, text alternatives, table
# headers, landmarks and headings, ids, accessible names, and WCAG AA text contrast.
A11Y_CHECK = r"""
() => {
  const problems = [];
  const textOf = (id) => (document.getElementById(id)?.textContent || '').trim();
  const named = (el) => {
    if ((el.getAttribute('aria-label') || '').trim()) return true;
    const by = el.getAttribute('aria-labelledby');
    if (by && by.split(/\s+/).every(textOf)) return true;
    if (el.id && (document.querySelector(`label[for="${CSS.escape(el.id)}"]`)?.textContent || '').trim()) return true;
    return !!el.closest('label');
  };
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea, progress'))
    if (!named(el)) problems.push('no label: ' + el.outerHTML.slice(0, 90));
  for (const fs of document.querySelectorAll('fieldset'))
    if (!(fs.querySelector('legend')?.textContent || '').trim()) problems.push('fieldset without legend');
  for (const img of document.querySelectorAll('img'))
    if (!img.hasAttribute('alt')) problems.push('img without alt: ' + img.src);
  for (const svg of document.querySelectorAll('svg')) {
    if (svg.closest('[aria-hidden="true"]')) continue;
    if (svg.getAttribute('role') !== 'img' || !named(svg)) problems.push('svg without a text alternative');
  }
  for (const t of document.querySelectorAll('table')) {
    if (!(t.querySelector('caption')?.textContent || '').trim()) problems.push('table without caption');
    for (const th of t.querySelectorAll('th')) if (!th.getAttribute('scope')) problems.push('th without scope');
  }
  for (const el of document.querySelectorAll('a, button'))
    if (!(el.textContent || '').trim() && !named(el)) problems.push('no accessible name: ' + el.outerHTML.slice(0, 90));
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  for (const id of new Set(ids)) if (ids.filter(x => x === id).length > 1) problems.push('duplicate id ' + id);
  for (const el of document.querySelectorAll('[aria-describedby]'))
    for (const id of el.getAttribute('aria-describedby').split(/\s+/))
      if (!document.getElementById(id)) problems.push('aria-describedby points nowhere: ' + id);
  if (!document.documentElement.lang) problems.push('no lang on html');
  if (!document.title.trim()) problems.push('no title');
  if (document.querySelectorAll('main').length !== 1) problems.push('not exactly one main');
  if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one h1');
  const skip = document.querySelector('a.skip-link');
  if (!skip || !document.querySelector(skip.getAttribute('href'))) problems.push('no working skip link');
  // heading levels never skip (h2 -> h4)
  let last = 0;
  for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const level = +h.tagName[1];
    if (last && level > last + 1) problems.push('heading level skips to ' + h.tagName + ': ' + h.textContent.trim());
    last = level;
  }
  // text contrast (WCAG 2 AA): 4.5:1, or 3:1 for large text
  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0)) return c;
    }
    return [255, 255, 255];
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const checked = new Set();
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || checked.has(el) || el.closest('svg')) continue;
    checked.add(el);
    const style = getComputedStyle(el), box = el.getBoundingClientRect();
    if (style.visibility === 'hidden' || style.display === 'none' || box.width <= 1 || box.height <= 1) continue;
    const fg = lum(rgb(style.color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize), bold = +style.fontWeight >= 700;
    const needed = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    if (ratio < needed) problems.push(`contrast ${ratio.toFixed(2)} < ${needed}: "${node.textContent.trim().slice(0, 40)}"`);
  }
  return problems;
}
"""


def assert_accessible(page: Any) -> None:
    problems = page.evaluate(A11Y_CHECK)
    assert problems == [], f"{page.url}: {problems}"


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
