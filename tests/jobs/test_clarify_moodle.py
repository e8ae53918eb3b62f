"""A clarification through the job system into Moodle, over real HTTP against the Moodle simulator
(4.5 with the companion plugin), SQLite store: the office stores it, the worker posts it into the
Announcements forum of every course the exam runs in, a rerun finds the posts instead of posting
again, and every post is audited (the Canvas path: test_jobs_canvas.py)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.moodle.simulator import SimulatorConfig, SimulatorServer, seed_from_files
from lms_bridge.connections import Connections
from lms_bridge.jobs import kinds, office, queue
from lms_bridge.jobs.alerts import AlertSink
from lms_bridge.jobs.handlers import JobContext
from lms_bridge.jobs.settings import JobSettings
from lms_bridge.jobs.worker import Node
from lms_bridge.store.job_models import ClarificationRow
from lms_bridge.store.models import AuditRow
from tests.jobs.conftest import PLANS, Period, soon
from tests.jobs.test_jobs_canvas import do_import, run_until_idle


@pytest.fixture
def moodle_period(tmp_path: Path) -> Period:
    """E1 (Anatomy) in moodle:201; E2 and E3 are one Ethics paper, same start, sat in moodle:202
    and moodle:203."""
    p = Period(tmp_path, tmp_path / "timetable.csv", tmp_path / "plans.csv", tmp_path / "candidates.csv", {})
    ethics = soon(20.5)
    p.write_timetable({
        "E1": ("Anatomy", "dropbox", soon(20), 90, "moodle:201"),
        "E2": ("Ethics", "dropbox", ethics, 60, "moodle:202"),
        "E3": ("Ethics", "dropbox", ethics, 60, "moodle:203"),
    })
    p.plans.write_text(PLANS, encoding="utf-8")
    rows = [f"E1,s{i}" for i in range(1, 7)] + [f"E2,s{i}" for i in range(4, 8)] + [f"E3,s{i}" for i in (8, 9)]
    p.candidates.write_text("exam_id,student_id\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return p


@pytest.fixture
def moodle(moodle_period: Period) -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorConfig(version="4.5", plugin=True)) as server:
        seed_from_files(server.sim, moodle_period.timetable, moodle_period.candidates)
        yield server


def moodle_node(engine, server: SimulatorServer) -> Node:  # noqa: ANN001
    settings = JobSettings(poll_seconds=0.05, backoff_base_seconds=0.1, recheck_after_seconds=0.0, concurrency=2)
    ctx = JobContext(engine=engine, node="test-node",
                     connections=Connections(moodle_url=server.base_url, moodle_token=server.token),
                     settings=settings, alerts=AlertSink())
    return Node(ctx)


def announcements(server: SimulatorServer, course: int) -> list[tuple[str, str]]:
    """(subject as shown, message) of every post in the course's Announcements forum."""
    forum = server.sim.news_forum(course)
    assert forum is not None
    return [(html.unescape(d.subject), d.message) for d in server.sim.discussions(forum.id)]


def test_a_clarification_is_announced_once_in_every_moodle_course_of_the_exam(sqlite_url, engine_for, moodle_period,
                                                                             moodle):
    engine = engine_for(sqlite_url)
    do_import(sqlite_url, moodle_period)
    node = moodle_node(engine, moodle)
    with Session(engine) as session, session.begin():
        ident = office.create_clarification(session, "E2", "Question 4 & 5",
                                            "In question 4, read 'litres' as 'millilitres'.",
                                            actor="officer", now=datetime.now(UTC))
    run_until_idle(node)
    for course in (202, 203):  # the same paper sat in two courses: posted in both
        (post,) = announcements(moodle, course)
        assert post[0] == f"Question 4 & 5 (Ethics) [E2/{ident}]"
        assert "millilitres" in post[1] and post[1].startswith("<p>")
    assert announcements(moodle, 201) == []
    with Session(engine) as session:
        row = session.get(ClarificationRow, ident)
        assert row is not None and row.state == "sent" and row.sent_at is not None
    # a rerun (say the worker died after posting) finds them and does not post again
    moodle.stats.reset()
    with Session(engine) as session, session.begin():
        queue.enqueue(session, kind=kinds.SEND_CLARIFICATION, args={"clarification_id": ident},
                      dedupe_key="again", enqueued_by="test")
    run_until_idle(node)
    assert [len(announcements(moodle, c)) for c in (201, 202, 203)] == [0, 1, 1]
    assert moodle.stats.snapshot()["writes"] == 0
    with Session(engine) as session:
        audited = session.execute(select(AuditRow.action, AuditRow.entity_id).where(AuditRow.entity == "clarification")
                                  .order_by(AuditRow.id)).all()
    assert [a for a, _ in audited] == ["clarification.created", "clarification.posted", "clarification.posted",
                                       "clarification.found", "clarification.found"]
    assert {e for a, e in audited if a != "clarification.created"} == {f"{ident}/moodle:202", f"{ident}/moodle:203"}
