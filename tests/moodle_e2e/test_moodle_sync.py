"""Moodle sync end to end, over real HTTP against the simulator, in each mode (4.5 with and
without the companion plugin, 5.0 with it, 5.3 with and without it): convergence, what Moodle
ends up holding (every candidate's effective window, read back through the web services),
idempotence, drift made by hand, faults, a killed apply and its rerun, the steps left to people
on a core-only site, bad input, and the command line on a timetable that mixes Canvas and Moodle."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from adapters.moodle.client import encode_params
from adapters.moodle.simulator import SimulatorConfig, SimulatorServer, seed_from_files
from lms_bridge import services
from lms_bridge.connections import Connections, open_connections
from lms_bridge.inputs import read_period
from lms_bridge.policies import load_policy
from lms_bridge.sync.desired import Paper
from lms_bridge.sync.engine import apply_sync, plan_sync

ROOT = Path(__file__).resolve().parents[2]
TIMETABLE = """\
exam_id,title,delivery,start,duration_minutes,reading_minutes,course,access_code,practice_days_before
E1,Anatomy Drop-box,dropbox,2026-12-01 09:30,120,5,moodle:101,,
E2,Statistics Quiz,quiz,2026-12-01 14:00,90,0,moodle:101,owl,2
E3,Law New Quiz,new_quiz,2026-12-02 09:30,60,5,moodle:102,,
E4,Ethics 24h,dropbox,2026-12-03 09:00,1440,0,moodle:102,,
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
PAPER = b"%PDF-1.4 exam paper E1\n"
EXAMS = {101: ("E1", "E2"), 102: ("E3", "E4")}
QUIZZES = {"E2", "E3"}

MODES = [("4.5", True), ("4.5", False), ("5.0", True), ("5.3", True), ("5.3", False)]
PLUGIN_MODES = [m for m in MODES if m[1]]
CORE_MODES = [m for m in MODES if not m[1]]


def mode_id(mode: tuple[str, bool]) -> str:
    return f"{mode[0]}-{'plugin' if mode[1] else 'core'}"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in (("timetable", TIMETABLE), ("candidates", CANDIDATES), ("plans", PLANS)):
        out[name] = tmp_path / f"{name}.csv"
        out[name].write_text(text, encoding="utf-8")
    return out


@pytest.fixture
def moodle(request, files):
    version, plugin = request.param
    with SimulatorServer(SimulatorConfig(version=version, plugin=plugin)) as server:
        seed_from_files(server.sim, files["timetable"], files["candidates"])
        yield server


def sync(server: SimulatorServer, files: dict[str, Path], *, apply: bool = True, audit=None, papers=True):
    """One run as `lms-bridge apply` does it: plan, then apply; returns (plan, reads, writes)."""
    policy, _ = load_policy(POLICY)
    period = read_period(policy, files["timetable"], files["plans"])
    paper_files = {"E1": Paper(".pdf", PAPER)} if papers else {}

    async def run():
        async with open_connections(Connections(moodle_url=server.base_url, moodle_token=server.token),
                                    policy.calendar.zone) as conns:
            plan = await plan_sync(policy, period, conns.adapters, paper_files)
            if apply:
                await apply_sync(plan, conns.adapters, audit)
            return plan, conns.reads, conns.writes

    return asyncio.run(run())


