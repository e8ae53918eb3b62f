"""The in-process apply runner: progress by run id, one run per course at a time."""

from __future__ import annotations

import threading

from lms_bridge.web.apply_runner import ThreadApplyRunner


def test_progress_goes_from_planning_to_done() -> None:
    gate = threading.Event()
    seen = []

    def work(course, actor, reporter):  # noqa: ANN001, ANN202
        reporter.planning()
        reporter.applying(3)
        reporter.step(True)
        reporter.step(False)
        gate.wait(5)
        reporter.step(True)
        seen.append((course, actor))
        return False, "1 failed"

    runner = ThreadApplyRunner(work)
    run_id = runner.start("canvas:1", "lti:canvas:u1")
    assert runner.start("canvas:1", "someone else") == run_id  # a double click: the same run
    mid = runner.progress(run_id)
    assert mid["state"] in ("queued", "planning", "applying")
    gate.set()
    final = runner.wait(run_id, 5)
    assert final == {"run_id": run_id, "course": "canvas:1", "state": "failed", "done": 3, "total": 3,
                     "failed": 1, "message": "1 failed"}
    assert seen == [("canvas:1", "lti:canvas:u1")]
    assert runner.progress("nope") is None
    assert runner.start("canvas:1", "x") != run_id  # finished: a new run may start


def test_an_exception_fails_the_run_without_its_text() -> None:
    def work(course, actor, reporter):  # noqa: ANN001, ANN202
        raise RuntimeError("student s1 has 50% extra time")

    runner = ThreadApplyRunner(work)
    final = runner.wait(runner.start("canvas:2", "a"), 5)
    assert final["state"] == "failed"
    assert "50%" not in final["message"] and "s1" not in final["message"]
