"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright (no
browser is downloaded), an app on a live server (werkzeug in a thread) for it to load, a basic
automated accessibility check, and screenshots in test-artifacts/screenshots/.

`from tests.support.browser import browser` in a test module gives it the (module-scoped)
`browser` fixture; without Chromium or Playwright its tests skip with the reason.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian chromium not found at {CHROMIUM} (apt-get install chromium); no browser is downloaded")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@contextmanager
def live_server(build: Callable[[str], Flask]) -> Iterator[tuple[str, Flask]]:
    """`build(base_url)`'s app served on a free local port, in a thread: (base_url, app)."""
    holder: dict[str, Any] = {}
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app = holder["app"] = build(base_url)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield base_url, app
    finally:
        server.shutdown()
        thread.join(5)


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
