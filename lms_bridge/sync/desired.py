"""What every course should hold: pure, from the timetable, the plans and the rosters.

Windows are computed over the whole period at once (the clash rule looks at a student's
deadlines in every course). In each course the drop-box or quiz carries the standard window;
students whose window differs share one override per distinct window, and a quiz's longer time
limit becomes per-student extra minutes. Extra time never comes alone: the override moves the
close too, or the LMS would end the attempt at the standard close.

An applied incident's `extend` (an `Extension`) keeps moving its affected candidates' due,
close and time limit later by the disruption in every sync after it; the exam's own standard
window moves too when a candidate without a plan was sitting at the disruption.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ..domain.model import Exam, ExamPeriod, Sitting, Window
from ..domain.policy import Policy
from ..domain.windows import Timing, WindowCalculator, compute_windows
from ..lms import AreaTarget, AssessmentTarget, CourseRef, CourseTarget, Dates, ExamTarget, OverrideTarget, Student
from . import naming
from .pages import exam_page_html


@dataclass(frozen=True, slots=True)
class Paper:
    suffix: str  # ".pdf"
    content: bytes


@dataclass(frozen=True, slots=True)
class Extension:
    """An incident decided as `extend`: the affected candidates' due, close and time limit
    move `minutes` later. `starts_at` is when the disruption began."""

    exam_id: str
    starts_at: datetime
    minutes: int
    rule: str
    student_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class TargetReport:
    """What the targets could not cover, by id only (never plan data)."""

    targets: tuple[CourseTarget, ...]
    exams_without_course: tuple[str, ...] = ()
    students_without_id: Mapping[str, int] = field(default_factory=dict)  # course -> count
    plans_not_enrolled: tuple[str, ...] = ()  # plan holders on no synced roster


def course_targets(
    policy: Policy,
    period: ExamPeriod,
    rosters: Mapping[CourseRef, Sequence[Student]],
    papers: Mapping[str, Paper] | None = None,
    extensions: Sequence[Extension] = (),
) -> TargetReport:
    """Targets for every course in `rosters`. Rosters decide who sits an exam in an LMS;
    `period.sittings` counts only for exams with no course (on paper, say), whose deadlines
    the clash rule still needs. `extensions` are applied incidents' extensions, in order."""
    papers = papers or {}
    by_extension: dict[str, list[Extension]] = defaultdict(list)
    for ext in sorted(extensions, key=lambda x: (x.starts_at, x.exam_id)):
        by_extension[ext.exam_id].append(ext)
    by_course: dict[CourseRef, list[Exam]] = defaultdict(list)
    without_course = []
    for exam in period.exams:
        if exam.course is None:
            without_course.append(exam.exam_id)
        else:
            by_course[CourseRef.parse(exam.course)].append(exam)

    sittings = []
    missing_ids: dict[str, int] = {}
    enrolled: set[str] = set()
    for course, exams in by_course.items():
        roster = rosters.get(course, ())
        known = [s for s in roster if s.student_id]
        if len(known) < len(roster):
            missing_ids[str(course)] = len(roster) - len(known)
        enrolled.update(s.student_id for s in known if s.student_id)
        sittings += [Sitting(e.exam_id, s.student_id) for e in exams for s in known if s.student_id]

    offline = set(without_course)
    sittings += [s for s in period.sittings if s.exam_id in offline]
    calc = WindowCalculator(policy)
    windows = compute_windows(policy, period.exams, period.plans, sittings, calc)
    by_exam: dict[str, dict[str, Window]] = defaultdict(dict)
    for w in windows:
        by_exam[w.exam_id][w.student_id] = w

    targets = []
    for course, exams in by_course.items():
        if course not in rosters:
            continue
        lms_ids = {s.student_id: s.lms_user_id for s in rosters[course] if s.student_id}
        targets.append(
            CourseTarget(
                course,
                tuple(
                    _exam_target(policy, calc, e, by_exam.get(e.exam_id, {}), lms_ids, papers.get(e.exam_id),
                                 by_extension.get(e.exam_id, ()))
                    for e in sorted(exams, key=lambda e: (e.start, e.exam_id))
                ),
            )
        )
    return TargetReport(
        targets=tuple(targets),
        exams_without_course=tuple(without_course),
        students_without_id=missing_ids,
        plans_not_enrolled=tuple(sorted(set(period.plans) - enrolled)),
    )


