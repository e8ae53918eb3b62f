"""Course-scoped exam writes: audited with the actor, never reaching another course's exam."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from lms_bridge.domain.model import Delivery, Exam
from lms_bridge.store import make_engine, session_factory, upgrade
from lms_bridge.store.audit import append_audit, audit_entries
from lms_bridge.store.errors import NotFoundError
from lms_bridge.store.exams import (
    ExamIdTakenError,
    WrongCourseError,
    course_exam,
    course_exams,
    last_applied,
    save_course_exam,
)

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
EXAM = Exam("E1", "Anatomy", Delivery.QUIZ, datetime(2026, 12, 1, 9, 30, tzinfo=UTC), 120, None, 10, "canvas:1")


@pytest.fixture
def sessions(tmp_path):  # noqa: ANN001, ANN201
    engine = make_engine(f"sqlite:///{tmp_path}/store.db")
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def test_create_update_unchanged_each_audited_once(sessions) -> None:  # noqa: ANN001
    with sessions() as s, s.begin():
        assert save_course_exam(s, "canvas:1", EXAM, create=True, actor="lti:canvas:u1", now=NOW) == "created"
    with sessions() as s, s.begin():
        assert save_course_exam(s, "canvas:1", EXAM, create=False, actor="lti:canvas:u1", now=NOW) == "unchanged"
        changed = dataclasses.replace(EXAM, title="Anatomy II", duration_minutes=60)
        assert save_course_exam(s, "canvas:1", changed, create=False, actor="lti:canvas:u2", now=NOW) == "updated"
    with sessions() as s:
        entries = audit_entries(s, entity="exam", entity_id="E1")
        assert [(e.action, e.actor) for e in entries] == [("exam.updated", "lti:canvas:u2"), ("exam.created", "lti:canvas:u1")]
        assert entries[0].before["title"] == "Anatomy" and entries[0].after["title"] == "Anatomy II"
        assert [e.title for e in course_exams(s, "canvas:1")] == ["Anatomy II"]


def test_other_courses_exams_are_invisible_and_untouchable(sessions) -> None:  # noqa: ANN001
    with sessions() as s, s.begin():
        save_course_exam(s, "canvas:1", EXAM, create=True, actor="a", now=NOW)
    with sessions() as s, s.begin():
        assert course_exam(s, "canvas:2", "E1") is None
        assert course_exams(s, "canvas:2") == []
        other = dataclasses.replace(EXAM, course="canvas:2", title="Mine now")
        with pytest.raises(ExamIdTakenError):
            save_course_exam(s, "canvas:2", other, create=True, actor="b", now=NOW)
        with pytest.raises(NotFoundError):
            save_course_exam(s, "canvas:2", other, create=False, actor="b", now=NOW)
        with pytest.raises(WrongCourseError):
            save_course_exam(s, "canvas:2", EXAM, create=False, actor="b", now=NOW)
    with sessions() as s:
        assert course_exam(s, "canvas:1", "E1").title == "Anatomy"


def test_last_applied_reads_the_engine_entries_of_this_course_only(sessions) -> None:  # noqa: ANN001
    with sessions() as s, s.begin():
        for entity_id, action in (("canvas:1/E1", "canvas.create_module.done"),
                                  ("canvas:1/E2", "canvas.create_module.requested"),
                                  ("canvas:10/E1", "canvas.create_module.done")):
            append_audit(s, actor="x", action=action, entity="exam", entity_id=entity_id,
                         before=None, after=None, reason="missing", at=NOW)
    with sessions() as s:
        assert last_applied(s, "canvas:1") == {"E1": NOW}
