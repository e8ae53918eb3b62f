"""Suite-wide test policy.

A test that needs a service (PostgreSQL, a browser) skips with a clear reason on a machine
without it. CI sets LMS_BRIDGE_REQUIRE_SERVICES=1, and then a skip is a failure: CI always
runs everything for real.
"""

from __future__ import annotations

import os

import pytest

REQUIRE_SERVICES = os.environ.get("LMS_BRIDGE_REQUIRE_SERVICES") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ANN001, ANN201 - pytest hook signature
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_SERVICES and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, but LMS_BRIDGE_REQUIRE_SERVICES=1 forbids skips: {reason}"
