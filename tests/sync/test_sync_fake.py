"""The fake LMS itself: it must refuse what an LMS refuses, or the other tests prove little."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lms_bridge.lms import ObservedCourse, OverrideTarget
from lms_bridge.sync.desired import course_targets
from lms_bridge.sync.operations import Action, OverridePlan
from lms_bridge.sync.plan import plan_course
from tests.sync.builders import exam, period, plan, policy, ref, roster, run, uid
from tests.sync.fake_lms import (
    BadRequest,
    FakeLms,
    InjectedCrash,
    InjectedFailure,
    NotFound,
)

C1 = ref("canvas:1")


def setup_course(delivery: str = "quiz"):
    per = period([exam("Q1", "2026-05-18 09:00", 60, delivery)], [plan("s1", 50), plan("s2", 100)])
    (target,) = course_targets(policy("nottingham"), per, {C1: roster("s0", "s1", "s2")}).targets
    fake = FakeLms("canvas")
    fake.add_course(C1, roster("s0", "s1", "s2"))
    ops = plan_course(target, ObservedCourse(C1, ()))
    return fake, target, ops


def overrides_op(ops):
    return next(op for op in ops if op.action is Action.SET_OVERRIDES)


def test_objects_get_ids_and_are_found_again_by_name():
    fake, target, ops = setup_course()
    for op in ops:
        run(fake.apply(C1, op))
    observed = run(fake.read_course(C1, [("Q1", target.exams[0].title)])).exams["Q1"]
    assert observed.area.module_id == fake.module(C1, "Q1").id
    assert observed.assessment.id == fake.assessment(C1, "Q1").id
    assert len({observed.area.module_id, observed.area.page_id, observed.assessment.id}) == 3
    assert observed.area.published
    assert f"assessment:{observed.assessment.id}" in observed.area.item_refs
    assert fake.read_count == 1 and fake.write_count == len(ops)
    # the exam id, not the title, names the exam: a retitled exam finds its objects (to rename)
    retitled = run(fake.read_course(C1, [("Q1", "Another title")])).exams["Q1"]
    assert retitled.assessment.id == observed.assessment.id
    # another exam id is another exam: nothing found
    other = run(fake.read_course(C1, [("Q9", target.exams[0].title)])).exams["Q9"]
    assert other.area is None and other.assessment is None


def test_a_student_in_two_overrides_is_refused():
    fake, target, ops = setup_course()
    for op in ops:
        run(fake.apply(C1, op))
    set_op = overrides_op(ops)
    dup = OverrideTarget(target.exams[0].assessment.dates, frozenset({uid("s1")}), ())
    bad = replace(set_op, overrides=OverridePlan((), (dup,), ()))
    with pytest.raises(BadRequest, match="already have an override"):
        run(fake.apply(C1, bad))


def test_an_override_for_a_student_not_enrolled_is_refused():
    fake, target, ops = setup_course()
    run(fake.apply(C1, next(op for op in ops if op.action is Action.CREATE_ASSESSMENT)))
    stranger = OverrideTarget(target.exams[0].assessment.dates, frozenset({"u-stranger"}), ())
    op = replace(overrides_op(ops), overrides=OverridePlan((), (stranger,), ()))
    with pytest.raises(BadRequest, match="not enrolled"):
        run(fake.apply(C1, op))


def test_extra_time_on_a_dropbox_is_refused_and_extra_time_is_set_not_added():
    fake, _, ops = setup_course("dropbox")
    create = next(op for op in ops if op.action is Action.CREATE_ASSESSMENT)
    run(fake.apply(C1, create))
    with pytest.raises(BadRequest, match="drop-box"):
        run(fake.apply(C1, replace(create, action=Action.SET_EXTRA_TIME, extra_minutes={uid("s1"): 5})))

    fake, _, ops = setup_course("quiz")
    for op in ops:
        run(fake.apply(C1, op))
    extra = next(op for op in ops if op.action is Action.SET_EXTRA_TIME)
    run(fake.apply(C1, extra))
    assert fake.assessment(C1, "Q1").extra_minutes == {uid("s1"): 30, uid("s2"): 60}


def test_a_stale_kept_override_is_not_found():
    fake, target, ops = setup_course()
    for op in ops:
        run(fake.apply(C1, op))
    observed = run(fake.read_course(C1, [("Q1", target.exams[0].title)])).exams["Q1"].assessment
    fake.delete_override(C1, "Q1", uid("s1"))
    gone = next(o for o in observed.overrides if uid("s1") in o.lms_user_ids)
    op = replace(overrides_op(ops), overrides=OverridePlan(((gone, target.exams[0].assessment.overrides[0]),), (), ()))
    with pytest.raises(NotFound):
        run(fake.apply(C1, op))


def test_writes_need_their_object_to_exist():
    fake, _, ops = setup_course()
    link = next(op for op in ops if op.action is Action.LINK_ITEMS)
    with pytest.raises(NotFound):
        run(fake.apply(C1, link))
    with pytest.raises(NotFound):
        run(fake.read_roster(ref("canvas:99")))


def test_fail_does_nothing_and_crash_does_the_write():
    fake, _, ops = setup_course()
    fake.inject("fail", 1, action=Action.CREATE_MODULE)
    with pytest.raises(InjectedFailure):
        run(fake.apply(C1, ops[0]))
    assert fake.course(C1).modules == []
    fake.inject("crash", 1, action=Action.CREATE_MODULE)
    with pytest.raises(InjectedCrash):
        run(fake.apply(C1, ops[0]))
    assert len(fake.course(C1).modules) == 1
    run(fake.apply(C1, ops[0]))  # an unguarded create always creates
    assert fake.tagged(C1, "Q1")["module"] == 2
    assert [w.outcome for w in fake.writes] == ["failed", "crashed", "done"]


def test_guarded_creates_are_skipped_when_the_object_exists():
    fake, _, ops = setup_course()
    fake.guarded = True
    run(fake.apply(C1, ops[0]))
    run(fake.apply(C1, ops[0]))
    assert fake.tagged(C1, "Q1")["module"] == 1


def test_read_failures_are_injected_per_course_and_kind():
    fake, target, _ = setup_course()
    fake.fail_reads(C1, "roster")
    with pytest.raises(Exception, match="503"):
        run(fake.read_roster(C1))
    run(fake.read_course(C1, [("Q1", target.exams[0].title)]))  # the course itself still reads
