"""The tool's pages: exam setters' and exams officers' views, and students' own times.

`register(app)` (called by the app factory) attaches two blueprints:

- `staff` under /course/: the course's exams, the create/edit form, every candidate's window
  with the rules that shaped it and a timeline, the plan diff, Apply (a background run with a
  progress page) and drift. Staff only: a Learner gets the 403 page before any data is read.
- `student` under /me/: the student's own exams and times, and the adjustments applied, in
  plain words. Nothing of any other student is ever read for it.

Every form carries the launch id and a CSRF token (see `lms_bridge.web.csrf`); the launch id
travels in every link, as cookies may be blocked in the LMS iframe.

App configuration read here (all optional):
    LMS_BRIDGE_POLICY        the policy used when the store has none in use (default "default")
    LMS_BRIDGE_CONNECTIONS   a `lms_bridge.connections.Connections`, overriding the store's
                             LMS connections and the LMS_BRIDGE_CANVAS_URL/... variables
The SQLAlchemy session factory is app.extensions["lms_bridge.sessions"]; the apply runner is
app.extensions["lms_bridge.apply_runner"] (a `ThreadApplyRunner` unless one is set).
"""

from __future__ import annotations

import threading

from flask import Flask, current_app

from .. import csrf
from ..apply_runner import ApplyRunner, ThreadApplyRunner
from .courses import CourseSettings, apply_work
from .wording import rule_words

SESSIONS = "lms_bridge.sessions"
RUNNER = "lms_bridge.apply_runner"
_runner_lock = threading.Lock()


def register(app: Flask) -> None:
    """Attach the page blueprints to the app (called by the app factory)."""
    from . import staff, student

    csrf.init_app(app)
    app.register_blueprint(staff.bp)
    app.register_blueprint(student.bp)
    app.jinja_env.globals.setdefault("launch_url", _launch_url)
    app.jinja_env.globals["rule_words"] = rule_words


def _make_runner(app: Flask) -> ApplyRunner:
    """On PostgreSQL (several web processes) or with a job runtime beside the app, Apply is
    queued for the job workers, so its progress is visible from any web process and the course
    lock keeps it from racing a scheduled job; otherwise it runs on a thread of this process."""
    engine = app.extensions["lms_bridge.engine"]
    if engine.dialect.name != "sqlite" or app.config.get("APPLY_VIA_QUEUE"):
        from ...jobs.runner import QueueApplyRunner

        return QueueApplyRunner(engine)
    return ThreadApplyRunner(apply_work(sessions(), settings()))


def _launch_url(endpoint: str, **values: object) -> str:
    from ..session import launch_url

    return launch_url(endpoint, **values)


def settings() -> CourseSettings:
    config = current_app.config
    return CourseSettings(
        default_policy=config.get("LMS_BRIDGE_POLICY") or "default",
        connections=config.get("LMS_BRIDGE_CONNECTIONS"),
    )


def sessions():  # noqa: ANN201 - a sessionmaker
    return current_app.extensions[SESSIONS]


def runner() -> ApplyRunner:
    """The app's apply runner, made on first use (the session factory exists by then)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get(RUNNER)
    if found is None:
        with _runner_lock:
            found = app.extensions.get(RUNNER)
            if found is None:
                found = app.extensions[RUNNER] = _make_runner(app)
    return found
