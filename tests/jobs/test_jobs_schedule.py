"""schedule.due_jobs: which work is due, given the exams, the time and the settings. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms_bridge.jobs import kinds
from lms_bridge.jobs.schedule import DueJob, ScheduledExam, ScheduleSettings, due_jobs, nightly_instant, roster_bucket

LONDON = ZoneInfo("Europe/London")
S = ScheduleSettings()
T0 = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # an exam's start (09:30 GMT)


def exam(exam_id="E1", course="canvas:101", start=T0, minutes=120):
    return ScheduledExam(exam_id, course, start, start + timedelta(minutes=minutes))


def keys(jobs):
    return [j.dedupe_key for j in jobs]


def by_kind(jobs, kind):
    return [j for j in jobs if j.kind == kind]


# -- apply at T-24h, verify at T-30min ------------------------------------------------------------


def test_nothing_but_the_nightly_reconcile_before_t_minus_24h():
    jobs = due_jobs([exam()], T0 - timedelta(hours=24, seconds=1), S)
    assert [j.kind for j in jobs] == [kinds.RECONCILE_COURSE]
    assert "nightly" in jobs[0].dedupe_key


def test_apply_is_due_at_exactly_t_minus_24h():
    jobs = due_jobs([exam()], T0 - timedelta(hours=24), S)
    (apply,) = by_kind(jobs, kinds.APPLY_EXAM)
    assert apply.due_at == T0 - timedelta(hours=24)
    assert apply.arguments == {"exam_id": "E1"}
    assert apply.dedupe_key == "apply_exam:E1@20261201T0930Z"
    assert by_kind(jobs, kinds.VERIFY_EXAM) == []


def test_verify_is_due_at_exactly_t_minus_30min_and_apply_still_listed():
    jobs = due_jobs([exam()], T0 - timedelta(minutes=30), S)
    (verify,) = by_kind(jobs, kinds.VERIFY_EXAM)
    assert verify.due_at == T0 - timedelta(minutes=30)
    assert verify.dedupe_key == "verify_exam:E1@20261201T0930Z"
    assert len(by_kind(jobs, kinds.APPLY_EXAM)) == 1  # the same key: enqueued once, whenever asked


def test_one_minute_before_verify_time_only_apply():
    jobs = due_jobs([exam()], T0 - timedelta(minutes=31), S)
    assert by_kind(jobs, kinds.VERIFY_EXAM) == []
    assert len(by_kind(jobs, kinds.APPLY_EXAM)) == 1


@pytest.mark.parametrize("apply_minutes,verify_minutes", [(60, 5), (48 * 60, 120), (0, 0), (24 * 60, 24 * 60)])
def test_the_offsets_are_settings(apply_minutes, verify_minutes):
    s = ScheduleSettings(apply_before=timedelta(minutes=apply_minutes), verify_before=timedelta(minutes=verify_minutes))
    at_apply = due_jobs([exam()], T0 - timedelta(minutes=apply_minutes), s)
    assert by_kind(at_apply, kinds.APPLY_EXAM)[0].due_at == T0 - timedelta(minutes=apply_minutes)
    before_apply = due_jobs([exam()], T0 - timedelta(minutes=apply_minutes, seconds=1), s)
    assert by_kind(before_apply, kinds.APPLY_EXAM) == []
    at_verify = due_jobs([exam()], T0 - timedelta(minutes=verify_minutes), s)
    assert by_kind(at_verify, kinds.VERIFY_EXAM)[0].due_at == T0 - timedelta(minutes=verify_minutes)


def test_a_leader_back_after_the_start_still_applies_and_verifies_until_the_close_plus_grace():
    e = exam(minutes=120)
    during = due_jobs([e], T0 + timedelta(minutes=45), S)
    assert {j.kind for j in during} >= {kinds.APPLY_EXAM, kinds.VERIFY_EXAM}
    late = due_jobs([e], e.closes_at + S.close_grace - timedelta(seconds=1), S)
    assert {j.kind for j in late} >= {kinds.APPLY_EXAM, kinds.VERIFY_EXAM}
    assert due_jobs([e], e.closes_at + S.close_grace, S) == []


def test_a_moved_exam_gets_new_keys_so_it_is_applied_and_verified_again():
    before = due_jobs([exam()], T0 - timedelta(minutes=10), S)
    moved = exam(start=T0 + timedelta(minutes=15))
    after = due_jobs([moved], T0 - timedelta(minutes=10), S)
    old = {j.dedupe_key for j in before if j.kind in (kinds.APPLY_EXAM, kinds.VERIFY_EXAM)}
    new = {j.dedupe_key for j in after if j.kind in (kinds.APPLY_EXAM, kinds.VERIFY_EXAM)}
    assert old and new and not old & new


def test_exams_without_a_course_are_not_scheduled():
    assert due_jobs([exam(course=None)], T0 - timedelta(minutes=10), S) == []


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        due_jobs([exam()], T0.replace(tzinfo=None), S)


def test_jobs_carry_ids_only():
    jobs = due_jobs([exam()], T0 - timedelta(minutes=10), S)
    for job in jobs:
        assert set(job.arguments) <= {"exam_id", "course"}
        assert all(isinstance(v, str) for v in job.arguments.values())


def test_bad_arguments_are_refused_before_anything_is_due():
    with pytest.raises(kinds.BadArguments):
        DueJob.make(kinds.APPLY_EXAM, {"exam_id": "E1", "extra_time_percent": 50}, T0, "k")
    with pytest.raises(kinds.BadArguments):
        DueJob.make(kinds.APPLY_INCIDENT, {"incident_id": "3; DROP"}, T0, "k")
    with pytest.raises(kinds.BadArguments):
        DueJob.make("nonsense", {}, T0, "k")


# -- nightly reconcile -------------------------------------------------------------------------------


def test_nightly_reconcile_covers_each_course_with_an_exam_ahead_once():
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    exams = [exam("E1", "canvas:1"), exam("E2", "canvas:1", T0 + timedelta(hours=3)), exam("E3", "moodle:7"),
             exam("E4", "canvas:9", now + timedelta(days=61))]  # beyond the 60-day horizon
    jobs = due_jobs(exams, now, S)
    assert keys(jobs) == ["reconcile_course:canvas:1:nightly:2026-11-20", "reconcile_course:moodle:7:nightly:2026-11-20"]
    assert {j.due_at for j in jobs} == {datetime(2026, 11, 20, 2, 30, tzinfo=UTC)}  # 02:30 GMT


def test_before_tonights_run_the_key_is_last_nights():
    now = datetime(2026, 11, 20, 2, 29, tzinfo=UTC)
    (job,) = due_jobs([exam()], now, S)
    assert job.dedupe_key.endswith(":nightly:2026-11-19")
    assert job.due_at == datetime(2026, 11, 19, 2, 30, tzinfo=UTC)


def test_a_course_whose_exams_have_all_closed_is_not_reconciled():
    e = exam(start=datetime(2026, 11, 1, 9, tzinfo=UTC))
    assert due_jobs([e], e.closes_at + S.close_grace + timedelta(hours=1), S) == []


def test_nightly_run_in_summer_time_is_0230_local():
    instant, day = nightly_instant(datetime(2026, 6, 10, 12, tzinfo=UTC), S)
    assert instant == datetime(2026, 6, 10, 1, 30, tzinfo=UTC) and day == "2026-06-10"


@pytest.mark.parametrize("at", [time(1, 30), time(2, 30), time(0, 30), time(23, 59)])
@pytest.mark.parametrize("day", ["2026-03-28", "2026-03-29", "2026-03-30", "2026-10-24", "2026-10-25", "2026-10-26"])
def test_each_local_date_has_exactly_one_nightly_run_across_clock_changes(at, day):
    s = ScheduleSettings(nightly_at=at)
    start = datetime.fromisoformat(day).replace(tzinfo=UTC) - timedelta(hours=3)
    seen: dict[str, set[datetime]] = {}
    now = start
    while now < start + timedelta(hours=30):  # step in UTC: never through a fold's wall clock
        instant, key = nightly_instant(now, s)
        assert instant <= now
        seen.setdefault(key, set()).add(instant)
        now += timedelta(minutes=5)
    assert all(len(v) == 1 for v in seen.values()), seen


def test_a_nightly_time_in_the_spring_gap_resolves_after_it():
    s = ScheduleSettings(nightly_at=time(1, 30))  # 01:30 does not exist on 29 March 2026
    instant, day = nightly_instant(datetime(2026, 3, 29, 12, tzinfo=UTC), s)
    assert day == "2026-03-29"
    assert instant.astimezone(LONDON).hour == 2  # 02:30 BST, the first instant showing the time after the gap


# -- roster checks --------------------------------------------------------------------------------------


def test_roster_check_every_hour_for_courses_in_their_apply_window():
    now = T0 - timedelta(hours=5, minutes=20)
    jobs = due_jobs([exam("E1", "canvas:1"), exam("E2", "canvas:2", T0 + timedelta(days=3))], now, S)
    roster = [j for j in jobs if ":roster:" in j.dedupe_key]
    assert keys(roster) == ["reconcile_course:canvas:1:roster:20261201T040000Z"]
    assert roster[0].due_at == datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    later = due_jobs([exam("E1", "canvas:1")], now + timedelta(hours=1), S)
    assert [j.dedupe_key for j in later if ":roster:" in j.dedupe_key] == ["reconcile_course:canvas:1:roster:20261201T050000Z"]


def test_roster_checks_can_be_turned_off():
    s = ScheduleSettings(roster_check=None)
    jobs = due_jobs([exam()], T0 - timedelta(hours=2), s)
    assert not [j for j in jobs if ":roster:" in j.dedupe_key]


def test_roster_bucket_is_fixed_periods_from_the_epoch():
    assert roster_bucket(datetime(2026, 12, 1, 4, 59, 59, tzinfo=UTC), timedelta(hours=1)) == datetime(
        2026, 12, 1, 4, tzinfo=UTC)
    assert roster_bucket(datetime(2026, 12, 1, 4, 7, tzinfo=UTC), timedelta(minutes=15)) == datetime(
        2026, 12, 1, 4, 0, tzinfo=UTC)


def test_settings_are_validated():
    with pytest.raises(ValueError):
        ScheduleSettings(apply_before=timedelta(minutes=-1))
    with pytest.raises(ValueError):
        ScheduleSettings(roster_check=timedelta(0))


# -- properties ------------------------------------------------------------------------------------------

instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))
exam_lists = st.lists(
    st.builds(
        lambda i, c, start, minutes: ScheduledExam(f"E{i}", c, start, start + timedelta(minutes=minutes)),
        st.integers(0, 30), st.sampled_from(["canvas:1", "canvas:2", "moodle:3", None]), instants,
        st.sampled_from([60, 120, 180, 1440 + 300]),
    ),
    max_size=12, unique_by=lambda e: e.exam_id,
)


@settings(max_examples=300, deadline=None)
@given(exam_lists, instants)
def test_every_job_is_due_by_now_has_a_unique_key_and_ids_only(exams, now):
    jobs = due_jobs(exams, now, S)
    assert all(j.due_at <= now for j in jobs)
    assert len(keys(jobs)) == len(set(keys(jobs)))
    assert jobs == sorted(jobs, key=lambda j: (j.due_at, j.dedupe_key))
    for j in jobs:
        kinds.check_args(j.kind, j.arguments)


@settings(max_examples=300, deadline=None)
@given(exam_lists, instants, st.integers(0, 7 * 24 * 60))
def test_apply_and_verify_keys_never_disappear_before_the_close(exams, now, later_minutes):
    later = now + timedelta(minutes=later_minutes)
    first = {j.dedupe_key: j for j in due_jobs(exams, now, S) if j.kind != kinds.RECONCILE_COURSE}
    second = {j.dedupe_key for j in due_jobs(exams, later, S)}
    closes = {e.exam_id: e.closes_at + S.close_grace for e in exams}
    for key, job in first.items():
        if later < closes[job.arguments["exam_id"]]:
            assert key in second  # a later tick asks for the same job again: dedupe keeps it single


@settings(max_examples=200, deadline=None)
@given(exam_lists, instants)
def test_each_exam_has_at_most_one_apply_and_one_verify_per_start(exams, now):
    jobs = due_jobs(exams, now, S)
    for kind in (kinds.APPLY_EXAM, kinds.VERIFY_EXAM):
        ids = [j.arguments["exam_id"] for j in by_kind(jobs, kind)]
        assert len(ids) == len(set(ids))
    for job in by_kind(jobs, kinds.VERIFY_EXAM):
        # verify is never due without the apply also due
        assert any(a.arguments == job.arguments for a in by_kind(jobs, kinds.APPLY_EXAM)) or \
            S.verify_before > S.apply_before
