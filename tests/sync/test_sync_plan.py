"""plan_course / plan_exam / match_overrides: desired − observed = operations."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from lms_bridge.domain.model import Delivery, ExamSetup
from lms_bridge.lms import (
    Dates,
    ObservedAssessment,
    ObservedCourse,
    ObservedOverride,
    OverrideTarget,
)
from lms_bridge.sync.desired import Paper, course_targets
from lms_bridge.sync.operations import Action, Change
from lms_bridge.sync.plan import match_overrides, plan_course
from tests.sync.builders import (
    at,
    exam,
    period,
    plan,
    policy,
    ref,
    roster,
    run,
    uid,
    wall,
)
from tests.sync.fake_lms import FakeLms

NOTT = policy("nottingham")
C1 = ref("canvas:1")
PDF = {"Q1": Paper(".pdf", b"%PDF-1.7 original")}


PLANS = (plan("s1", 50), plan("s2", 50), plan("s3", 100))


def quiz_period(plans=PLANS, **kw):
    return period([exam("Q1", "2026-05-18 09:00", 60, "quiz", **kw)], plans)


STUDENTS = ("s0", "s1", "s2", "s3")


def target_for(per, papers=PDF, students=STUDENTS, pol=NOTT):
    (target,) = course_targets(pol, per, {C1: roster(*students)}, papers).targets
    return target


def observe(fake: FakeLms, target) -> ObservedCourse:
    return run(fake.read_course(target.course, [(e.exam_id, e.title) for e in target.exams]))


def fresh_fake(students=STUDENTS) -> FakeLms:
    fake = FakeLms("canvas")
    fake.add_course(C1, roster(*students))
    return fake


def converge(fake: FakeLms, target) -> None:
    """Apply the plan through the fake until nothing is left (at most twice)."""
    for _ in range(2):
        ops = plan_course(target, observe(fake, target))
        if not ops:
            return
        for op in ops:
            run(fake.apply(target.course, op))
    assert plan_course(target, observe(fake, target)) == []


def converged(per=None, papers=PDF, students=STUDENTS):
    target = target_for(per or quiz_period(), papers, students)
    fake = fresh_fake(students)
    converge(fake, target)
    return fake, target


def actions(ops):
    return [(op.action, op.role) for op in ops]


# -- from nothing ---------------------------------------------------------------------------


def test_empty_course_plans_everything_in_order():
    target = target_for(quiz_period())
    ops = plan_course(target, ObservedCourse(C1, roster(*STUDENTS)))
    assert [op.action for op in ops] == [
        Action.CREATE_MODULE,
        Action.CREATE_PAGE,
        Action.UPLOAD_PAPER,
        Action.CREATE_ASSESSMENT,
        Action.SET_OVERRIDES,
        Action.SET_EXTRA_TIME,
        Action.LINK_ITEMS,
    ]
    for op in ops:
        assert op.exam_id == "Q1" and op.role == "exam"
    create_module, _, _, _, overrides, extra, _ = ops
    assert create_module.reasons == ("missing",)
    assert overrides.overrides is not None
    assert overrides.overrides.keep == () and overrides.overrides.delete == ()
    assert {o.lms_user_ids for o in overrides.overrides.create} == {
        frozenset({uid("s1"), uid("s2")}),
        frozenset({uid("s3")}),
    }
    assert "nottingham.extra_time" in overrides.reasons
    assert extra.extra_minutes == {uid("s1"): 30, uid("s2"): 30, uid("s3"): 60}


def test_empty_course_without_paper_plans_no_upload_and_dropbox_no_extra_time():
    per = period([exam("D1", "2026-05-18 09:00", 60)], [plan("s1", 50)])
    target = target_for(per, papers={})
    ops = plan_course(target, ObservedCourse(C1, roster(*STUDENTS)))
    assert [op.action for op in ops] == [
        Action.CREATE_MODULE, Action.CREATE_PAGE, Action.CREATE_ASSESSMENT, Action.SET_OVERRIDES, Action.LINK_ITEMS,
    ]


def test_empty_course_with_practice_plans_the_practice_after_the_exam():
    per = quiz_period(setup=ExamSetup(practice_days_before=2))
    target = target_for(per)
    ops = plan_course(target, ObservedCourse(C1, roster(*STUDENTS)))
    assert actions(ops) == [
        (Action.CREATE_MODULE, "exam"),
        (Action.CREATE_PAGE, "exam"),
        (Action.UPLOAD_PAPER, "exam"),
        (Action.CREATE_ASSESSMENT, "exam"),
        (Action.SET_OVERRIDES, "exam"),
        (Action.SET_EXTRA_TIME, "exam"),
        (Action.CREATE_ASSESSMENT, "practice"),
        (Action.SET_OVERRIDES, "practice"),
        (Action.SET_EXTRA_TIME, "practice"),
        (Action.LINK_ITEMS, "exam"),
    ]


def test_a_first_sync_reports_no_drift():
    target = target_for(quiz_period())
    ops = plan_course(target, ObservedCourse(C1, roster(*STUDENTS)))
    assert [op.action for op in ops if op.drift] == []


# -- converged ------------------------------------------------------------------------------


def test_fully_converged_course_plans_nothing():
    fake, target = converged()
    assert plan_course(target, observe(fake, target)) == []
    a = fake.assessment(C1, "Q1")
    assert len(a.overrides) == 2
    assert {u: m for u, m in a.extra_minutes.items()} == {uid("s1"): 30, uid("s2"): 30, uid("s3"): 60}
    module = fake.module(C1, "Q1")
    assert module.published
    assert {ref.split(":")[0] for ref in module.items} == {"page", "paper", "assessment"}


def test_fully_converged_with_practice_plans_nothing():
    fake, target = converged(quiz_period(setup=ExamSetup(practice_days_before=2)))
    assert plan_course(target, observe(fake, target)) == []
    assert {ref.split(":")[0] for ref in fake.module(C1, "Q1").items} == {"page", "paper", "assessment", "practice"}


# -- drift ----------------------------------------------------------------------------------


def test_changed_due_date_is_one_update_with_before_and_after():
    fake, target = converged()
    want = target.exams[0].assessment.dates.due_at
    fake.set_due(C1, "Q1", want + timedelta(hours=2))
    ops = plan_course(target, observe(fake, target))
    assert [op.action for op in ops] == [Action.UPDATE_ASSESSMENT]
    (op,) = ops
    assert op.changes == (Change("due", want + timedelta(hours=2), want),)
    assert op.drift and op.reasons == ("drift",)
    assert "Q1 Paper" in op.subject


def test_deleted_override_is_created_again_and_the_others_kept():
    fake, target = converged()
    kept_id = next(o.id for o in fake.assessment(C1, "Q1").overrides if uid("s1") in o.users)
    fake.delete_override(C1, "Q1", uid("s3"))
    ops = plan_course(target, observe(fake, target))
    assert [op.action for op in ops] == [Action.SET_OVERRIDES]
    plan_ = ops[0].overrides
    assert [t.lms_user_ids for t in plan_.create] == [frozenset({uid("s3")})]
    assert [(o.id, t.lms_user_ids) for o, t in plan_.keep] == [(kept_id, frozenset({uid("s1"), uid("s2")}))]
    assert plan_.delete == ()
    assert ops[0].changes == (Change("override", None, ops[0].changes[0].after),)
    run(fake.apply(C1, ops[0]))
    assert plan_course(target, observe(fake, target)) == []


def test_unpublished_module_is_published():
    fake, target = converged()
    fake.unpublish_module(C1, "Q1")
    ops = plan_course(target, observe(fake, target))
    assert [op.action for op in ops] == [Action.UPDATE_MODULE]
    assert ops[0].changes == (Change("published", False, True),)


def test_removed_extra_time_is_set_again():
    fake, target = converged()
    fake.remove_extra_time(C1, "Q1", uid("s3"))
    ops = plan_course(target, observe(fake, target))
    assert [op.action for op in ops] == [Action.SET_EXTRA_TIME]
    assert ops[0].extra_minutes == {uid("s3"): 60}


def test_extra_time_changed_by_hand_is_set_not_added():
    fake, target = converged()
    fake.assessment(C1, "Q1").extra_minutes[uid("s1")] = 45
    ops = plan_course(target, observe(fake, target))
    assert [(op.action, op.extra_minutes) for op in ops] == [(Action.SET_EXTRA_TIME, {uid("s1"): 30})]
    run(fake.apply(C1, ops[0]))
    assert fake.assessment(C1, "Q1").extra_minutes[uid("s1")] == 30


def test_student_who_left_the_plans_loses_override_membership_and_extra_time():
    fake, _ = converged()
    before = {frozenset(o.users): o.id for o in fake.assessment(C1, "Q1").overrides}
    new_target = target_for(quiz_period(plans=(plan("s1", 50), plan("s3", 100))))
    ops = plan_course(new_target, observe(fake, new_target))
    assert [op.action for op in ops] == [Action.SET_OVERRIDES, Action.SET_EXTRA_TIME]
    overrides, extra = ops
    # the shared override is updated in place (same dates, fewer students), the other untouched
    assert overrides.overrides.create == () and overrides.overrides.delete == ()
    kept = {o.id: t.lms_user_ids for o, t in overrides.overrides.keep}
    assert kept[before[frozenset({uid("s1"), uid("s2")})]] == {uid("s1")}
    assert extra.extra_minutes == {uid("s2"): 0}
    for op in ops:
        run(fake.apply(C1, op))
    a = fake.assessment(C1, "Q1")
    assert uid("s2") not in a.extra_minutes
    assert all(uid("s2") not in o.users for o in a.overrides)
    assert fake.effective_dates(C1, "Q1", uid("s2")) == a.dates
    assert plan_course(new_target, observe(fake, new_target)) == []


def test_sole_member_leaving_deletes_the_override():
    fake, _ = converged()
    lone = next(o.id for o in fake.assessment(C1, "Q1").overrides if o.users == {uid("s3")})
    new_target = target_for(quiz_period(plans=(plan("s1", 50), plan("s2", 50))))
    ops = plan_course(new_target, observe(fake, new_target))
    overrides = next(op for op in ops if op.action is Action.SET_OVERRIDES)
    assert [o.id for o in overrides.overrides.delete] == [lone]
    assert next(op for op in ops if op.action is Action.SET_EXTRA_TIME).extra_minutes == {uid("s3"): 0}
    for op in ops:
        run(fake.apply(C1, op))
    assert plan_course(new_target, observe(fake, new_target)) == []


def test_student_moving_between_overrides_converges():
    fake, _ = converged()
    new_target = target_for(quiz_period(plans=(plan("s1", 50), plan("s2", 100), plan("s3", 100))))
    ops = plan_course(new_target, observe(fake, new_target))
    for op in ops:
        run(fake.apply(C1, op))
    assert plan_course(new_target, observe(fake, new_target)) == []
    assert fake.effective_time_limit(C1, "Q1", uid("s2")) == 120


def test_page_edited_by_hand_is_rewritten():
    fake, target = converged()
    page = fake.course(C1).pages[0]
    page.html = "<p>edited</p>"
    ops = plan_course(target, observe(fake, target))
    assert [op.action for op in ops] == [Action.UPDATE_PAGE]
    assert "edited" not in repr(ops[0].changes)  # the change names the field, not the text


def test_paper_unlocked_by_hand_is_locked_again():
    fake, target = converged()
    fake.course(C1).files[0].locked_until = None
    ops = plan_course(target, observe(fake, target))
    assert [op.action for op in ops] == [Action.LOCK_PAPER]
    assert ops[0].changes == (Change("locked until", None, target.exams[0].area.release_at),)


def test_item_unlinked_by_hand_is_linked_again():
    fake, target = converged()
    module = fake.module(C1, "Q1")
    module.items = [r for r in module.items if not r.startswith("assessment:")]
    ops = plan_course(target, observe(fake, target))
    assert [op.action for op in ops] == [Action.LINK_ITEMS]
    assert ops[0].changes == (Change("linked items", ["page", "paper"], ["assessment", "page", "paper"]),)
    run(fake.apply(C1, ops[0]))
    assert plan_course(target, observe(fake, target)) == []


def test_quiz_setting_changed_by_hand_is_reset():
    fake, target = converged()
    fake.assessment(C1, "Q1").settings["attempts"] = 3
    ops = plan_course(target, observe(fake, target))
    assert [(op.action, op.changes) for op in ops] == [(Action.UPDATE_ASSESSMENT, (Change("attempts", 3, 1),))]


def test_unpublished_assessment_is_published():
    fake, target = converged()
    fake.assessment(C1, "Q1").published = False
    ops = plan_course(target, observe(fake, target))
    assert [(op.action, op.changes) for op in ops] == [(Action.UPDATE_ASSESSMENT, (Change("published", False, True),))]


def test_timetable_move_updates_in_place_and_keeps_override_ids():
    fake, _ = converged()
    ids = sorted(o.id for o in fake.assessment(C1, "Q1").overrides)
    assessment_id = fake.assessment(C1, "Q1").id
    moved = target_for(period([exam("Q1", "2026-05-18 13:30", 60, "quiz")], [plan("s1", 50), plan("s2", 50), plan("s3", 100)]))
    ops = plan_course(moved, observe(fake, moved))
    assert sorted(op.action.name for op in ops) == ["LOCK_PAPER", "SET_OVERRIDES", "UPDATE_ASSESSMENT", "UPDATE_PAGE"]
    overrides = next(op for op in ops if op.action is Action.SET_OVERRIDES).overrides
    assert overrides.create == () and overrides.delete == ()
    for op in ops:
        run(fake.apply(C1, op))
    assert plan_course(moved, observe(fake, moved)) == []
    assert sorted(o.id for o in fake.assessment(C1, "Q1").overrides) == ids
    assert fake.assessment(C1, "Q1").id == assessment_id
    assert wall(fake.effective_dates(C1, "Q1", uid("s3")).due_at) == "2026-05-18 16:30 BST"


def test_drift_in_the_practice_is_repaired_on_the_practice():
    fake, target = converged(quiz_period(setup=ExamSetup(practice_days_before=2)))
    fake.set_due(C1, "Q1", at("2026-05-16 12:00"), role="practice")
    ops = plan_course(target, observe(fake, target))
    assert actions(ops) == [(Action.UPDATE_ASSESSMENT, "practice")]
    run(fake.apply(C1, ops[0]))
    assert plan_course(target, observe(fake, target)) == []
    assert wall(fake.assessment(C1, "Q1", "practice").dates.due_at) == "2026-05-16 10:30 BST"


def test_replaced_paper_is_uploaded():
    fake, _ = converged()
    corrected = target_for(quiz_period(), papers={"Q1": Paper(".pdf", b"%PDF-1.7 corrected")})
    ops = plan_course(corrected, observe(fake, corrected))
    assert Action.UPLOAD_PAPER in [op.action for op in ops]


def test_delivery_change_is_planned():
    per = period([exam("Q1", "2026-05-18 09:00", 60, "dropbox")], [plan("s1", 50)])
    fake, _ = converged(per)
    quiz = target_for(period([exam("Q1", "2026-05-18 09:00", 60, "quiz")], [plan("s1", 50)]))
    ops = plan_course(quiz, observe(fake, quiz))
    changed = {c.field for op in ops for c in op.changes}
    assert "delivery" in changed or Action.CREATE_ASSESSMENT in [op.action for op in ops]


def test_module_deleted_by_hand_is_recreated_without_duplicating_its_items():
    fake, target = converged()
    fake.delete_module(C1, "Q1")
    for op in plan_course(target, observe(fake, target)):
        run(fake.apply(C1, op))
    assert fake.tagged(C1, "Q1") == {"module": 1, "page": 1, "paper": 1, "assessment": 1, "practice": 0}


# -- match_overrides --------------------------------------------------------------------------


D1 = Dates(at("2026-05-18 09:00"), at("2026-05-18 11:15"), at("2026-05-18 11:15"))
D2 = Dates(at("2026-05-18 09:00"), at("2026-05-18 12:00"), at("2026-05-18 12:00"))
D3 = Dates(at("2026-05-18 09:00"), at("2026-05-18 12:45"), at("2026-05-18 12:45"))


def assessment_with(observed, wanted):
    target = target_for(quiz_period()).exams[0].assessment
    want = replace(target, overrides=tuple(wanted))
    obs = ObservedAssessment("a1", want.name, Delivery.QUIZ, want.dates, 60, True, {}, tuple(observed), {})
    return want, obs


def ov(id_, dates, *users):
    return ObservedOverride(id_, dates, frozenset(users))


def tg(dates, *users):
    return OverrideTarget(dates, frozenset(users), ("nottingham.extra_time",))


def test_match_overrides_keeps_the_id_when_only_dates_change():
    want, obs = assessment_with([ov("o1", D1, "a", "b")], [tg(D2, "a", "b")])
    plan_ = match_overrides(want, obs)
    assert [(o.id, t.dates) for o, t in plan_.keep] == [("o1", D2)]
    assert plan_.create == () and plan_.delete == ()


def test_match_overrides_keeps_the_id_when_only_students_change():
    want, obs = assessment_with([ov("o1", D1, "a", "b")], [tg(D1, "a", "c")])
    plan_ = match_overrides(want, obs)
    assert [(o.id, t.lms_user_ids) for o, t in plan_.keep] == [("o1", frozenset({"a", "c"}))]
    assert plan_.create == () and plan_.delete == ()


def test_match_overrides_prefers_same_students_over_same_dates():
    # the window of {a} moved to D2, and {b} now has D1: pair by students, update dates
    want, obs = assessment_with([ov("o1", D1, "a"), ov("o2", D2, "b")], [tg(D2, "a"), tg(D1, "b")])
    plan_ = match_overrides(want, obs)
    assert {o.id: t.lms_user_ids for o, t in plan_.keep} == {"o1": frozenset({"a"}), "o2": frozenset({"b"})}


def test_match_overrides_creates_and_deletes_what_cannot_be_paired():
    want, obs = assessment_with([ov("o1", D1, "a"), ov("o2", D2, "b")], [tg(D1, "a"), tg(D3, "c")])
    plan_ = match_overrides(want, obs)
    assert [o.id for o, _ in plan_.keep] == ["o1"]
    assert [t.lms_user_ids for t in plan_.create] == [frozenset({"c"})]
    assert [o.id for o in plan_.delete] == ["o2"]
    assert {id_ for id_, _ in plan_.desired} == {"o1", None}


def test_match_overrides_never_pairs_one_observed_override_twice():
    # two desired overrides both with D1's dates? impossible (one per window); but two observed
    # with the same students (a duplicate made by hand) must not both be kept
    want, obs = assessment_with([ov("o1", D1, "a"), ov("o2", D1, "a")], [tg(D1, "a")])
    plan_ = match_overrides(want, obs)
    assert [o.id for o, _ in plan_.keep] == ["o1"]
    assert [o.id for o in plan_.delete] == ["o2"]


def test_students_swapping_between_overrides_can_be_applied():
    # O1 {a, b} @D1, O2 {c, d} @D2 -> {a, c} @D1, {b, d} @D2: paired by dates; a faithful adapter
    # must shrink before it grows or Canvas refuses a student in two overrides
    fake, _ = converged(students=STUDENTS + ("s4",), per=quiz_period(plans=(
        plan("s1", 50), plan("s2", 50), plan("s3", 100), plan("s4", 100))))
    swapped = target_for(
        quiz_period(plans=(plan("s1", 50), plan("s3", 50), plan("s2", 100), plan("s4", 100))),
        students=STUDENTS + ("s4",),
    )
    ops = plan_course(swapped, observe(fake, swapped))
    set_ops = [op for op in ops if op.action is Action.SET_OVERRIDES]
    assert len(set_ops) == 1 and set_ops[0].overrides.create == () and set_ops[0].overrides.delete == ()
    for op in ops:
        run(fake.apply(C1, op))
    assert plan_course(swapped, observe(fake, swapped)) == []