def ws(server: SimulatorServer, function: str, **params):
    """A web-service call straight over HTTP, as any other Moodle client would make it."""
    form = [("wstoken", server.token), ("wsfunction", function), ("moodlewsrestformat", "json")]
    for _ in range(20):  # these are reads: through the simulator's random faults, try again
        try:
            response = httpx.post(server.rest_url, content=urlencode(form + encode_params(params)),
                                  headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
        except httpx.HTTPError:
            continue
        if response.status_code == 200:
            body = response.json()
            assert not (isinstance(body, dict) and "exception" in body), body
            return body
    raise AssertionError(f"{function}: no answer through the faults")


def expected_windows(files: dict[str, Path]):
    policy, _ = load_policy(POLICY)
    period = read_period(policy, files["timetable"], files["plans"], files["candidates"])
    return {(w.exam_id, w.student_id): w for w in services.windows_for(policy, period).windows}


def is_core(server: SimulatorServer) -> bool:
    return not server.config.plugin


def ours(server: SimulatorServer, course: int) -> dict[str, dict]:
    """The course's modules lms_bridge works with, by name (sections and activities)."""
    out = {}
    for s in ws(server, "core_course_get_contents", courseid=course):
        out[f"section:{s['name']}"] = s
        for m in s.get("modules") or ():
            out[m["name"]] = m | {"sectionname": s["name"]}
    return out


def read_back(server: SimulatorServer) -> dict[tuple[str, str], tuple]:
    """(exam id, student id) -> (opens, closes, time limit s) as Moodle holds it for that student,
    read through the web services: the activity's own times unless the student's override (or,
    for a drop-box on a core-only site before 5.3, their extension) says otherwise."""
    version = server.config.version
    out = {}
    for course, exams in EXAMS.items():
        users = {u["id"]: u.get("idnumber") for u in ws(server, "core_enrol_get_enrolled_users", courseid=course)
                 if any(r["shortname"] == "student" for r in u["roles"])}
        quizzes = {q["name"]: q for q in ws(server, "mod_quiz_get_quizzes_by_courses", courseids=[course])["quizzes"]}
        assigns = {a["name"]: a for c in ws(server, "mod_assign_get_assignments", courseids=[course],
                                            includenotenrolledcourses=1)["courses"] for a in c["assignments"]}
        for exam_id in exams:
            quiz = next((q for n, q in quizzes.items() if n.endswith(f"[{exam_id}]") and not n.startswith("Practice")),
                        None)
            if quiz is not None:
                rows = {o["userid"]: o for o in ws(server, "mod_quiz_get_overrides", quizid=quiz["id"])["overrides"]}
                for uid, sid in users.items():
                    o = rows.get(uid, {})
                    out[(exam_id, sid)] = (o.get("timeopen") or quiz["timeopen"], o.get("timeclose") or quiz["timeclose"],
                                           o.get("timelimit") or quiz["timelimit"])
                continue
            a = next(a for n, a in assigns.items() if n.endswith(f"[{exam_id}]"))
            if version == "5.3":
                rows = {o["userid"]: o for o in ws(server, "mod_assign_get_overrides", assignid=a["id"])["overrides"]}
            elif server.config.plugin:
                rows = {o["userid"]: o for o in ws(server, "local_lmsbridge_get_assign_overrides",
                                                   assignid=a["id"])["overrides"]}
            else:
                flags = ws(server, "mod_assign_get_user_flags", assignmentids=[a["id"]])["assignments"]
                ext = {f["userid"]: f["extensionduedate"] for f in (flags[0]["userflags"] if flags else ())}
                rows = {u: {"cutoffdate": max(d, a["cutoffdate"])} for u, d in ext.items() if d}
            for uid, sid in users.items():
                o = rows.get(uid, {})
                out[(exam_id, sid)] = (o.get("allowsubmissionsfromdate") or a["allowsubmissionsfromdate"],
                                       o.get("cutoffdate") or a["cutoffdate"], o.get("timelimit") or a["timelimit"] or None)
    return out


def want(files: dict[str, Path]) -> dict[tuple[str, str], tuple]:
    return {k: (int(w.opens_at.timestamp()), int(w.closes_at.timestamp()),
                None if w.time_limit_minutes is None or k[0] not in QUIZZES else w.time_limit_minutes * 60)
            for k, w in expected_windows(files).items()}


def do_by_hand(server: SimulatorServer, files: dict[str, Path], plan) -> None:
    """What a teacher does with a core-only site's list of steps: paste each exam area's summary,
    and add each drop-box and quiz with the standard window (the times of a candidate without a
    plan) and the ID number the step names."""
    sim = server.sim
    windows = expected_windows(files)
    for course_plan in plan.courses:
        course = int(course_plan.course.id)
        sections = {s["name"]: s for s in ws(server, "core_course_get_contents", courseid=course)}
        for step in course_plan.manual:
            section = next(s for n, s in sections.items() if n.endswith(f"[{step.exam_id}]"))
            if step.detail and "Summary" in step.instruction:
                sim.set_section_summary(section["id"], step.detail)
                continue
            made = re.search(r"add an? (Quiz|Assignment).* named '([^']+)', ID number '([^']+)'", step.instruction)
            if not made:
                continue
            kind, name, idnumber = made.groups()
            standard = next(w for (e, s), w in sorted(windows.items()) if e == step.exam_id
                            and s in ("s3", "s6", "s8", "s9"))
            shift = 2 * 86400 if name.startswith("Practice") else 0
            opens, due, closes = (int(t.timestamp()) - shift for t in (standard.opens_at, standard.due_at,
                                                                         standard.closes_at))
            if kind == "Quiz":
                sim.create_quiz(course, name, section=section["section"], idnumber=idnumber, timeopen=opens,
                                timeclose=closes, timelimit=standard.time_limit_minutes * 60, attempts=1,
                                password="owl" if step.exam_id == "E2" else "", shuffleanswers=1,
                                reviewcorrectness=16, reviewmarks=16, reviewspecificfeedback=16,
                                reviewgeneralfeedback=16, reviewrightanswer=16, reviewoverallfeedback=16)
            else:
                sim.create_assign(course, name, section=section["section"], idnumber=idnumber,
                                  allowsubmissionsfromdate=opens, duedate=due, cutoffdate=closes)


def converge(server: SimulatorServer, files: dict[str, Path], **kw):
    """Apply; on a core-only site do the steps by hand and apply again."""
    plan, _, writes = sync(server, files, **kw)
    assert not [c for c in plan.courses if c.failed], [c.error or c.failed_at for c in plan.courses]
    if is_core(server):
        do_by_hand(server, files, plan)
        plan, _, _ = sync(server, files, **kw)
        assert not [c for c in plan.courses if c.failed], [c.error or c.failed_at for c in plan.courses]
    return plan, writes


# -- convergence and what Moodle holds -----------------------------------------------------------


@pytest.mark.parametrize("moodle", MODES, indirect=True, ids=mode_id)
def test_apply_converges_and_a_second_apply_writes_nothing(moodle, files):
    _, writes = converge(moodle, files)
    assert writes > 0

    again, reads, writes = sync(moodle, files)
    assert again.operations == []
    assert writes == 0
    assert reads <= 1 + 8 * len(again.courses), "a no-op re-apply reads a handful of times per course"
    if is_core(moodle):  # only the paper is left to people (it cannot be read back as done)
        assert [(s.exam_id, s.subject.split()[0]) for s in again.manual] == [("E1", "paper")]
    else:
        assert again.manual == []


@pytest.mark.parametrize("moodle", MODES, indirect=True, ids=mode_id)
def test_moodle_holds_every_candidates_window(moodle, files):
    converge(moodle, files)
    got, expected = read_back(moodle), want(files)
    assert set(got) == set(expected)
    for key, (opens, closes, limit) in expected.items():
        assert got[key] == (opens, closes, limit), key
    # extra time never comes alone: every student with a longer time limit has a later close
    for (exam_id, student), (opens, closes, limit) in got.items():
        if limit:
            assert closes - opens >= limit, (exam_id, student)


@pytest.mark.parametrize("moodle", PLUGIN_MODES, indirect=True, ids=mode_id)
def test_exam_area_holds_summary_paper_and_activities_and_nothing_about_plans(moodle, files):
    sync(moodle, files)
    sim = moodle.sim
    body = ws(moodle, "local_lmsbridge_get_activities", courseid=101)
    (section,) = [s for s in body["sections"] if s["name"] == "Exam: Anatomy Drop-box [E1]"]
    assert "Academic integrity" in section["summary"] and "Anatomy Drop-box" in section["summary"]
    by_id = {a["idnumber"]: a for a in body["activities"]}
    assert {"lmsbridge:E1", "lmsbridge:E1:paper", "lmsbridge:E2", "lmsbridge:E2:practice"} <= set(by_id)
    assert by_id["lmsbridge:E1"]["modname"] == "assign" and by_id["lmsbridge:E2"]["modname"] == "quiz"
    assert by_id["lmsbridge:E1"]["sectionid"] == section["id"] == by_id["lmsbridge:E1:paper"]["sectionid"]
    q = by_id["lmsbridge:E2"]["settings"]
    assert (q["quizpassword"], q["attempts"], q["timelimit"], q["hideresultsuntilclose"]) == ("owl", 1, 5400, 1)
    practice = by_id["lmsbridge:E2:practice"]["settings"]
    assert practice["timeopen"] == q["timeopen"] - 2 * 86400 and practice["timelimit"] == q["timelimit"]
    # the paper: byte for byte, available from the release time
    paper = by_id["lmsbridge:E1:paper"]
    opens = int(expected_windows(files)[("E1", "s3")].opens_at.timestamp())
    assert json.loads(paper["availability"])["c"] == [{"type": "date", "d": ">=", "t": opens}]
    resource = sim.resources[paper["instance"]]
    assert resource.files[0].content == PAPER
    # a New Quiz is a quiz in Moodle, timed
    e3 = {a["idnumber"]: a for a in ws(moodle, "local_lmsbridge_get_activities", courseid=102)["activities"]}
    assert e3["lmsbridge:E3"]["modname"] == "quiz" and e3["lmsbridge:E3"]["settings"]["timelimit"] == 65 * 60
    # what Moodle shows names windows, never plans
    texts = [s["summary"] for s in body["sections"]] + [a["name"] for a in body["activities"]]
    for text in texts:
        assert "%" not in text and not re.search(r"\b(25|50|100|33\.3)\b", text)


# -- drift made by hand ----------------------------------------------------------------------------


@pytest.mark.parametrize("moodle", MODES, indirect=True, ids=mode_id)
def test_drift_by_hand_is_detected_shown_and_repaired(moodle, files):
    converge(moodle, files)
    sim = moodle.sim
    mods = ours(moodle, 101)
    quiz = sim.quiz(mods["Statistics Quiz [E2]"]["instance"])
    sim.update_quiz(quiz.id, timeclose=quiz.timeclose + 1800)
    victim = sim.quiz_overrides(quiz.id)[0]
    sim.delete_quiz_override(victim.id)
    e3 = ours(moodle, 102)["Law New Quiz [E3]"]
    sim.hide_module(e3["id"])

    plan, _, _ = sync(moodle, files, apply=False)
    shown = {(op.exam_id, op.action.name) for op in plan.operations}
    assert ("E2", "SET_OVERRIDES") in shown or ("E2", "SET_EXTRA_TIME") in shown
    assert ("E3", "UPDATE_ASSESSMENT") in shown
    assert all(op.drift for op in plan.operations)
    if is_core(moodle):  # the quiz's own close cannot be written by core web services: a step says what to set
        (step,) = [s for s in plan.manual if s.exam_id == "E2" and "Close the quiz" in s.instruction]
        assert "Statistics Quiz [E2]" in step.instruction and "now Tue 01 Dec 2026 16:00 GMT" in step.instruction
        sim.update_quiz(quiz.id, timeclose=quiz.timeclose - 1800)  # the teacher does it
    else:
        assert ("E2", "UPDATE_ASSESSMENT") in shown

    sync(moodle, files)
    again, _, writes = sync(moodle, files)
    assert again.operations == [] and writes == 0
    assert read_back(moodle) == want(files)
    assert ours(moodle, 102)["Law New Quiz [E3]"]["visible"] == 1


@pytest.mark.parametrize("moodle", [("4.5", True), ("5.3", False)], indirect=True, ids=mode_id)
def test_a_hidden_exam_area_and_a_renamed_activity_are_put_back(moodle, files):
    converge(moodle, files)
    sim = moodle.sim
    mods = ours(moodle, 101)
    sim.hide_section(mods["section:Exam: Anatomy Drop-box [E1]"]["id"])
    sim.rename_module(mods["Anatomy Drop-box [E1]"]["id"], "Anatomy (old) [E1]")
    plan, _, _ = sync(moodle, files)
    assert {(op.exam_id, op.action.name) for op in plan.operations} == {("E1", "UPDATE_MODULE"),
                                                                        ("E1", "UPDATE_ASSESSMENT")}
    mods = ours(moodle, 101)
    assert mods["section:Exam: Anatomy Drop-box [E1]"]["visible"] == 1 and "Anatomy Drop-box [E1]" in mods
    assert sync(moodle, files)[0].operations == []


# -- faults ----------------------------------------------------------------------------------------


def census(server: SimulatorServer) -> dict[str, int]:
    """How many of each thing lms_bridge makes the site holds (sections by tag, activities by
    name and ID number, overrides by user): every count must be 1."""
    sim = server.sim
    out: dict[str, int] = {}
    for course in EXAMS:
        for s in sim.course_sections(course):
            if s.name and s.name.startswith("Exam: "):
                out[f"{course}/{s.name}"] = out.get(f"{course}/{s.name}", 0) + 1
        for cm in sim.course_modules(course):
            if cm.modname in ("quiz", "assign", "resource"):
                name = sim.instance(cm).name
                out[f"{course}/{cm.modname}/{name}"] = out.get(f"{course}/{cm.modname}/{name}", 0) + 1
                if cm.idnumber:
                    out[f"{course}/id/{cm.idnumber}"] = out.get(f"{course}/id/{cm.idnumber}", 0) + 1
            if cm.modname == "quiz":
                for o in sim.quiz_overrides(cm.instance):
                    key = f"quiz {cm.instance} user {o.userid}"
                    out[key] = out.get(key, 0) + 1
    return out


@pytest.mark.parametrize("version_plugin", [("4.5", True), ("5.3", True), ("4.5", False)], ids=mode_id)
def test_faults_are_retried_or_reported_and_nothing_is_duplicated(files, monkeypatch, version_plugin):
    version, plugin = version_plugin
    monkeypatch.setenv("LMS_BRIDGE_MOODLE_TIMEOUT", "1")
    config = SimulatorConfig(version=version, plugin=plugin, fault_rate=0.12, timeout_rate=0.03, drop_rate=0.06,
                             client_timeout_s=1.0, seed=11)
    with SimulatorServer(config) as server:
        seed_from_files(server.sim, files["timetable"], files["candidates"])
        for _ in range(10):  # a failed course is reported; the next run picks it up
            plan, _, _ = sync(server, files)
            if not any(c.failed for c in plan.courses):
                if is_core(server) and plan.manual and not ours(server, 101).get("Statistics Quiz [E2]"):
                    do_by_hand(server, files, plan)
                    continue
                break
        server.faults.clear()
        config.fault_rate = config.timeout_rate = config.drop_rate = 0.0
        if is_core(server) and not ours(server, 101).get("Statistics Quiz [E2]"):
            do_by_hand(server, files, sync(server, files)[0])
        sync(server, files)
        assert sync(server, files)[0].operations == []
        assert server.stats_snapshot()["faults_injected"], "the runs should have met faults"
        counts = census(server)
        assert counts and set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}
        assert read_back(server) == want(files)


