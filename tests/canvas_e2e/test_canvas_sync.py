"""Canvas sync end to end, over real HTTP against the simulator: convergence, what Canvas ends up
holding, idempotence, drift made by hand, faults, and a killed apply followed by a rerun."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from adapters.canvas.simulator import SimulatorConfig, SimulatorServer, seed_from_files
from lms_bridge import services
from lms_bridge.connections import Connections, open_connections
from lms_bridge.inputs import read_period
from lms_bridge.policies import load_policy
from lms_bridge.sync.desired import Paper
from lms_bridge.sync.engine import apply_sync, plan_sync

TIMETABLE = """\
exam_id,title,delivery,start,duration_minutes,reading_minutes,course,access_code,practice_days_before
E1,Anatomy Drop-box,dropbox,2026-12-01 09:30,120,5,canvas:101,,
E2,Statistics Quiz,quiz,2026-12-01 14:00,90,0,canvas:101,owl,2
E3,Law New Quiz,new_quiz,2026-12-02 09:30,60,5,canvas:102,,
E4,Ethics 24h,dropbox,2026-12-03 09:00,1440,0,canvas:102,,
"""
CANDIDATES = "exam_id,student_id\n" + "".join(
    f"{e},s{i}\n" for e in ("E1", "E2") for i in range(1, 7)
) + "".join(f"{e},s{i}\n" for e in ("E3", "E4") for i in range(4, 10))
PLANS = """\
student_id,extra_time_percent,rest_break_minutes_per_hour
s1,25,10
s2,50,0
s4,25,10
s5,100,0
s7,33.3,0
"""
POLICY = "qmu"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in (("timetable", TIMETABLE), ("candidates", CANDIDATES), ("plans", PLANS)):
        out[name] = tmp_path / f"{name}.csv"
        out[name].write_text(text, encoding="utf-8")
    return out


@pytest.fixture
def canvas(files: dict[str, Path]):
    with SimulatorServer(SimulatorConfig()) as server:
        seed_from_files(server.sim, files["timetable"], files["candidates"])
        yield server


PAPER = b"%PDF-1.4 exam paper E1\n"


def sync(server: SimulatorServer, files: dict[str, Path], *, apply: bool = True, audit=None):
    """One run as `lms-bridge apply` does it: plan, then apply; returns (plan, reads, writes)."""
    policy, _ = load_policy(POLICY)
    period = read_period(policy, files["timetable"], files["plans"])
    papers = {"E1": Paper(".pdf", PAPER)}

    async def run():
        async with open_connections(Connections(server.base_url, server.token), policy.calendar.zone) as conns:
            plan = await plan_sync(policy, period, conns.adapters, papers)
            if apply:
                await apply_sync(plan, conns.adapters, audit)
            return plan, conns.reads, conns.writes

    return asyncio.run(run())


def api(server: SimulatorServer) -> httpx.Client:
    return httpx.Client(base_url=server.api_url, headers={"Authorization": f"Bearer {server.token}"})


def utc(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def expected_windows(files: dict[str, Path]):
    policy, _ = load_policy(POLICY)
    period = read_period(policy, files["timetable"], files["plans"], files["candidates"])
    return {(w.exam_id, w.student_id): w for w in services.windows_for(policy, period).windows}


def assignment_named(client: httpx.Client, course: int, tag: str) -> dict:
    rows = client.get(f"/courses/{course}/assignments", params={"include[]": "overrides", "per_page": 100,
                                                                "override_assignment_dates": "false"}).json()
    (found,) = [a for a in rows if a["name"].endswith(f"[{tag}]") and not a["name"].startswith("Practice")]
    return found


def sis_ids(client: httpx.Client, course: int) -> dict[int, str]:
    rows = client.get(f"/courses/{course}/enrollments", params={"per_page": 100}).json()
    return {r["user_id"]: r["user"].get("sis_user_id") for r in rows}


# -- convergence and what Canvas holds --------------------------------------------------------------


def test_apply_converges_and_a_second_apply_writes_nothing(canvas, files):
    plan, _, writes = sync(canvas, files)
    assert not [c for c in plan.courses if c.failed], [c.error or c.failed_at for c in plan.courses]
    assert writes > 0

    again, reads, writes = sync(canvas, files)
    assert again.operations == []
    assert writes == 0
    assert reads <= 12 * len(again.courses), "a no-op re-apply should read a handful of times per course"


def test_canvas_holds_every_candidates_window(canvas, files):
    sync(canvas, files)
    want = expected_windows(files)
    with api(canvas) as client:
        for course, exams in ((101, ("E1", "E2")), (102, ("E3", "E4"))):
            sis = sis_ids(client, course)
            for exam_id in exams:
                a = assignment_named(client, course, exam_id)
                by_student = {}
                for o in a.get("overrides") or ():
                    for uid in o["student_ids"]:
                        assert sis[uid] not in by_student, "a student in two overrides"
                        by_student[sis[uid]] = (utc(o["unlock_at"]), utc(o["due_at"]), utc(o["lock_at"]))
                for (e, student), w in want.items():
                    if e != exam_id:
                        continue
                    got = by_student.get(student, (utc(a["unlock_at"]), utc(a["due_at"]), utc(a["lock_at"])))
                    assert got == (w.opens_at, w.due_at, w.closes_at), (exam_id, student)


def test_quiz_time_limits_and_extensions_match_the_policy(canvas, files):
    sync(canvas, files)
    want = expected_windows(files)
    with api(canvas) as client:
        sis = sis_ids(client, 101)
        quizzes = client.get("/courses/101/quizzes").json()
        (quiz,) = [q for q in quizzes if q["title"] == "Statistics Quiz [E2]"]
        standard = min(w.time_limit_minutes for (e, _), w in want.items() if e == "E2")
        assert quiz["time_limit"] == standard == 90
        assert quiz["access_code"] == "owl"
        subs = client.get(f"/courses/101/quizzes/{quiz['id']}/submissions", params={"per_page": 100}).json()
        extra = {sis[s["user_id"]]: s["extra_time"] for s in subs["quiz_submissions"] if s.get("extra_time")}
        assert extra == {
            s: w.time_limit_minutes - standard for (e, s), w in want.items()
            if e == "E2" and w.time_limit_minutes != standard
        }
        # extra time never comes alone: each of those students' close moved too
        a = assignment_named(client, 101, "E2")
        overridden = {sis[u] for o in a["overrides"] for u in o["student_ids"]}
        assert set(extra) <= overridden

        sis = sis_ids(client, 102)
        nq = assignment_named(client, 102, "E3")
        acc = client.get(f"/courses/102/new_quizzes/{nq['id']}/accommodations").json()["accommodations"]
        standard = min(w.time_limit_minutes for (e, _), w in want.items() if e == "E3")
        assert {sis[r["user_id"]]: r["extra_time"] for r in acc if r["extra_time"]} == {
            s: w.time_limit_minutes - standard for (e, s), w in want.items()
            if e == "E3" and w.time_limit_minutes != standard
        }


def test_exam_area_holds_page_and_assessment_and_nothing_about_plans(canvas, files):
    sync(canvas, files)
    with api(canvas) as client:
        modules = client.get("/courses/101/modules", params={"include[]": "items", "per_page": 100}).json()
        (module,) = [m for m in modules if m["name"] == "Exam: Anatomy Drop-box [E1]"]
        assert module["published"] is True
        assert sorted(i["type"] for i in module["items"]) == ["Assignment", "File", "Page"]
        # the paper is there, byte for byte, and locked until the exam opens
        (item,) = [i for i in module["items"] if i["type"] == "File"]
        paper = client.get(f"/files/{item['content_id']}").json()
        assert paper["display_name"].startswith("Anatomy Drop-box [E1] paper ") and paper["display_name"].endswith(".pdf")
        assert utc(paper["unlock_at"]) == expected_windows(files)[("E1", "s3")].opens_at
        assert client.get(paper["url"]).content == PAPER
        pages = client.get("/courses/101/pages", params={"per_page": 100}).json()
        (page,) = [p for p in pages if p["title"].endswith("[E1]")]
        body = client.get(f"/courses/101/pages/{page['url']}").json()["body"]
        assert "Academic integrity" in body and "Anatomy Drop-box" in body
        # what Canvas shows staff and students names windows, never plans or who has one
        for text in (body, *(o["title"] for o in assignment_named(client, 101, "E1")["overrides"])):
            assert "%" not in text and not re.search(r"\bs[0-9]\b", text)
            assert not re.search(r"\b(25|50|100|33\.3)\b", text)


# -- drift made by hand ----------------------------------------------------------------------------


def test_drift_by_hand_is_detected_shown_and_repaired(canvas, files):
    sync(canvas, files)
    with api(canvas) as client:
        a = assignment_named(client, 101, "E1")
        client.put(f"/courses/101/assignments/{a['id']}", json={"assignment": {"due_at": "2026-12-01T10:00:00Z"}})
        victim = a["overrides"][0]
        client.delete(f"/courses/101/assignments/{a['id']}/overrides/{victim['id']}")
        modules = client.get("/courses/102/modules", params={"per_page": 100}).json()
        m = next(m for m in modules if m["name"].endswith("[E3]"))
        client.put(f"/courses/102/modules/{m['id']}", json={"module": {"published": False}})

    plan, _, _ = sync(canvas, files, apply=False)
    shown = {(op.exam_id, op.action.name) for op in plan.operations}
    assert ("E1", "UPDATE_ASSESSMENT") in shown
    assert ("E1", "SET_OVERRIDES") in shown
    assert ("E3", "UPDATE_MODULE") in shown
    assert all(op.drift for op in plan.operations)

    sync(canvas, files)
    again, _, writes = sync(canvas, files)
    assert again.operations == [] and writes == 0


def test_a_late_enrolment_gets_its_override_on_the_next_apply(canvas, files):
    sync(canvas, files)
    # s7 has a plan but sits no exam in course 101; enrol them there, as a late enrolment would
    user = next(u for u in canvas.sim.users.values() if u.sis_user_id == "s7")
    canvas.sim.enroll(101, user.id)
    plan, _, _ = sync(canvas, files, apply=False)
    assert {op.action.name for op in plan.operations if op.exam_id in ("E1", "E2")} >= {"SET_OVERRIDES"}
    sync(canvas, files)
    assert sync(canvas, files)[0].operations == []


# -- faults ----------------------------------------------------------------------------------------


def count_named(client: httpx.Client, path: str, key: str, tag: str) -> int:
    """How many objects of the exam (not its practice run) the course holds."""
    rows = client.get(path, params={"per_page": 100}).json()
    return sum(1 for row in rows if row[key].endswith(tag) and not row[key].startswith("Practice: "))


def test_faults_are_retried_or_reported_and_nothing_is_duplicated(files):
    config = SimulatorConfig(fault_rate=0.15, drop_rate=0.05, seed=7)
    with SimulatorServer(config) as server:
        seed_from_files(server.sim, files["timetable"], files["candidates"])
        for _ in range(6):  # a failed course is reported; the next run picks it up
            plan, _, _ = sync(server, files)
            if not any(c.failed for c in plan.courses):
                break
        server.faults.clear()
        server.sim.config.fault_rate = server.sim.config.drop_rate = 0.0
        assert sync(server, files)[0].operations == []
        assert server.stats_snapshot()["faults"], "the run should have met faults"
        with api(server) as client:
            for course, tag in ((101, "[E1]"), (101, "[E2]"), (102, "[E3]"), (102, "[E4]")):
                assert count_named(client, f"/courses/{course}/modules", "name", tag) == 1
                assert count_named(client, f"/courses/{course}/pages", "title", tag) == 1


def test_a_write_that_happened_but_was_not_answered_is_not_repeated(canvas, files):
    # Canvas creates the drop-box, then the connection drops: the adapter must look, not re-POST.
    canvas.faults.drop_next("POST", r"/courses/101/assignments$", after=True)
    sync(canvas, files)
    sync(canvas, files)
    with api(canvas) as client:
        assert count_named(client, "/courses/101/assignments", "name", "[E1]") == 1
    assert sync(canvas, files)[0].operations == []


def test_one_course_failing_does_not_stop_the_others(canvas, files):
    canvas.faults.fail_next(50, "GET", r"/courses/102/", status=500)
    plan, _, _ = sync(canvas, files)
    failed = {str(c.course) for c in plan.courses if c.failed}
    assert failed == {"canvas:102"}
    canvas.faults.clear()
    assert [op.exam_id for op in sync(canvas, files, apply=False)[0].operations if op.exam_id in ("E1", "E2")] == []


# -- a killed apply, then a rerun -----------------------------------------------------------------


def test_killed_apply_then_rerun_converges_with_no_duplicates_or_lost_audit(files, tmp_path):
    with SimulatorServer(SimulatorConfig(latency_ms=40)) as server:
        seed_from_files(server.sim, files["timetable"], files["candidates"])
        db = f"sqlite:///{tmp_path / 'audit.db'}"
        (tmp_path / "papers").mkdir()
        (tmp_path / "papers" / "E1.pdf").write_bytes(PAPER)
        cmd = [sys.executable, "-m", "lms_bridge", "apply", "--policy", POLICY, "--papers", str(tmp_path / "papers"),
               "--timetable", str(files["timetable"]), "--plans", str(files["plans"]),
               "--canvas-url", server.base_url, "--canvas-token", server.token,
               "--database", db, "--format", "json"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[2])})
        deadline = time.monotonic() + 60
        while server.stats_snapshot()["writes"] < 8:
            assert proc.poll() is None, "apply finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        writes_before = server.stats_snapshot()["writes"]

        rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                               env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[2])})
        assert rerun.returncode == 0, rerun.stderr
        assert sync(server, files)[0].operations == []
        with api(server) as client:
            for course, tag in ((101, "[E1]"), (101, "[E2]"), (102, "[E3]"), (102, "[E4]")):
                assert count_named(client, f"/courses/{course}/modules", "name", tag) == 1
                assert count_named(client, f"/courses/{course}/pages", "title", tag) == 1
                assert count_named(client, f"/courses/{course}/assignments", "name", tag) == 1

    from sqlalchemy import create_engine, text

    with create_engine(db).connect() as conn:
        actions = [r[0] for r in conn.execute(text("SELECT action FROM audit_log ORDER BY id"))]
    requested = [a for a in actions if a.endswith(".requested")]
    outcomes = [a for a in actions if a.endswith((".done", ".failed"))]
    # every write the killed run made was announced before it was made
    assert len(requested) >= 1 and writes_before >= 8
    # exams apply side by side, one operation at a time each: at most one per exam (four here)
    # was in flight at the kill and has no outcome; everything else is recorded both ways
    assert len(requested) - len(outcomes) <= 4


def test_practice_exam_runs_two_days_earlier_with_the_same_settings_and_adjustments(canvas, files):
    sync(canvas, files)
    want = expected_windows(files)
    with api(canvas) as client:
        quizzes = client.get("/courses/101/quizzes").json()
        exam = next(q for q in quizzes if q["title"] == "Statistics Quiz [E2]")
        practice = next(q for q in quizzes if q["title"] == "Practice: Statistics Quiz [E2]")
        for key in ("time_limit", "access_code", "shuffle_answers", "allowed_attempts"):
            assert practice[key] == exam[key], key
        assert utc(practice["unlock_at"]) == utc(exam["unlock_at"]) - timedelta(days=2)
        assert utc(practice["due_at"]) - utc(practice["unlock_at"]) == utc(exam["due_at"]) - utc(exam["unlock_at"])
        subs = client.get(f"/courses/101/quizzes/{practice['id']}/submissions", params={"per_page": 100}).json()
        standard = exam["time_limit"]
        assert sorted(s["extra_time"] for s in subs["quiz_submissions"] if s.get("extra_time")) == sorted(
            w.time_limit_minutes - standard for (e, _), w in want.items() if e == "E2" and w.time_limit_minutes != standard
        )


def test_a_retitled_exam_is_renamed_in_canvas_not_duplicated(canvas, files):
    sync(canvas, files)
    files["timetable"].write_text(TIMETABLE.replace("Anatomy Drop-box", "Anatomy Drop-box (resit)"), encoding="utf-8")
    plan, _, _ = sync(canvas, files)
    # renamed in place; the paper, whose name carries the title, is replaced under its new name
    assert {op.action.name for op in plan.operations} == {
        "UPDATE_MODULE", "UPDATE_PAGE", "UPDATE_ASSESSMENT", "UPLOAD_PAPER", "LINK_ITEMS"}
    assert sync(canvas, files)[0].operations == []
    with api(canvas) as client:
        for path, key in (("/courses/101/modules", "name"), ("/courses/101/pages", "title"),
                          ("/courses/101/assignments", "name")):
            names = [r[key] for r in client.get(path, params={"per_page": 100}).json() if r[key].endswith("[E1]")]
            assert len(names) == 1 and "(resit)" in names[0], names


def test_a_module_deleted_by_hand_is_made_again_around_the_same_page_and_paper(canvas, files):
    sync(canvas, files)
    with api(canvas) as client:
        modules = client.get("/courses/101/modules", params={"per_page": 100}).json()
        module = next(m for m in modules if m["name"].endswith("[E1]"))
        client.delete(f"/courses/101/modules/{module['id']}")
    plan, _, _ = sync(canvas, files)
    assert [op.action.name for op in plan.operations if op.exam_id == "E1"] == ["CREATE_MODULE", "LINK_ITEMS"]
    assert sync(canvas, files)[0].operations == []
    with api(canvas) as client:
        assert count_named(client, "/courses/101/pages", "title", "[E1]") == 1
        files_ = client.get("/courses/101/files", params={"per_page": 100}).json()
        assert sum("[E1] paper" in f["display_name"] for f in files_) == 1


def test_a_delivery_change_retires_the_old_assessment_and_makes_the_new_one(canvas, files):
    sync(canvas, files)
    files["timetable"].write_text(TIMETABLE.replace("E1,Anatomy Drop-box,dropbox", "E1,Anatomy Drop-box,quiz"),
                                  encoding="utf-8")
    plan, _, _ = sync(canvas, files)
    assert [op.action.name for op in plan.operations if op.exam_id == "E1"][:2] == ["RETIRE_ASSESSMENT", "CREATE_ASSESSMENT"]
    assert sync(canvas, files)[0].operations == []
    with api(canvas) as client:
        rows = client.get("/courses/101/assignments", params={"per_page": 100}).json()
        (old,) = [a for a in rows if a["name"] == "Replaced: Anatomy Drop-box [E1]"]
        assert old["published"] is False
        quizzes = client.get("/courses/101/quizzes").json()
        (new,) = [q for q in quizzes if q["title"] == "Anatomy Drop-box [E1]"]
        assert new["published"] is True and new["time_limit"] == 125


def test_a_corrected_paper_replaces_the_old_one(canvas, files):
    sync(canvas, files)
    corrected = b"%PDF-1.4 exam paper E1, corrected\n"
    policy, _ = load_policy(POLICY)
    period = read_period(policy, files["timetable"], files["plans"])

    async def run():
        async with open_connections(Connections(canvas.base_url, canvas.token), policy.calendar.zone) as conns:
            plan = await plan_sync(policy, period, conns.adapters, {"E1": Paper(".pdf", corrected)})
            assert [op.action.name for op in plan.operations] == ["UPLOAD_PAPER", "LINK_ITEMS"]
            await apply_sync(plan, conns.adapters)
            again = await plan_sync(policy, period, conns.adapters, {"E1": Paper(".pdf", corrected)})
            assert again.operations == []

    asyncio.run(run())
    with api(canvas) as client:
        papers = [f for f in client.get("/courses/101/files", params={"per_page": 100}).json()
                  if "[E1] paper" in f["display_name"]]
        assert len(papers) == 1
        assert client.get(papers[0]["url"]).content == corrected
        assert utc(papers[0]["unlock_at"]) == expected_windows(files)[("E1", "s3")].opens_at
