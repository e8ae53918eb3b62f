"""Applying a course's plan in the background, with progress a page can show.

The web page that starts an apply must not wait for it (a course can take minutes at the LMS's
rate limit), so an `ApplyRunner` runs it elsewhere and reports progress by run id:

    run_id = runner.start("canvas:101", actor="lti:canvas:u42")
    runner.progress(run_id)
    # {"run_id": ..., "course": "canvas:101", "state": "applying", "done": 7, "total": 12,
    #  "failed": 0, "message": None}

`state` goes queued -> planning -> applying -> done | failed; `total` is None until the plan is
known. `message` is a sentence for people (what went wrong, or the summary), never plan data.
A runner refuses nothing: starting a course that is already running returns the running id,
so a double click does not apply twice.

`ThreadApplyRunner` (the default) runs each apply in a thread of the web process: right for one
process serving a faculty. Its runs live in that process's memory, so behind several web workers
a progress request can reach a worker that never heard of the run (404): there, set a queue-backed
runner (the job system) in app.extensions["lms_bridge.apply_runner"]; it implements the same two
methods, keeping progress in the shared database. The work itself is the `ApplyWork` callable
(`lms_bridge.web.pages.courses.apply_work`), which knows nothing of threads or queues.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger("lms_bridge.web.apply")

STATES = ("queued", "planning", "applying", "done", "failed")
FINISHED = frozenset({"done", "failed"})


class ProgressReporter(Protocol):
    """What the work tells its runner. Called from the work's own thread."""

    def planning(self) -> None: ...

    def applying(self, total: int) -> None: ...

    def step(self, ok: bool) -> None: ...


# work(course, actor, reporter) -> (succeeded, message). It plans (reading the LMS), applies,
# and reports as it goes; it may raise, which fails the run with a generic message.
ApplyWork = Callable[[str, str, ProgressReporter], tuple[bool, str]]


class ApplyRunner(Protocol):
    def start(self, course: str, actor: str) -> str:
        """Begin applying the course's plan; the run id (the running one's, if any)."""
        ...

    def progress(self, run_id: str) -> dict[str, Any] | None:
        """The run's progress as above, or None for an unknown (or long-finished) run."""
        ...


@dataclass
class _Run:
    run_id: str
    course: str
    actor: str
    state: str = "queued"
    done: int = 0
    total: int | None = None
    failed: int = 0
    message: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # ProgressReporter
    def planning(self) -> None:
        with self.lock:
            self.state = "planning"

    def applying(self, total: int) -> None:
        with self.lock:
            self.state, self.total = "applying", total

    def step(self, ok: bool) -> None:
        with self.lock:
            self.done += 1
            self.failed += 0 if ok else 1

    def finish(self, ok: bool, message: str) -> None:
        with self.lock:
            self.state = "done" if ok else "failed"
            self.message = message
            self.finished = time.monotonic()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"run_id": self.run_id, "course": self.course, "state": self.state, "done": self.done,
                    "total": self.total, "failed": self.failed, "message": self.message}


class ThreadApplyRunner:
    """Each run in a daemon thread of this process; finished runs are kept `keep_seconds`."""

    def __init__(self, work: ApplyWork, *, keep_seconds: float = 3600, max_runs: int = 200) -> None:
        self._work = work
        self._keep = keep_seconds
        self._max = max_runs
        self._runs: dict[str, _Run] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self, course: str, actor: str) -> str:
        with self._lock:
            self._forget_old()
            for run in self._runs.values():
                if run.course == course and run.state not in FINISHED:
                    return run.run_id
            run = _Run(secrets.token_urlsafe(16), course, actor)
            self._runs[run.run_id] = run
            thread = threading.Thread(target=self._run, args=(run,), name=f"apply-{course}", daemon=True)
            self._threads[run.run_id] = thread
        thread.start()
        return run.run_id

    def progress(self, run_id: str) -> dict[str, Any] | None:
        with self._lock:
            run = self._runs.get(run_id)
        return None if run is None else run.snapshot()

    def wait(self, run_id: str, timeout: float | None = None) -> dict[str, Any] | None:
        """Block until the run has finished (for tests and the command line)."""
        with self._lock:
            thread = self._threads.get(run_id)
        if thread is not None:
            thread.join(timeout)
        return self.progress(run_id)

    def _run(self, run: _Run) -> None:
        try:
            ok, message = self._work(run.course, run.actor, run)
        except Exception as exc:  # noqa: BLE001 - a run's failure is reported, not raised
            # The type only: an exception's text could quote data that must not reach a log.
            log.warning("apply of %s failed: %s", run.course, type(exc).__name__)
            ok, message = False, "The apply stopped because of an unexpected error; nothing more was written. Plan again to see where the course stands."
        run.finish(ok, message)
        with self._lock:
            self._threads.pop(run.run_id, None)

    def _forget_old(self) -> None:
        now = time.monotonic()
        for run_id, run in list(self._runs.items()):
            if run.finished is not None and now - run.finished > self._keep:
                del self._runs[run_id]
        finished = sorted((r for r in self._runs.values() if r.finished is not None), key=lambda r: r.finished or 0)
        while len(self._runs) > self._max and finished:
            del self._runs[finished.pop(0).run_id]