def _exam_target(
    policy: Policy,
    calc: WindowCalculator,
    exam: Exam,
    windows: Mapping[str, Window],
    lms_ids: Mapping[str, str],
    paper: Paper | None,
    extensions: Sequence[Extension] = (),
) -> ExamTarget:
    planned = calc.timing(exam)
    standard, extended = _extended(planned, windows, extensions)
    zone = policy.calendar.zone
    assessment = _assessment(naming.assessment_name(exam.title, exam.exam_id), exam, standard, extended, lms_ids)
    practice = None
    if exam.setup.practice_days_before:
        days = exam.setup.practice_days_before
        # only the start moves, by wall-clock days; every length stays exactly as in the exam
        earlier = _days_earlier(exam.start, days, calc) - exam.start
        practice = _shifted(
            _assessment(naming.practice_name(exam.title, exam.exam_id), exam, planned, windows, lms_ids),
            lambda t: None if t is None else t + earlier,
        )
    area = AreaTarget(
        module_name=naming.module_name(exam.title, exam.exam_id),
        page_title=naming.page_title(exam.title, exam.exam_id),
        page_html=exam_page_html(exam, policy.title, standard.due_at, calc.reading(exam), zone),
        paper_name=naming.paper_name(exam.title, exam.exam_id, paper.suffix, paper.content) if paper else None,
        paper=paper.content if paper else None,
        release_at=standard.opens_at,
    )
    return ExamTarget(exam.exam_id, exam.title, area, assessment, practice)


def _assessment(
    name: str, exam: Exam, standard: Timing, windows: Mapping[str, Window], lms_ids: Mapping[str, str]
) -> AssessmentTarget:
    base = Dates(standard.opens_at, standard.due_at, standard.closes_at)
    groups: dict[tuple[Dates, tuple[str, ...]], set[str]] = defaultdict(set)
    extra: dict[str, int] = {}
    for student_id, w in windows.items():
        uid = lms_ids[student_id]
        dates = Dates(w.opens_at, w.due_at, w.closes_at)
        if dates != base:
            groups[(dates, w.rules)].add(uid)
        if standard.time_limit_minutes is not None and w.time_limit_minutes != standard.time_limit_minutes:
            minutes_more = (w.time_limit_minutes or 0) - standard.time_limit_minutes
            if minutes_more > 0:  # fewer happens only to someone an incident's extension left out
                extra[uid] = minutes_more
    # one override per distinct window: students with the same times share it whatever the rules
    merged: dict[Dates, tuple[set[str], set[str]]] = {}
    for (dates, rules), uids in groups.items():
        users, all_rules = merged.setdefault(dates, (set(), set()))
        users |= uids
        all_rules.update(rules)
    overrides = tuple(
        OverrideTarget(dates, frozenset(users), tuple(sorted(rules)))
        for dates, (users, rules) in sorted(merged.items(), key=lambda kv: (kv[0].due_at, kv[0].closes_at))
    )
    return AssessmentTarget(
        name=name,
        delivery=exam.delivery,
        dates=base,
        time_limit_minutes=standard.time_limit_minutes,
        setup=exam.setup,
        instructions_html=f"<p>{exam.title}: see the exam information page in this module.</p>",
        overrides=overrides,
        extra_minutes=extra,
    )


def _extended(
    standard: Timing, windows: Mapping[str, Window], extensions: Sequence[Extension]
) -> tuple[Timing, Mapping[str, Window]]:
    """The standard timing and the windows after the exam's extensions, each in turn. The
    standard moves when a candidate without a plan was sitting at the disruption; a candidate
    moves when the incident listed them as affected."""
    if not extensions:
        return standard, windows
    out = dict(windows)
    for ext in extensions:
        delay = timedelta(minutes=ext.minutes)
        if standard.opens_at <= ext.starts_at < standard.closes_at:
            standard = replace(
                standard,
                due_at=standard.due_at + delay,
                closes_at=standard.closes_at + delay,
                time_limit_minutes=None if standard.time_limit_minutes is None else standard.time_limit_minutes + ext.minutes,
                rules=(*standard.rules, ext.rule),
            )
        for student_id in ext.student_ids & out.keys():
            w = out[student_id]
            limit = None if w.time_limit_minutes is None else w.time_limit_minutes + ext.minutes
            out[student_id] = w._replace(due_at=w.due_at + delay, closes_at=w.closes_at + delay,
                                         time_limit_minutes=limit, rules=(*w.rules, ext.rule))
    return standard, out


def _days_earlier(instant: datetime, days: int, calc: WindowCalculator) -> datetime:
    """The same wall-clock time `days` calendar days earlier (a practice run at the exam's hour)."""
    local = instant.astimezone(calc.calendar.zone)
    return calc.calendar.at(local.date() - timedelta(days=days), local.time().replace(tzinfo=None))


def _shifted(target: AssessmentTarget, move: Callable[[datetime | None], datetime | None]) -> AssessmentTarget:
    def dates(d: Dates) -> Dates:
        return Dates(move(d.opens_at), move(d.due_at), move(d.closes_at))

    return replace(
        target,
        dates=dates(target.dates),
        instructions_html=target.instructions_html.replace("<p>", "<p>Practice run. ", 1),
        overrides=tuple(replace(o, dates=dates(o.dates)) for o in target.overrides),
    )
