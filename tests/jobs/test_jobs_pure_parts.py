"""Small pure parts of the job system: settings from the environment, argument checks, the
count of differing candidates, staggered starts, and clarification texts."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from lms_bridge.domain.model import Delivery, Exam, ExamPeriod
from lms_bridge.jobs import kinds
from lms_bridge.jobs.clarify import exam_courses, message_html, subject_line, tag
from lms_bridge.jobs.converge import differing_candidates, shifted
from lms_bridge.jobs.settings import JobSettings
from lms_bridge.lms import Dates, ObservedOverride, OverrideTarget
from lms_bridge.sync.operations import Action, Change, Operation, OverridePlan

T = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def test_settings_come_from_defaults_then_the_environment_then_options():
    s = JobSettings.from_env({"LMS_BRIDGE_JOBS_APPLY_BEFORE_MINUTES": "720", "LMS_BRIDGE_JOBS_LEASE_TTL_SECONDS": "12.5",
                              "LMS_BRIDGE_JOBS_REPAIR_DRIFT": "no", "LMS_BRIDGE_ALERT_WEBHOOK": "https://hooks/x"},
                             verify_before_minutes=45, lease_ttl_seconds=None)
    assert (s.apply_before_minutes, s.verify_before_minutes, s.lease_ttl_seconds) == (720, 45, 12.5)
    assert s.repair_drift is False and s.webhook_url == "https://hooks/x"
    sched = s.schedule(__import__("zoneinfo").ZoneInfo("Europe/London"))
    assert sched.apply_before == timedelta(hours=12) and sched.nightly_at == time(2, 30)
    assert JobSettings(roster_check_minutes=0).schedule(sched.zone).roster_check is None
    with pytest.raises(ValueError, match="LMS_BRIDGE_JOBS_TICK_SECONDS"):
        JobSettings.from_env({"LMS_BRIDGE_JOBS_TICK_SECONDS": "soon"})


def test_backoff_doubles_up_to_its_cap():
    s = JobSettings(backoff_base_seconds=30, backoff_max_seconds=100)
    assert [s.backoff(n) for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


@pytest.mark.parametrize("kind,args", [
    (kinds.RECONCILE_COURSE, {"course": "canvas:sis_course_id:MATH-101"}),
    (kinds.VERIFY_EXAM, {"exam_id": "E 1 (resit)", "round": 2}),
    (kinds.APPLY_INCIDENT, {"incident_id": 3}),
])
def test_ids_pass(kind, args):
    assert kinds.check_args(kind, args) == args


@pytest.mark.parametrize("kind,args", [
    (kinds.APPLY_EXAM, {}),
    (kinds.APPLY_EXAM, {"exam_id": ""}),
    (kinds.APPLY_EXAM, {"exam_id": 7}),
    (kinds.APPLY_INCIDENT, {"incident_id": True}),
    (kinds.APPLY_INCIDENT, {"incident_id": -1}),
    (kinds.APPLY_EXAM, {"exam_id": "E1", "windows": "[...]"}),
    (kinds.PROBE, {"key": "x" * 300}),
])
def test_anything_else_is_refused_naming_keys_not_values(kind, args):
    with pytest.raises(kinds.BadArguments) as info:
        kinds.check_args(kind, args)
    assert "[...]" not in str(info.value)


def _op(action: Action, **kw) -> Operation:  # noqa: ANN003
    return Operation("E1", action, "exam", "x", ("drift",), None, None, **kw)  # type: ignore[arg-type]


def test_differing_candidates_counts_students_never_numbers():
    d1, d2 = Dates(T, T + timedelta(hours=2), T + timedelta(hours=2)), Dates(T, T + timedelta(hours=3), T + timedelta(hours=3))
    overrides = OverridePlan(
        keep=((ObservedOverride("o1", d1, frozenset({"u1", "u2"})), OverrideTarget(d2, frozenset({"u1", "u2"}), ())),),
        create=(OverrideTarget(d2, frozenset({"u3"}), ()),),
        delete=(ObservedOverride("o2", d1, frozenset({"u4"})),),
    )
    assert differing_candidates([_op(Action.SET_OVERRIDES, overrides=overrides)], 30) == 4
    assert differing_candidates([_op(Action.SET_EXTRA_TIME, extra_minutes={"u1": 0, "u9": 5})], 30) == 2
    assert differing_candidates([_op(Action.UPDATE_PAGE, changes=(Change("body", "a", "b"),))], 30) == 0
    assert differing_candidates([_op(Action.UPDATE_ASSESSMENT, changes=(Change("closes", T, T),))], 30) == 30
    assert differing_candidates([_op(Action.CREATE_ASSESSMENT)], 30) == 30


def exam(exam_id: str, start: datetime, course: str | None = "canvas:1", title: str | None = None) -> Exam:
    return Exam(exam_id, title or f"Paper {exam_id}", Delivery.DROPBOX, start, 60, course=course)


def test_a_shift_applies_only_while_the_exam_keeps_its_original_start():
    period = ExamPeriod((exam("E1", T), exam("E2", T + timedelta(hours=1))), {}, ())
    later = T + timedelta(minutes=15)
    moved = shifted(period, {"E1": (T, later), "E2": (T, later)})
    assert moved.exam("E1").start == later
    assert moved.exam("E2").start == T + timedelta(hours=1)  # retimed in the timetable since: the shift is stale


def test_clarification_texts_and_courses():
    period = ExamPeriod((exam("E1", T, "canvas:1", "Law"), exam("E1b", T, "moodle:7", "Law"),
                         exam("E2", T, "canvas:2", "Other"), exam("E3", T, None, "Law")), {}, ())
    assert [str(c) for c in exam_courses(period, "E1")] == ["canvas:1", "moodle:7"]
    assert tag("E1", 4) == "[E1/4]"
    assert subject_line(period.exam("E1"), " Q2 ", 4) == "Q2 (Law) [E1/4]"
    assert message_html("Read <b> as bold.\n\nSecond\nline") == "<p>Read &lt;b&gt; as bold.</p><p>Second<br>line</p>"
