"""The real app with fake LMS platforms registered (tests/lti/platforms.py), and its teardown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from tests.lti.platforms import FakePlatform, make_app, register


def platform_app(tmp_path: Path, *platforms: FakePlatform, **config: Any) -> Flask:
    """`make_app(tmp_path, **config)` with each platform registered."""
    app = make_app(tmp_path, **config)
    for platform in platforms:
        register(app, platform)
    return app


def close_app(app: Flask) -> None:
    """Wait for background apply runs, then close the LTI tool and the store's engine."""
    runner = app.extensions.get("lms_bridge.apply_runner")
    for run_id in list(getattr(runner, "_runs", {})):
        runner.wait(run_id, 30)
    app.extensions["lms_bridge.lti"].close()
    app.extensions["lms_bridge.engine"].dispose()