@pytest.mark.parametrize("moodle", [("4.5", True)], indirect=True, ids=mode_id)
@pytest.mark.parametrize("function", ["local_lmsbridge_update_section", "local_lmsbridge_upsert_activity",
                                      "local_lmsbridge_attach_paper", "mod_quiz_save_overrides",
                                      "local_lmsbridge_save_assign_overrides"])
def test_a_write_that_happened_but_was_not_answered_is_not_repeated(moodle, files, function):
    moodle.faults.drop_next(function, 1, after=True)
    sync(moodle, files)
    sync(moodle, files)
    counts = census(moodle)
    assert set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}
    assert sync(moodle, files)[0].operations == []
    assert read_back(moodle) == want(files)


@pytest.mark.parametrize("moodle", [("5.3", False)], indirect=True, ids=mode_id)
def test_a_section_add_whose_answer_was_lost_is_not_repeated(moodle, files):
    moodle.faults.drop_next("core_courseformat_update_course", 1, after=True)
    plan, _, _ = sync(moodle, files)
    assert not any(c.failed for c in plan.courses), [c.failed_at for c in plan.courses]
    sections = [s for s in moodle.sim.course_sections(101)]
    assert len([s for s in sections if s.name and s.name.startswith("Exam: ")]) == 2
    assert len([s for s in sections if s.section > 4]) == 2, "no stray unnamed section"


