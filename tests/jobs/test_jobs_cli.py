"""`lms-bridge jobs …` and `lms-bridge worker` from the command line (SQLite), and the
queue-backed apply runner for the pages."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from click.testing import CliRunner
from sqlalchemy.orm import Session

from lms_bridge.cli import main
from lms_bridge.jobs import kinds
from lms_bridge.jobs.runner import QueueApplyRunner
from lms_bridge.store.job_models import WorkItemRow
from tests.jobs.conftest import REPO, subprocess_env


def run(*args: str):  # noqa: ANN201
    return CliRunner().invoke(main, list(args))


def test_enqueue_run_due_list_and_lease(sqlite_url):
    r = run("jobs", "enqueue", "probe", "key=hello", "--database", sqlite_url)
    assert r.exit_code == 0, r.output
    item = json.loads(r.output)["id"]
    bad = run("jobs", "enqueue", "apply_exam", "exam_id=E1", "extra_time_percent=50", "--database", sqlite_url)
    assert bad.exit_code == 2 and "ids only" in bad.output
    listed = run("jobs", "list", "--database", sqlite_url, "--format", "json")
    assert [(i["id"], i["state"]) for i in json.loads(listed.output)] == [(item, "pending")]
    done = run("jobs", "run-due", "--database", sqlite_url)
    assert done.exit_code == 0, done.output
    assert json.loads(done.output.strip().splitlines()[-1]) == {"enqueued": 0, "ran": 1, "completed": 1}
    table = run("jobs", "list", "--database", sqlite_url, "--state", "done")
    assert "probe" in table.output and "key=hello" in table.output
    lease = json.loads(run("jobs", "lease", "--database", sqlite_url).output)
    assert lease["holder"] is None and lease["epoch"] == 1  # run-due led once, then let go


def test_status_alerts_and_retry(sqlite_url):
    assert json.loads(run("jobs", "status", "--database", sqlite_url, "--format", "json").output) == []
    assert run("jobs", "alerts", "--database", sqlite_url).output == ""
    assert run("jobs", "alerts", "--database", sqlite_url, "--ack", "7").exit_code == 2
    assert run("jobs", "retry", "--database", sqlite_url, "99").exit_code == 2
    assert run("jobs", "clarify", "--database", sqlite_url, "--exam", "E1", "--subject", "s",
               "--message", "m").exit_code == 2  # nothing imported: no such exam


def test_worker_command_runs_until_sigterm(sqlite_url, tmp_path):
    r = run("jobs", "enqueue", "probe", "key=w", "--database", sqlite_url)
    assert r.exit_code == 0
    proc = subprocess.Popen([sys.executable, "-m", "lms_bridge", "worker", "--database", sqlite_url, "--node", "cli-node",
                             "--poll", "0.1", "--tick", "0.2", "--lease-ttl", "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=subprocess_env(), cwd=REPO, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            listed = json.loads(run("jobs", "list", "--database", sqlite_url, "--format", "json").output)
            if listed and listed[0]["state"] == "done":
                break
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.2)
        assert json.loads(run("jobs", "lease", "--database", sqlite_url).output)["holder"] == "cli-node"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "node cli-node started" in out and "stopping" in out
    assert json.loads(run("jobs", "lease", "--database", sqlite_url).output)["holder"] is None  # released


def test_queue_apply_runner_applies_once_per_course_and_reports_progress(sqlite_url, engine_for):
    engine = engine_for(sqlite_url)
    runner = QueueApplyRunner(engine)
    first = runner.start("canvas:101", actor="lti:canvas:u1")
    assert runner.start("canvas:101", actor="lti:canvas:u2") == first  # a double click
    other = runner.start("canvas:102", actor="lti:canvas:u1")
    assert other != first
    progress = runner.progress(first)
    assert progress == {"run_id": first, "course": "canvas:101", "state": "queued", "done": 0, "total": None,
                        "failed": 0, "message": None}
    assert runner.progress("nope") is None and runner.progress("999") is None
    with Session(engine) as session, session.begin():
        session.get(WorkItemRow, int(first)).state = "done"
        session.get(WorkItemRow, int(first)).result = "canvas:101: 2 exams read, 0 changes needed, 0 applied"
    assert runner.progress(first)["state"] == "done"
    assert runner.start("canvas:101", actor="lti:canvas:u1") != first  # a new apply once the last one is over
    with Session(engine) as session:
        assert {r.kind for r in session.query(WorkItemRow)} == {kinds.RECONCILE_COURSE}
