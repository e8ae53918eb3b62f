"""The engine's `by_hand` hook, LMS-agnostic: an adapter hands back what its API cannot do as
steps for people; `plan` shows them, the JSON summary lists them, and they are not operations
(nothing is applied or audited for them). A hook that fails makes its course fail, not the run."""

from __future__ import annotations

import json

from lms_bridge.sync import render
from lms_bridge.sync.engine import plan_sync
from lms_bridge.sync.operations import Action, ManualStep
from tests.sync.builders import LONDON, exam, period, plan, policy, ref, roster, run
from tests.sync.fake_lms import FakeLms

NOTT = policy("nottingham")


class HalfHanded(FakeLms):
    """A fake LMS that cannot create assessments: those become steps by hand."""

    def by_hand(self, course, operations):
        kept, steps = [], []
        for op in operations:
            if op.action is Action.CREATE_ASSESSMENT:
                steps.append(ManualStep(op.exam_id, op.subject, f"create {op.subject} by hand",
                                        "this LMS has no API for it", detail="<p>paste me</p>"))
            else:
                kept.append(op)
        return kept, steps


class Broken(FakeLms):
    def by_hand(self, course, operations):
        raise RuntimeError("cannot tell")


def setup(cls):
    fake = cls("moodle")
    fake.add_course(ref("moodle:7"), roster("s1", "s2"))
    per = period([exam("Q1", "2026-05-18 09:00", 60, "quiz", course="moodle:7")], [plan("s1", 50)])
    return fake, per


def test_steps_by_hand_are_planned_shown_and_summarised_but_not_operations():
    fake, per = setup(HalfHanded)
    sync_plan = run(plan_sync(NOTT, per, {"moodle": fake}))
    (course,) = sync_plan.courses
    assert not any(op.action is Action.CREATE_ASSESSMENT for op in course.operations)
    assert [s.instruction for s in sync_plan.manual] == ["create quiz 'Q1 Paper [Q1]' by hand"]
    text = render.plan_text(sync_plan, LONDON)
    assert "! Q1: BY HAND quiz 'Q1 Paper [Q1]': create quiz 'Q1 Paper [Q1]' by hand" in text
    assert "(why: this LMS has no API for it)" in text and "content: <p>paste me</p>" in text
    assert "1 steps must be done by hand" in text
    summary = json.loads(render.summary_json(sync_plan, 1, 0, []))
    assert summary["manual"] == [{"course": "moodle:7", "exam_id": "Q1", "subject": "quiz 'Q1 Paper [Q1]'",
                                  "instruction": "create quiz 'Q1 Paper [Q1]' by hand",
                                  "reason": "this LMS has no API for it", "detail": "<p>paste me</p>"}]
    assert set(summary) == {"courses", "reads", "writes", "failed", "drift", "manual"}


def test_a_failing_by_hand_hook_fails_its_course_only():
    fake, per = setup(Broken)
    sync_plan = run(plan_sync(NOTT, per, {"moodle": fake}))
    (course,) = sync_plan.courses
    assert course.error == "cannot tell" and course.operations == []