@pytest.mark.parametrize("moodle", [("4.5", True)], indirect=True, ids=mode_id)
def test_one_course_failing_does_not_stop_the_others(moodle, files):
    # E5's course does not exist in Moodle: that course is reported, the others converge
    files["timetable"].write_text(TIMETABLE + "E5,Ghost Course,quiz,2026-12-04 09:30,60,0,moodle:999,,\n",
                                  encoding="utf-8")
    plan, _, _ = sync(moodle, files)
    failed = {str(c.course): c.error for c in plan.courses if c.failed}
    assert list(failed) == ["moodle:999"] and "course" in failed["moodle:999"]
    again, _, writes = sync(moodle, files)
    assert [op for op in again.operations] == [] and writes == 0


@pytest.mark.parametrize("moodle", [("4.5", True)], indirect=True, ids=mode_id)
def test_a_course_whose_writes_fail_is_reported_and_the_rest_applied(moodle, files):
    moodle.faults.fail_next(50, "local_lmsbridge_update_section", 503)
    plan, _, _ = sync(moodle, files)
    assert {str(c.course) for c in plan.courses if c.failed} == {"moodle:101", "moodle:102"}
    assert all("503" in c.failed_at for c in plan.courses if c.failed)
    moodle.faults.clear()
    sync(moodle, files)
    assert sync(moodle, files)[0].operations == []


