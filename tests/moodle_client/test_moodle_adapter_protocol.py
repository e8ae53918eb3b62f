"""Protocol details of the Moodle adapter, against a fake endpoint built from the recorded
fixtures: what the site offers decides the path, rosters need ID numbers, per-user overrides
always carry the whole state, a non-atomic batch that fails half-way is finished precisely, and
extensions refused per student are reported by Moodle user id."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.moodle.adapter import MoodleAdapter, _Course, _Exam, _new_sections, _refused_users
from adapters.moodle.client import SiteInfo
from adapters.moodle.errors import MoodleConfigurationError, MoodleMissingFunction, MoodleSyncError
from adapters.moodle.features import CORE_ASSIGN_OVERRIDES, PLUGIN, PLUGIN_ASSIGN_OVERRIDES, SitePath
from adapters.moodle.mapping import (
    Activity,
    Override,
    desired_overrides,
    for_extensions,
    for_quiz,
    observed_overrides,
    override_writes,
    ts,
)
from lms_bridge.domain.model import DEFAULT_SETUP, Delivery
from lms_bridge.lms import AreaTarget, AssessmentTarget, CourseRef, Dates, ExamTarget, ObservedExam, OverrideTarget
from lms_bridge.sync.operations import Action, Operation

from ._support import body_of, fixture

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
COURSE = CourseRef("moodle", "2")


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def quiz_target(overrides=(), extra=None, limit=60, delivery=Delivery.QUIZ) -> AssessmentTarget:
    return AssessmentTarget(
        name="Stats [E1]", delivery=delivery, dates=Dates(h(0), h(1.5), h(1.5)), time_limit_minutes=limit,
        setup=DEFAULT_SETUP, instructions_html="<p>x</p>",
        overrides=tuple(OverrideTarget(d, frozenset(u), ("r",)) for d, u in overrides), extra_minutes=extra or {})


def dropbox_target(overrides=()) -> AssessmentTarget:
    return AssessmentTarget(
        name="Essay [E1]", delivery=Delivery.DROPBOX, dates=Dates(h(0), h(2), h(2.5)), time_limit_minutes=None,
        setup=DEFAULT_SETUP, instructions_html="<p>x</p>",
        overrides=tuple(OverrideTarget(d, frozenset(u), ("r",)) for d, u in overrides), extra_minutes={})


def exam_target(assessment: AssessmentTarget) -> ExamTarget:
    area = AreaTarget("Exam: Stats [E1]", "Exam information: Stats [E1]", "<p>info</p>", None, None, h(0))
    return ExamTarget("E1", "Stats", area, assessment)


def op(action: Action, target: ExamTarget) -> Operation:
    return Operation("E1", action, "exam", "quiz 'Stats [E1]'", ("r",), target, ObservedExam(None, None))


def site(*functions: str, release: str = "4.5.6 (Build: 20250811)") -> SiteInfo:
    base = {f["name"] for f in body_of("01")["functions"]}
    return SiteInfo(release, "2024100706", frozenset(base | set(functions)))


# -- detection ----------------------------------------------------------------------------------


def test_the_recorded_core_only_site_takes_extensions_for_drop_boxes():
    path = SitePath.detect(SiteInfo.parse(body_of("01")))
    assert (path.plugin, path.assign_overrides) == (False, "extensions")
    assert "core web services only" in path.describe()


def test_the_plugin_and_moodle_5_3_choose_the_assign_override_functions():
    assert SitePath.detect(site(*PLUGIN, *PLUGIN_ASSIGN_OVERRIDES)).assign_overrides == "plugin"
    on_53 = SitePath.detect(site(*PLUGIN, *PLUGIN_ASSIGN_OVERRIDES, *CORE_ASSIGN_OVERRIDES, release="5.3 (Build: 1)"))
    assert (on_53.plugin, on_53.assign_overrides) == (True, "core")
    assert on_53.assign_override_functions[0] == "mod_assign_save_overrides"
    assert SitePath.detect(site(*CORE_ASSIGN_OVERRIDES, release="5.3 (Build: 1)")).assign_overrides == "core"


def test_a_function_the_path_needs_but_the_service_lacks_is_named_with_where_to_add_it():
    path = SitePath.detect(site())
    with pytest.raises(MoodleMissingFunction) as caught:
        path.need("local_lmsbridge_upsert_activity", "create quizzes")
    text = str(caught.value)
    assert "local_lmsbridge_upsert_activity" in text and "External services" in text and "create quizzes" in text


# -- rosters ------------------------------------------------------------------------------------


def adapter_for(make_client, moodle, *functions: str, release: str = "4.5.6 (Build: 20250811)") -> MoodleAdapter:
    info = body_of("01") | {"release": release,
                            "functions": body_of("01")["functions"] + [{"name": f, "version": "1"} for f in functions]}
    moodle.answers["core_webservice_get_site_info"] = info
    return MoodleAdapter(make_client(), LONDON)


def test_the_roster_is_the_students_with_their_id_numbers(make_client, moodle):
    moodle.answers["core_enrol_get_enrolled_users"] = body_of("05")
    adapter = adapter_for(make_client, moodle)
    roster = asyncio.run(adapter.read_roster(COURSE))
    assert [(s.student_id, s.lms_user_id) for s in roster] == [("s1", "5"), ("s2", "6"), ("s3", "7"), ("s4", "8"),
                                                               ("s5", "9")]
    assert moodle.forms("core_enrol_get_enrolled_users")[0][3:] == [
        ("courseid", "2"), ("options[0][name]", "userfields"), ("options[0][value]", "id,fullname,idnumber,roles")]


def test_hidden_id_numbers_are_a_configuration_error_naming_showuseridentity(make_client, moodle):
    moodle.answers["core_enrol_get_enrolled_users"] = body_of("04")
    adapter = adapter_for(make_client, moodle)
    with pytest.raises(MoodleConfigurationError, match="showuseridentity") as caught:
        asyncio.run(adapter.read_roster(COURSE))
    assert "moodle/site:viewuseridentity" in str(caught.value)


def test_a_course_id_that_is_not_a_number_is_refused(make_client, moodle):
    adapter = adapter_for(make_client, moodle)
    with pytest.raises(ValueError, match="numeric"):
        asyncio.run(adapter.read_roster(CourseRef("moodle", "C101")))


# -- per-user overrides: the whole state, never "nothing differs" ---------------------------------


QUIZ = Activity(cmid=3, instance=1, modname="quiz", idnumber="lmsbridge:E1", name="Stats [E1]", sectionid=2,
                section=1, visible=True, settings={"timeopen": ts(h(0)), "timeclose": ts(h(1.5)), "timelimit": 3600})


def test_extra_time_extends_the_close_and_every_override_is_the_whole_state():
    # 30 minutes more fit in the standard window (90 minutes): no other window needed
    assert for_quiz(quiz_target(extra={"5": 30})).overrides == ()
    # 60 more do not: an attempt would be cut off at the standard close, so the close moves too
    want = for_quiz(quiz_target(extra={"5": 60}))
    assert want.overrides[0].dates.closes_at == h(2)
    desired = desired_overrides("quiz", want)
    assert desired == {5: {"timeopen": ts(h(0)), "timeclose": ts(h(2)), "timelimit": 7200}}
    saves, deletes = override_writes("quiz", desired, {5: Override(11, 5, {"timelimit": 6000})}, QUIZ.settings)
    assert saves == [{"id": 11, "userid": 5, "timeopen": ts(h(0)), "timeclose": ts(h(2)), "timelimit": 7200}]
    assert deletes == []


def test_a_student_back_to_the_standard_window_loses_the_override_and_nothing_equal_is_sent():
    desired = {5: {"timeopen": ts(h(0)), "timeclose": ts(h(1.5)), "timelimit": 3600}}  # the quiz's own: nooverridedata
    current = {5: Override(11, 5, {"timelimit": 4000}), 9: Override(12, 9, {"timeclose": ts(h(3))})}
    assert override_writes("quiz", desired, current, QUIZ.settings) == ([], [11, 12])
    assert override_writes("quiz", desired, {}, QUIZ.settings) == ([], [])


def test_null_fields_mean_the_quizs_own_value_when_reading_back():
    current = {5: Override(11, 5, {"timeopen": None, "timeclose": ts(h(2)), "timelimit": 5400}),
               6: Override(12, 6, {"timeopen": None, "timeclose": None, "timelimit": 4800})}
    overrides, extra = observed_overrides(QUIZ, current)
    assert [(o.lms_user_ids, o.dates) for o in overrides] == [(frozenset({"5"}), Dates(h(0), h(2), h(2)))]
    assert extra == {"5": 30, "6": 20}


def test_with_extensions_only_a_students_due_moves_to_their_close_and_a_later_start_is_for_people():
    target = dropbox_target([(Dates(h(0), h(3), h(3.5)), {"5"}), (Dates(h(1), h(3), h(3.5)), {"6"})])
    adjusted, cannot = for_extensions(target)
    assert [(o.lms_user_ids, o.dates) for o in adjusted.overrides] == [
        (frozenset({"5", "6"}), Dates(h(0), h(3.5), h(3.5)))]
    assert list(cannot) == ["6"]


# -- a batch that fails half-way ------------------------------------------------------------------


class QuizOverrides:
    """mod_quiz_*_overrides as Moodle 4.5.6 behaves (fixtures 19–33): items saved in order until
    one fails (not atomic); one override per user; equal values stored as NULL; ids required to update."""

    FIELD = re.compile(r"data\[overrides\]\[(\d+)\]\[(\w+)\]")

    def __init__(self, quiz: dict, refuse: set[int]) -> None:
        self.quiz, self.refuse = quiz, refuse
        self.rows: dict[int, dict] = {}
        self.next_id = 1

    @staticmethod
    def _error(debug: str) -> dict:
        return {"exception": "core\\exception\\invalid_parameter_exception", "errorcode": "invalidparameter",
                "message": "Invalid parameter value detected", "debuginfo": debug}

    def save(self, form):
        items: dict[int, dict] = {}
        for k, v in form:
            if m := self.FIELD.fullmatch(k):
                items.setdefault(int(m.group(1)), {})[m.group(2)] = int(v)
        ids = []
        for _, item in sorted(items.items()):
            uid = item["userid"]
            if uid in self.refuse:
                return self._error("Invalid user")
            fields = {k: (None if item.get(k) in (None, self.quiz[k]) else item[k])
                      for k in ("timeopen", "timeclose", "timelimit")}
            if all(v is None for v in fields.values()):
                return self._error("You must override at least one of the quiz settings.")
            oid = item.get("id")
            if oid is None:
                if any(r["userid"] == uid for r in self.rows.values()):
                    return self._error("Multiple overrides cannot be made for the same user/group.")
                oid, self.next_id = self.next_id, self.next_id + 1
            self.rows[oid] = {"id": oid, "quiz": 1, "userid": uid, "groupid": None, **fields}
            ids.append(oid)
        return {"ids": ids}

    def get(self, form):
        return {"overrides": list(self.rows.values())}

    def delete(self, form):
        ids = [int(v) for k, v in form if k.startswith("data[ids]")]
        for i in ids:
            self.rows.pop(i)
        return {"ids": ids}


def test_a_batch_refused_half_way_is_finished_one_by_one_and_reports_exactly_who(make_client, moodle):
    fake = QuizOverrides(dict(QUIZ.settings), refuse={7})
    moodle.answers.update({"mod_quiz_save_overrides": fake.save, "mod_quiz_get_overrides": fake.get,
                           "mod_quiz_delete_overrides": fake.delete})
    adapter = adapter_for(make_client, moodle)
    asyncio.run(adapter.path())
    late = Dates(h(0), h(2), h(2))
    target = exam_target(for_quiz(quiz_target([(late, {"5", "7", "9"})], extra={"5": 30, "7": 30, "9": 30})))
    adapter._courses[COURSE] = _Course(2)
    adapter._exams[(COURSE, "E1")] = _Exam(acts={"exam": QUIZ}, overrides={"exam": None})

    with pytest.raises(MoodleSyncError) as caught:
        asyncio.run(adapter.apply(COURSE, op(Action.SET_OVERRIDES, target)))
    assert "1 of 3 students" in str(caught.value) and "Moodle user ids 7" in str(caught.value)
    assert sorted(r["userid"] for r in fake.rows.values()) == [5, 9]
    for row in fake.rows.values():  # the whole state went: close and limit, the open equal to the quiz's
        assert (row["timeopen"], row["timeclose"], row["timelimit"]) == (None, ts(h(2)), 5400)

    # the next apply sends only what is missing, and updates by id
    fake.refuse.clear()
    saves_before = len(moodle.forms("mod_quiz_save_overrides"))
    asyncio.run(adapter.apply(COURSE, op(Action.SET_EXTRA_TIME, target)))
    (form,) = moodle.forms("mod_quiz_save_overrides")[saves_before:]
    assert [v for k, v in form if k.endswith("[userid]")] == ["7"]
    assert sorted(r["userid"] for r in fake.rows.values()) == [5, 7, 9]


def test_a_lost_answer_to_a_batch_with_new_overrides_is_read_back_not_repeated(make_client, moodle):
    import httpx

    fake = QuizOverrides(dict(QUIZ.settings), refuse=set())
    calls = {"n": 0}

    def save_then_drop(form):
        calls["n"] += 1
        answer = fake.save(form)
        if calls["n"] == 1:
            raise httpx.RemoteProtocolError("the connection dropped after Moodle saved")
        return answer

    moodle.answers.update({"mod_quiz_save_overrides": save_then_drop, "mod_quiz_get_overrides": fake.get})
    adapter = adapter_for(make_client, moodle)
    asyncio.run(adapter.path())
    target = exam_target(for_quiz(quiz_target([(Dates(h(0), h(2), h(2)), {"5", "6"})])))
    adapter._courses[COURSE] = _Course(2)
    adapter._exams[(COURSE, "E1")] = _Exam(acts={"exam": QUIZ}, overrides={"exam": {}})
    asyncio.run(adapter.apply(COURSE, op(Action.SET_OVERRIDES, target)))
    assert sorted(r["userid"] for r in fake.rows.values()) == [5, 6]
    assert len(fake.rows) == 2 and calls["n"] == 1, "read back, found saved, nothing sent again"


# -- extensions ---------------------------------------------------------------------------------


def test_refused_extensions_name_the_users_from_moodles_warnings():
    assert _refused_users(body_of("10")) == {6: "couldnotgrantextensions: Could not grant submission date extensions."}
    assert _refused_users(body_of("09")) == {}
    with pytest.raises(MoodleSyncError, match="invalidparameters"):
        _refused_users(body_of("12"))


def test_extensions_refused_for_one_student_are_reported_and_the_rest_kept(make_client, moodle):
    moodle.answers["mod_assign_save_user_extensions"] = lambda form: [
        {"item": f"User id: {v}, Assignment id: 1, Extension date: 1", "itemid": 1,
         "warningcode": "couldnotgrantextensions", "message": "Could not grant submission date extensions."}
        for k, v in form if k.startswith("userids") and v == "10"]
    adapter = adapter_for(make_client, moodle)
    asyncio.run(adapter.path())
    essay = Activity(2, 1, "assign", None, "Essay [E1]", 2, 1, True,
                     {"allowsubmissionsfromdate": ts(h(0)), "duedate": ts(h(2)), "cutoffdate": ts(h(2.5))})
    target = dropbox_target([(Dates(h(0), h(3), h(3.5)), {"5", "10"})])
    adapter._courses[COURSE] = _Course(2)
    ex = adapter._exams[(COURSE, "E1")] = _Exam(acts={"exam": essay}, extensions={"exam": {}})
    operation = op(Action.SET_OVERRIDES, exam_target(for_extensions(target)[0]))
    with pytest.raises(MoodleSyncError, match="1 of 2 students.*Moodle user ids 10"):
        asyncio.run(adapter.apply(COURSE, operation))
    assert ex.extensions["exam"] == {5: ts(h(3.5))}
    (form,) = moodle.forms("mod_assign_save_user_extensions")
    assert form[3:] == [("assignmentid", "1"), ("userids[0]", "5"), ("userids[1]", "10"),
                        ("dates[0]", str(ts(h(3.5)))), ("dates[1]", str(ts(h(3.5))))]


# -- sections -----------------------------------------------------------------------------------


def test_the_new_section_is_found_in_section_adds_answer():
    (new,) = _new_sections(body_of("34"), known={1, 2})
    assert (new.id, new.number, new.name) == (3, 2, "")
    assert fixture("34")["request"]["form"][3:] == [["action", "section_add"], ["courseid", "2"]]