# -- a killed apply, then a rerun -----------------------------------------------------------------


@pytest.mark.parametrize("version_plugin", [("4.5", True), ("5.3", False)], ids=mode_id)
def test_killed_apply_then_rerun_converges_with_no_duplicates_or_lost_audit(files, tmp_path, version_plugin):
    version, plugin = version_plugin
    with SimulatorServer(SimulatorConfig(version=version, plugin=plugin, latency_ms=40)) as server:
        seed_from_files(server.sim, files["timetable"], files["candidates"])
        db = f"sqlite:///{tmp_path / 'audit.db'}"
        (tmp_path / "papers").mkdir()
        (tmp_path / "papers" / "E1.pdf").write_bytes(PAPER)
        cmd = [sys.executable, "-m", "lms_bridge", "apply", "--policy", POLICY, "--papers", str(tmp_path / "papers"),
               "--timetable", str(files["timetable"]), "--plans", str(files["plans"]),
               "--moodle-url", server.base_url, "--moodle-token", server.token,
               "--database", db, "--format", "json"]
        env = os.environ | {"PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        kill_at = 6 if plugin else 3
        deadline = time.monotonic() + 60
        while server.stats_snapshot()["writes"] < kill_at:
            assert proc.poll() is None, "apply finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        writes_before = server.stats_snapshot()["writes"]

        rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
        assert rerun.returncode == 0, rerun.stderr
        summary = json.loads(rerun.stdout.strip().splitlines()[-1])
        assert summary["failed"] == []
        if not plugin:
            assert summary["manual"], "a core-only site lists what is left to people"
            do_by_hand(server, files, sync(server, files, apply=False)[0])
            sync(server, files)
        assert sync(server, files)[0].operations == []
        counts = census(server)
        assert set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}
        assert read_back(server) == want(files)

    from sqlalchemy import create_engine, text

    with create_engine(db).connect() as conn:
        actions = [r[0] for r in conn.execute(text("SELECT action FROM audit_log ORDER BY id"))]
    requested = [a for a in actions if a.endswith(".requested")]
    outcomes = [a for a in actions if a.endswith((".done", ".failed"))]
    assert all(a.startswith("moodle.") for a in actions)
    # every write the killed run made was announced before it was made
    assert len(requested) >= 1 and writes_before >= kill_at
    # exams apply side by side, one operation at a time each: at most one per exam (four here)
    # was in flight at the kill and has no outcome; everything else is recorded both ways
    assert len(requested) - len(outcomes) <= 4


# -- a core-only site: the steps left to people -------------------------------------------------------


@pytest.mark.parametrize("moodle", CORE_MODES, indirect=True, ids=mode_id)
def test_a_core_only_site_gets_its_sections_and_a_precise_list_of_steps_by_hand(moodle, files):
    plan, _, writes = sync(moodle, files)
    assert writes > 0 and not any(c.failed for c in plan.courses)
    # the exam areas are there, named; everything core web services cannot do is a step
    mods = ours(moodle, 101)
    assert {"section:Exam: Anatomy Drop-box [E1]", "section:Exam: Statistics Quiz [E2]"} <= set(mods)
    steps = {(s.exam_id, s.subject): s for s in plan.manual}
    quiz = steps[("E2", "quiz 'Statistics Quiz [E2]'")].instruction
    for part in ("add a Quiz to section 'Exam: Statistics Quiz [E2]'", "ID number 'lmsbridge:E2'",
                 "Open the quiz Tue 01 Dec 2026 14:00 GMT", "Close the quiz Tue 01 Dec 2026 15:30 GMT",
                 "Time limit 90 minutes", "Attempts allowed 1", "Require password 'owl'",
                 "'After the quiz is closed'", "own windows of 4 students"):
        assert part in quiz, part
    assert "ID number 'lmsbridge:E2:practice'" in steps[("E2", "quiz 'Practice: Statistics Quiz [E2]'")].instruction
    assert "(Moodle has no New Quizzes: a quiz)" in steps[("E3", "quiz 'Law New Quiz [E3]'")].instruction
    dropbox = steps[("E1", "dropbox 'Anatomy Drop-box [E1]'")].instruction
    assert "add an Assignment" in dropbox and "Cut-off date Tue 01 Dec 2026 11:35 GMT" in dropbox
    paper = [s for s in plan.manual if s.subject.startswith("paper")][0].instruction
    assert "Restrict access > Date > from Tue 01 Dec 2026 09:30 GMT" in paper
    summaries = [s for s in plan.manual if s.detail]
    assert len(summaries) == 4 and all("Academic integrity" in s.detail for s in summaries)
    assert all("lms_bridge plugin" in s.reason for s in plan.manual)
    # nothing about plans in what people are asked to paste
    assert not any(re.search(r"\b(25|50|100|33\.3)%", s.detail + s.instruction) for s in plan.manual)

    # the steps are shown by `plan` too, and stay listed until done
    again, _, writes = sync(moodle, files)
    assert again.operations == [] and writes == 0 and len(again.manual) == len(plan.manual)
    do_by_hand(moodle, files, again)
    after, _, _ = sync(moodle, files)
    assert {op.action.name for op in after.operations} <= {"SET_OVERRIDES", "SET_EXTRA_TIME"}
    final, _, _ = sync(moodle, files, apply=False)
    assert final.operations == [] and [s.subject.split()[0] for s in final.manual] == ["paper"]


@pytest.mark.parametrize("moodle", [("4.5", False)], indirect=True, ids=mode_id)
def test_drop_box_extensions_before_5_3_move_due_and_close_together(moodle, files):
    converge(moodle, files)
    windows = expected_windows(files)
    a = next(a for c in ws(moodle, "mod_assign_get_assignments", courseids=[101], includenotenrolledcourses=1)["courses"]
             for a in c["assignments"] if a["name"] == "Anatomy Drop-box [E1]")
    flags = ws(moodle, "mod_assign_get_user_flags", assignmentids=[a["id"]])["assignments"][0]["userflags"]
    users = {u["id"]: u["idnumber"] for u in ws(moodle, "core_enrol_get_enrolled_users", courseid=101)}
    ext = {users[f["userid"]]: f["extensionduedate"] for f in flags if f["extensionduedate"]}
    assert ext == {s: int(w.closes_at.timestamp()) for (e, s), w in windows.items()
                   if e == "E1" and w.closes_at != windows[("E1", "s3")].closes_at}


# -- bad input and configuration -------------------------------------------------------------------


@pytest.mark.parametrize("moodle", [("4.5", True)], indirect=True, ids=mode_id)
def test_a_plan_for_a_student_enrolled_nowhere_is_reported_not_fatal(moodle, files):
    files["plans"].write_text(PLANS + "s99,50,0\n", encoding="utf-8")
    plan, _, _ = sync(moodle, files)
    assert plan.report.plans_not_enrolled == ("s99",)
    assert not any(c.failed for c in plan.courses)
    assert sync(moodle, files)[0].operations == []


def test_hidden_id_numbers_are_a_clear_configuration_error(files):
    with SimulatorServer(SimulatorConfig(identity_fields=())) as server:
        seed_from_files(server.sim, files["timetable"], files["candidates"])
        plan, _, writes = sync(server, files)
    assert writes == 0
    for c in plan.courses:
        assert "showuseridentity" in c.error and "moodle/site:viewuseridentity" in c.error


def test_a_function_missing_from_the_service_is_named_with_where_to_add_it(files):
    from adapters.moodle.simulator.registry import service_functions

    names = tuple(f.name for f in service_functions(SimulatorConfig()) if f.name != "mod_quiz_save_overrides")
    with SimulatorServer(SimulatorConfig(service_functions=names)) as server:
        seed_from_files(server.sim, files["timetable"], files["candidates"])
        plan, _, _ = sync(server, files)
    failures = [c.failed_at for c in plan.courses if c.failed]
    assert failures and all("mod_quiz_save_overrides" in f and "External services" in f for f in failures)


# -- the command line on a timetable mixing Canvas and Moodle ------------------------------------------


def test_cli_plan_and_apply_on_a_mixed_timetable(files, tmp_path):
    from click.testing import CliRunner

    from adapters.canvas.simulator import SimulatorConfig as CanvasConfig
    from adapters.canvas.simulator import SimulatorServer as CanvasServer
    from adapters.canvas.simulator import seed_from_files as seed_canvas
    from lms_bridge.cli import main

    mixed = TIMETABLE + "E6,Canvas Essay,dropbox,2026-12-04 09:30,60,0,canvas:301,,\n"
    files["timetable"].write_text(mixed, encoding="utf-8")
    with files["candidates"].open("a", encoding="utf-8") as f:
        f.write("".join(f"E6,s{i}\n" for i in range(1, 5)))
    with SimulatorServer(SimulatorConfig(version="5.3")) as moodle, CanvasServer(CanvasConfig()) as canvas:
        seed_from_files(moodle.sim, files["timetable"], files["candidates"])
        seed_canvas(canvas.sim, files["timetable"], files["candidates"])
        base = ["--policy", POLICY, "--timetable", str(files["timetable"]), "--plans", str(files["plans"]),
                "--moodle-url", moodle.base_url, "--moodle-token", moodle.token,
                "--canvas-url", canvas.base_url, "--canvas-token", canvas.token]
        runner = CliRunner()
        shown = runner.invoke(main, ["plan", *base])
        assert shown.exit_code == 0, shown.output
        assert "moodle:101" in shown.output and "canvas:301" in shown.output
        assert "create assessment quiz 'Statistics Quiz [E2]'" in shown.output
        db = f"sqlite:///{tmp_path / 'audit.db'}"
        applied = runner.invoke(main, ["apply", *base, "--database", db, "--format", "json"])
        assert applied.exit_code == 0, applied.output
        summary = json.loads(applied.output.strip().splitlines()[-1])
        assert summary["courses"] == 3 and summary["failed"] == [] and summary["writes"] > 0
        again = runner.invoke(main, ["apply", *base, "--database", db, "--format", "json"])
        summary = json.loads(again.output.strip().splitlines()[-1])
        assert summary["writes"] == 0 and summary["drift"] == [] and summary["manual"] == []


def test_cli_takes_the_moodle_connection_from_the_environment(files, monkeypatch):
    from click.testing import CliRunner

    from lms_bridge.cli import main

    with SimulatorServer(SimulatorConfig(version="4.5", plugin=False)) as server:
        seed_from_files(server.sim, files["timetable"], files["candidates"])
        monkeypatch.setenv("LMS_BRIDGE_MOODLE_URL", server.base_url)
        monkeypatch.setenv("LMS_BRIDGE_MOODLE_TOKEN", server.token)
        result = CliRunner().invoke(main, ["plan", "--policy", POLICY, "--timetable", str(files["timetable"]),
                                           "--plans", str(files["plans"]), "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["failed"] == [] and summary["writes"] == 0
    assert any("add a Quiz" in m["instruction"] for m in summary["manual"])


# -- renames, delivery changes, papers -----------------------------------------------------------------


@pytest.mark.parametrize("moodle", [("4.5", True), ("5.3", False)], indirect=True, ids=mode_id)
def test_a_retitled_exam_is_renamed_in_moodle_not_duplicated(moodle, files):
    converge(moodle, files)
    files["timetable"].write_text(TIMETABLE.replace("Anatomy Drop-box", "Anatomy Drop-box (resit)"), encoding="utf-8")
    plan, _, _ = sync(moodle, files)
    actions = {op.action.name for op in plan.operations if op.exam_id == "E1"}
    assert {"UPDATE_MODULE", "UPDATE_ASSESSMENT"} <= actions and "CREATE_ASSESSMENT" not in actions
    if is_core(moodle):  # the new summary is pasted by hand
        do_by_hand(moodle, files, sync(moodle, files, apply=False)[0])
    again = sync(moodle, files)[0]
    assert again.operations == []
    names = [n for n in ours(moodle, 101) if "[E1]" in n and "paper" not in n]
    assert sorted(names) == ["Anatomy Drop-box (resit) [E1]", "section:Exam: Anatomy Drop-box (resit) [E1]"]


@pytest.mark.parametrize("moodle", [("4.5", True), ("5.3", True)], indirect=True, ids=mode_id)
def test_a_delivery_change_retires_the_old_activity_and_makes_the_new_one(moodle, files):
    sync(moodle, files)
    files["timetable"].write_text(TIMETABLE.replace("E1,Anatomy Drop-box,dropbox", "E1,Anatomy Drop-box,quiz"),
                                  encoding="utf-8")
    plan, _, _ = sync(moodle, files)
    assert [op.action.name for op in plan.operations if op.exam_id == "E1"][:2] == ["RETIRE_ASSESSMENT",
                                                                                   "CREATE_ASSESSMENT"]
    assert not any(c.failed for c in plan.courses), [c.failed_at for c in plan.courses]
    assert sync(moodle, files)[0].operations == []
    mods = ours(moodle, 101)
    assert mods["Replaced: Anatomy Drop-box [E1]"]["visible"] == 0
    assert mods["Replaced: Anatomy Drop-box [E1]"]["modname"] == "assign"
    assert mods["Anatomy Drop-box [E1]"]["modname"] == "quiz" and mods["Anatomy Drop-box [E1]"]["visible"] == 1
    by_id = {a["idnumber"]: a for a in ws(moodle, "local_lmsbridge_get_activities", courseid=101)["activities"]}
    assert by_id["lmsbridge:E1"]["modname"] == "assign" and by_id["lmsbridge:E1:quiz"]["modname"] == "quiz"


@pytest.mark.parametrize("moodle", [("4.5", True)], indirect=True, ids=mode_id)
def test_a_corrected_paper_replaces_the_old_one_and_stays_locked(moodle, files):
    sync(moodle, files)
    corrected = b"%PDF-1.4 exam paper E1, corrected\n"
    policy, _ = load_policy(POLICY)
    period = read_period(policy, files["timetable"], files["plans"])

    async def run():
        async with open_connections(Connections(moodle_url=moodle.base_url, moodle_token=moodle.token),
                                    policy.calendar.zone) as conns:
            plan = await plan_sync(policy, period, conns.adapters, {"E1": Paper(".pdf", corrected)})
            assert [op.action.name for op in plan.operations] == ["UPLOAD_PAPER"]
            await apply_sync(plan, conns.adapters)
            again = await plan_sync(policy, period, conns.adapters, {"E1": Paper(".pdf", corrected)})
            assert again.operations == []

    asyncio.run(run())
    papers = [a for a in ws(moodle, "local_lmsbridge_get_activities", courseid=101)["activities"]
              if a["modname"] == "resource"]
    assert len(papers) == 1
    assert moodle.sim.resources[papers[0]["instance"]].files[0].content == corrected
    assert papers[0]["name"].startswith("Anatomy Drop-box [E1] paper ") and json.loads(papers[0]["availability"])


@pytest.mark.parametrize("moodle", [("4.5", True)], indirect=True, ids=mode_id)
def test_a_paper_restriction_lifted_by_hand_is_put_back(moodle, files):
    sync(moodle, files)
    paper = next(a for a in ws(moodle, "local_lmsbridge_get_activities", courseid=101)["activities"]
                 if a["modname"] == "resource")
    moodle.sim.set_module_availability(paper["cmid"], None)
    plan, _, writes = sync(moodle, files)
    assert [op.action.name for op in plan.operations] == ["LOCK_PAPER"] and writes == 1
    assert sync(moodle, files)[0].operations == []


@pytest.mark.parametrize("moodle", [("4.5", True), ("5.3", False)], indirect=True, ids=mode_id)
def test_an_activity_moved_out_of_its_exam_area_is_moved_back(moodle, files):
    converge(moodle, files)
    mods = ours(moodle, 101)
    moodle.sim.move_module(mods["Statistics Quiz [E2]"]["id"], 1)
    plan, _, _ = sync(moodle, files)
    assert {op.action.name for op in plan.operations} == {"LINK_ITEMS"} or \
        {op.action.name for op in plan.operations} == {"UPDATE_ASSESSMENT", "LINK_ITEMS"}
    assert ours(moodle, 101)["Statistics Quiz [E2]"]["sectionname"] == "Exam: Statistics Quiz [E2]"
    assert sync(moodle, files)[0].operations == []


def test_a_wrong_token_is_reported_per_course_and_writes_nothing(files):
    with SimulatorServer(SimulatorConfig()) as server:
        seed_from_files(server.sim, files["timetable"], files["candidates"])
        policy, _ = load_policy(POLICY)
        period = read_period(policy, files["timetable"], files["plans"])

        async def run():
            async with open_connections(Connections(moodle_url=server.base_url, moodle_token="not-the-token"),
                                        policy.calendar.zone) as conns:
                return await plan_sync(policy, period, conns.adapters), conns.writes

        plan, writes = asyncio.run(run())
    assert writes == 0 and len(plan.courses) == 2
    assert all("Invalid token" in c.error and "not-the-token" not in c.error for c in plan.courses)
