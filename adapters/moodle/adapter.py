"""The Moodle adapter: the port of `lms_bridge.lms` in Moodle web-service calls.

The same plan/apply/drift engine as Canvas drives it; only this translation differs. It
detects what the site offers once per connection (`core_webservice_get_site_info`: release,
the token's functions, the companion plugin; `adapters.moodle.features`) and takes the best
path there.

Mapping
-------
- **Exam area → a course section** named like the Canvas module ("Exam: <title> [<exam_id>]",
  `lms_bridge.sync.naming`), found again by that tag. Its **summary is the exam information
  page** (the integrity statement and the rubric): the page has no object of its own, so it
  "exists" whenever the section does, and is compared by its visible text. With the plugin one
  `local_lmsbridge_update_section` creates or updates the section with name, summary and
  visibility together (always the whole state; the section's own availability is sent back
  unchanged); core only: `core_courseformat_update_course(section_add)` +
  `core_update_inplace_editable(format_<format>, sectionname)`, `section_show` for a hidden
  one, and the summary is a step by hand.
- **Assessment → an activity** in that section: a drop-box is an assignment; a quiz is a quiz;
  a **New Quiz has no Moodle equivalent and becomes a quiz** (timed, with the same settings).
  Found by course-module ID number `lmsbridge:<exam_id>` (practice run
  `lmsbridge:<exam_id>:practice`; an activity retired after a delivery change keeps its ID number,
  and its replacement of the other kind gets `…:<modname>`), or, where core web services do not
  show ID numbers, by the name's `[exam_id]` tag. With the plugin `local_lmsbridge_upsert_activity`
  sets name, visibility, section and the whole standard window and setup (attempts, password,
  shuffle, review after close only); it is an upsert by ID number, so a repeat never makes a
  second one. Core only: renaming (`activityname`) and showing/hiding/moving (`cm_show`,
  `cm_hide`, `cm_move`) are done; creating the activity, its dates and settings are steps by
  hand, each naming exactly what to set.
- **Times**: a quiz has no due date, so its window is `timeopen`–`timeclose` (the exam's hard
  close) and the target's due is set to its close; an assignment has `allowsubmissionsfromdate`,
  `duedate`, `cutoffdate`.
- **Per-student windows → per-user overrides**, one per student, always holding the whole
  desired state (open, close and time limit; Moodle stores values equal to the activity's as
  NULL and clears fields left out). **Quiz extra time always extends `timeclose`** too (an
  attempt ends at min(start + limit, close)). Overrides are read back (`…_get_overrides`) and
  upserted by id; a student whose window is the standard one gets none (and loses one they
  have). Quizzes: core `mod_quiz_save_overrides` (4.4+). Assignments: core
  `mod_assign_save_overrides` on 5.3+, else the plugin's `local_lmsbridge_save_assign_overrides`,
  else (core only, before 5.3) `mod_assign_save_user_extensions`: an extension is one later date
  for both due and cut-off, so a student's due moves to their close (in their favour), and what
  an extension cannot say (a later start) is a step by hand. A save batch is not atomic: after a
  failure the adapter reads back what was saved and sends the rest one by one, so exactly the
  students Moodle refused are reported (by Moodle user id, with Moodle's reason).
- **Paper → a File resource** in the section (`webservice/upload.php` into the draft area, then
  `local_lmsbridge_attach_paper`, ID number `lmsbridge:<exam_id>:paper`), available from the
  release time by a date restriction (`local_lmsbridge_set_availability` when only that
  differs). Core only: a step by hand.
- **Roster**: `core_enrol_get_enrolled_users`, students only, `Student(idnumber, user id)`. If no
  student shows an ID number, the site hides it (`showuseridentity`): a configuration error
  names the setting.

Clarifications (`lms_bridge.jobs.clarify.AnnouncementPort`)
-------------------------------------------------------------
A clarification is a discussion in the course's **Announcements forum** (type "news"; Moodle makes
it the first time the course page is opened), found once per course and adapter with
`mod_forum_get_forums_by_courses`. `find_announcement` looks for the tag (`[E1/7]`) at the end of a
discussion's subject, newest first, 100 at a time (`mod_forum_get_forum_discussions`);
`post_announcement` is `mod_forum_add_discussion` with the message as HTML (Moodle stores it with
format 1, FORMAT_HTML, the only one that function takes). Posting needs `mod/forum:addnews`;
Moodle's refusal (`cannotcreatediscussion`) becomes a permission error that names it. Posting is
not idempotent: after an uncertain answer the adapter looks for the subject before posting again.

Writes that are idempotent by construction (upserts by ID number, section number or override
id; extension dates; visibility) are retried by the client; the rest (a save batch with new
overrides, a deletion, `section_add`, attaching a paper) are guarded: after an uncertain
answer the adapter reads back before it tries again, so nothing is duplicated.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from lms_bridge.domain.model import Delivery
from lms_bridge.lms import (
    AssessmentTarget,
    CourseRef,
    CourseTarget,
    ExamTarget,
    ObservedArea,
    ObservedAssessment,
    ObservedCourse,
    ObservedExam,
    Student,
)
from lms_bridge.sync import naming
from lms_bridge.sync.operations import Action, Change, ManualStep, Operation

from .client import MoodleClient
from .errors import (
    MoodleConfigurationError,
    MoodleError,
    MoodleInvalidParameter,
    MoodleNotFound,
    MoodlePermissionError,
    MoodleProtocolError,
    MoodleSyncError,
    MoodleUncertainWrite,
)
from .features import SitePath
from .mapping import (
    ASSIGN,
    QUIZ,
    Activity,
    Override,
    Section,
    activity_dates,
    activity_settings,
    chunks,
    delivery_of,
    desired_extensions,
    desired_overrides,
    extension_writes,
    for_extensions,
    for_quiz,
    limit_minutes,
    locked_until,
    modname_for,
    observed_extensions,
    observed_overrides,
    observed_settings,
    override_writes,
    release_availability,
    text_of,
    ts,
    when,
)

log = logging.getLogger("lms_bridge.moodle")
ROLES = ("exam", "practice")
MAX_INPUT_VARS = 1000  # PHP's default max_input_vars: a request carries at most this many parameters
DISCUSSIONS_PER_PAGE = 100  # mod_forum's own page size (discussion_list::PAGESIZE_DEFAULT)
SORT_CREATED_DESC = 3  # discussion_list::SORTORDER_CREATED_DESC: newest first
SUBJECT_MAX = 255  # forum_posts.subject is char(255): a longer one is a database write error


@dataclass
class _Exam:
    """What a course holds of one exam, as read and then kept up to date by this run's writes."""

    section: Section | None = None
    paper: Activity | None = None
    acts: dict[str, Activity] = field(default_factory=dict)  # role -> activity
    overrides: dict[str, dict[int, Override] | None] = field(default_factory=dict)  # role -> user -> override
    extensions: dict[str, dict[int, int] | None] = field(default_factory=dict)  # role -> user -> date


@dataclass
class _Course:
    cid: int
    sections: dict[int, Section] = field(default_factory=dict)  # by id
    activities: list[Activity] = field(default_factory=list)
    format: str | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # section creation, one at a time

    def next_number(self) -> int:
        return max((s.number for s in self.sections.values()), default=0) + 1


class MoodleAdapter:
    def __init__(self, client: MoodleClient, zone: ZoneInfo) -> None:
        self.client = client
        self.zone = zone
        self._path: SitePath | None = None
        self._path_lock = asyncio.Lock()
        self._courses: dict[CourseRef, _Course] = {}
        self._exams: dict[tuple[CourseRef, str], _Exam] = {}
        self._rosters: dict[CourseRef, tuple[Student, ...]] = {}
        self._targets: dict[tuple[CourseRef, str], ExamTarget] = {}  # as adjusted, for reads and by_hand
        self._cannot: dict[CourseRef, list[ManualStep]] = {}  # found by adjust_target
        self._new_quizzes: set[tuple[CourseRef, str]] = set()  # timetabled as new_quiz: quizzes here
        self._news_forums: dict[CourseRef, int] = {}  # the Announcements forum's id, per course
        self._news_lock = asyncio.Lock()

    # -- detection -------------------------------------------------------------------------------
    async def path(self) -> SitePath:
        """The site's release and functions, once per connection, and the path taken there."""
        if self._path is None:
            async with self._path_lock:
                if self._path is None:
                    self._path = SitePath.detect(await self.client.site_info())
                    log.info("%s", self._path.describe())
        return self._path

    # -- pure adjustment -------------------------------------------------------------------------
    def adjust_target(self, target: CourseTarget) -> CourseTarget:
        """The target as Moodle can hold it: New Quizzes are quizzes; a quiz's due is its close,
        and extra time extends the close; with extensions only, a drop-box's per-student windows
        are one later date each (what cannot be said that way is a step by hand)."""
        path = self._path
        cannot: list[ManualStep] = []

        def adjust(exam: ExamTarget, a: AssessmentTarget | None) -> AssessmentTarget | None:
            if a is None:
                return None
            if a.delivery is Delivery.NEW_QUIZ:
                self._new_quizzes.add((target.course, exam.exam_id))
            if a.delivery is not Delivery.DROPBOX:
                return for_quiz(a)
            if path is not None and path.assign_overrides == "extensions":
                adjusted, missed = for_extensions(a)
                if missed:
                    cannot.append(self._window_step(exam, a, missed))
                return adjusted
            return a

        exams = tuple(
            dataclasses.replace(e, assessment=adjust(e, e.assessment), practice=adjust(e, e.practice))
            for e in target.exams
        )
        self._cannot[target.course] = cannot
        for e in exams:
            self._targets[(target.course, e.exam_id)] = e
        return dataclasses.replace(target, exams=exams)

    # -- reads -----------------------------------------------------------------------------------
    async def read_roster(self, course: CourseRef) -> tuple[Student, ...]:
        await self.path()  # known before any target is adjusted
        cid = _cid(course)
        # only what is needed (id and fullname are required in the answer): a 200-student roster is
        # a fraction of the size, and Moodle does less work
        rows = await self.client.read("core_enrol_get_enrolled_users", {
            "courseid": cid, "options": [{"name": "userfields", "value": "id,fullname,idnumber,roles"}]})
        if not isinstance(rows, list):
            raise MoodleError("core_enrol_get_enrolled_users", "expected a list of users")
        students = [u for u in rows if _is_student(u)]
        if students and not any("idnumber" in u for u in students):
            raise MoodleConfigurationError(
                "core_enrol_get_enrolled_users",
                f"course {cid}: no student's ID number is visible to this token, so no student can be matched to "
                "the timetable or the support plans. Moodle hides ID numbers unless \"ID number\" is in Site "
                "administration > Users > Permissions > User policies > Show user identity (showuseridentity) and "
                "the service user has moodle/site:viewuseridentity (or moodle/user:viewalldetails); if that is so, "
                "the students have no ID numbers set.",
            )
        seen: dict[str, Student] = {}
        for u in students:
            uid = str(u["id"])
            seen[uid] = Student(str(u.get("idnumber") or "").strip() or None, uid)
        self._rosters[course] = tuple(seen.values())
        return self._rosters[course]

    async def read_course(self, course: CourseRef, exams: Sequence[tuple[str, str]]) -> ObservedCourse:
        path = await self.path()
        cid = _cid(course)
        roster = self._rosters.get(course) or await self.read_roster(course)
        cs = self._courses[course] = _Course(cid)
        if path.plugin:
            await self._read_with_plugin(path, cs)
        else:
            await self._read_with_core(path, cs, [e for e, _ in exams])

        found: dict[str, _Exam] = {}
        for exam_id, _ in exams:
            ex = found[exam_id] = self._exams[(course, exam_id)] = _Exam()
            ex.section = _find_section(cs, exam_id)
            ex.paper = _find_paper(cs, exam_id)
            for role in ROLES:
                act = _find_activity(cs, exam_id, role)
                if act is not None:
                    ex.acts[role] = act

        await self._read_per_student(path, cs, list(found.values()))
        observed = {exam_id: self._observe(course, exam_id, ex) for exam_id, ex in found.items()}
        return ObservedCourse(course, roster, observed)

    async def _read_with_plugin(self, path: SitePath, cs: _Course) -> None:
        path.need("local_lmsbridge_get_activities", "read what it made in a course")
        body = await self.client.read("local_lmsbridge_get_activities", {"courseid": cs.cid})
        for s in body.get("sections") or ():
            cs.sections[int(s["id"])] = Section(int(s["id"]), int(s["section"]), str(s.get("name") or ""),
                                                str(s.get("summary") or ""), bool(s.get("visible", 1)),
                                                s.get("availability") or None)
        for a in body.get("activities") or ():
            cs.activities.append(Activity(
                cmid=int(a["cmid"]), instance=int(a["instance"]), modname=str(a["modname"]),
                idnumber=str(a.get("idnumber") or "") or None, name=str(a.get("name") or ""),
                sectionid=_opt_int(a.get("sectionid")), section=_opt_int(a.get("section")),
                visible=bool(a.get("visible", 1)), settings=dict(a.get("settings") or {}),
                availability=a.get("availability") or None,
            ))

    async def _read_with_core(self, path: SitePath, cs: _Course, exam_ids: list[str]) -> None:
        path.need("core_course_get_contents", "read a course's sections and activities")
        sections = await self.client.read(
            "core_course_get_contents", {"courseid": cs.cid, "options": [{"name": "excludecontents", "value": True}]})
        tags = [naming.tag(e) for e in exam_ids]
        ours: dict[str, list[dict]] = {QUIZ: [], ASSIGN: []}
        for s in sections or ():
            section = Section(int(s["id"]), int(s.get("section", 0)), str(s.get("name") or ""),
                              str(s.get("summary") or ""), bool(s.get("visible", 1)))
            cs.sections[section.id] = section
            for m in s.get("modules") or ():
                name = str(m.get("name") or "")
                if not any(tag in name for tag in tags):
                    continue
                act = Activity(
                    cmid=int(m["id"]), instance=int(m.get("instance") or 0), modname=str(m.get("modname") or ""),
                    idnumber=str(m.get("idnumber") or "") or None, name=name, sectionid=section.id,
                    section=section.number, visible=bool(m.get("visible", 1)),
                    availability=m.get("availability") or None,
                )
                cs.activities.append(act)
                if act.modname in ours:
                    ours[act.modname].append(m)
        reads = []
        if ours[QUIZ]:
            path.need("mod_quiz_get_quizzes_by_courses", "read its quizzes' dates and settings")
            reads.append(self.client.read("mod_quiz_get_quizzes_by_courses", {"courseids": [cs.cid]}))
        if ours[ASSIGN]:
            path.need("mod_assign_get_assignments", "read its drop-boxes' dates")
            reads.append(self.client.read("mod_assign_get_assignments",
                                          {"courseids": [cs.cid], "includenotenrolledcourses": True}))
        records: dict[tuple[str, int], dict] = {}
        for body in await asyncio.gather(*reads):
            for q in body.get("quizzes") or ():
                records[(QUIZ, int(q["coursemodule"]))] = q
            for c in body.get("courses") or ():
                for a in c.get("assignments") or ():
                    records[(ASSIGN, int(a["cmid"]))] = a
        for act in cs.activities:
            rec = records.get((act.modname, act.cmid))
            if rec is None:
                continue
            if act.modname == QUIZ:
                keys = ("timeopen", "timeclose", "timelimit", "attempts", "password", "shuffleanswers",
                        "hideresultsuntilclose")
            else:
                keys = ("allowsubmissionsfromdate", "duedate", "cutoffdate", "timelimit")
            act.settings = {k: rec[k] for k in keys if k in rec}
            if act.modname == QUIZ and "hideresultsuntilclose" not in rec and "reviewmarks" in rec:
                act.settings["hideresultsuntilclose"] = int(_results_after_close_only(rec))
            act.idnumber = act.idnumber or (str(rec.get("idnumber") or "") or None)

    async def _read_per_student(self, path: SitePath, cs: _Course, exams: list[_Exam]) -> None:
        """Every activity's overrides (or, with extensions, all drop-boxes' in one call)."""
        jobs = []
        for ex in exams:
            for role, act in ex.acts.items():
                if act.modname == ASSIGN and path.assign_overrides == "extensions":
                    continue
                jobs.append(self._load_overrides(ex, role, act))
        ext = [(ex, role, act) for ex in exams for role, act in ex.acts.items()
               if act.modname == ASSIGN and path.assign_overrides == "extensions"]
        if ext:
            jobs.append(self._load_extensions(ext))
        await asyncio.gather(*jobs)

    async def _load_overrides(self, ex: _Exam, role: str, act: Activity) -> None:
        ex.overrides[role] = await self._read_overrides(act)

    async def _read_overrides(self, act: Activity) -> dict[int, Override]:
        path = await self.path()
        if act.modname == QUIZ:
            function, params = "mod_quiz_get_overrides", {"quizid": act.instance}
        else:
            function, params = path.assign_override_functions[1], {"assignid": act.instance}
        path.need(function, "read students' own windows")
        body = await self.client.read(function, params)
        keys = ("timeopen", "timeclose", "timelimit") if act.modname == QUIZ else (
            "allowsubmissionsfromdate", "duedate", "cutoffdate", "timelimit")
        out: dict[int, Override] = {}
        for row in (body or {}).get("overrides") or ():
            if not row.get("userid"):
                continue  # group overrides are staff's own; lms_bridge manages user overrides
            out[int(row["userid"])] = Override(int(row["id"]), int(row["userid"]),
                                               {k: _opt_int(row.get(k)) for k in keys})
        return out

    async def _load_extensions(self, items: list[tuple[_Exam, str, Activity]]) -> None:
        flags = await self._read_extensions([act.instance for _, _, act in items])
        for ex, role, act in items:
            ex.extensions[role] = flags.get(act.instance, {})

    async def _read_extensions(self, instances: list[int]) -> dict[int, dict[int, int]]:
        path = await self.path()
        path.need("mod_assign_get_user_flags", "read drop-box extensions")
        body = await self.client.read("mod_assign_get_user_flags", {"assignmentids": instances})
        out: dict[int, dict[int, int]] = {i: {} for i in instances}
        for a in (body or {}).get("assignments") or ():
            out[int(a["assignmentid"])] = {
                int(f["userid"]): int(f.get("extensionduedate") or 0)
                for f in a.get("userflags") or () if int(f.get("extensionduedate") or 0) > 0
            }
        return out

    def _observe(self, course: CourseRef, exam_id: str, ex: _Exam) -> ObservedExam:
        exam, practice = (self._assessment(ex, role) for role in ROLES)
        area = None
        if ex.section is not None or ex.paper is not None or ex.acts:
            s = ex.section
            refs = set()
            if s is not None:
                refs.add(f"page:{s.id}")
                if ex.paper is not None and ex.paper.sectionid == s.id:
                    refs.add(f"paper:{ex.paper.cmid}")
                for role, kind in (("exam", "assessment"), ("practice", "practice")):
                    act = ex.acts.get(role)
                    if act is not None and act.sectionid == s.id:
                        refs.add(f"{kind}:{act.cmid}")
            target = self._targets.get((course, exam_id))
            summary = s.summary if s is not None else None
            if summary is not None and target is not None and text_of(summary) == text_of(target.area.page_html):
                summary = target.area.page_html  # the same words: an editor may have rewritten the markup
            area = ObservedArea(
                module_id=str(s.id) if s else None,
                module_name=s.name if s else None,
                published=bool(s and s.visible),
                page_id=str(s.id) if s else None,  # the exam information is the section's summary
                page_html=summary,
                paper_id=str(ex.paper.cmid) if ex.paper else None,
                paper_locked_until=locked_until(ex.paper.availability) if ex.paper else None,
                item_refs=frozenset(refs),
                page_title=None,
                paper_name=ex.paper.name if ex.paper else None,
            )
        return ObservedExam(area, exam, practice)

    def _assessment(self, ex: _Exam, role: str) -> ObservedAssessment | None:
        act = ex.acts.get(role)
        if act is None:
            return None
        if act.modname == ASSIGN and role in ex.extensions:
            overrides, extra = observed_extensions(act, ex.extensions[role] or {}), {}
        else:
            overrides, extra = observed_overrides(act, ex.overrides.get(role) or {})
        return ObservedAssessment(
            id=str(act.cmid),
            name=act.name,
            delivery=delivery_of(act.modname),
            dates=activity_dates(act),
            time_limit_minutes=limit_minutes(act),
            published=act.visible,
            settings=observed_settings(act),
            overrides=overrides,
            extra_minutes=extra,
        )

    # -- what people must do ---------------------------------------------------------------------
    def by_hand(self, course: CourseRef, operations: Sequence[Operation]) -> tuple[list[Operation], list[ManualStep]]:
        """Take out what this site's web services cannot do, as precise steps for people, and
        operations that would write nothing (a per-student window already right)."""
        path = self._path
        manual = list(self._cannot.get(course, ()))
        kept: list[Operation] = []
        core = path is not None and not path.plugin
        # activities whose own times this apply may change (the plugin writes them; core cannot):
        # their students' overrides are worked out after that, at apply time
        changing = set() if core else {
            (op.exam_id, op.role) for op in operations
            if op.action in (Action.CREATE_ASSESSMENT, Action.UPDATE_ASSESSMENT, Action.RETIRE_ASSESSMENT)}
        made_by_hand: set[tuple[str, str]] = set()
        creating_area = {op.exam_id for op in operations if op.action is Action.CREATE_MODULE}
        for op in operations:
            ex = self._exams.get((course, op.exam_id), _Exam())
            a = op.action
            if core and a in (Action.CREATE_PAGE, Action.UPDATE_PAGE):
                manual.append(self._summary_step(op, ex))
            elif core and a in (Action.UPLOAD_PAPER, Action.LOCK_PAPER):
                manual.append(self._paper_step(op, ex))
            elif core and a is Action.CREATE_ASSESSMENT:
                manual.append(self._create_step(course, op, ex))
                made_by_hand.add((op.exam_id, op.role))
            elif core and a is Action.UPDATE_ASSESSMENT:
                doable = tuple(c for c in op.changes if c.field in ("name", "published"))
                rest = tuple(c for c in op.changes if c.field not in ("name", "published"))
                if rest:
                    manual.append(self._settings_step(op, ex, rest))
                if doable:
                    kept.append(dataclasses.replace(op, changes=doable))
            elif a in (Action.SET_OVERRIDES, Action.SET_EXTRA_TIME):
                if (op.exam_id, op.role) in made_by_hand:
                    continue  # set on the apply after the activity is made
                if (op.exam_id, op.role) not in changing and not self._per_student_writes(ex, op):
                    continue  # every student's window already holds in Moodle
                kept.append(op)
            elif a is Action.LINK_ITEMS:
                if self._to_move(ex, op, op.exam_id in creating_area):
                    kept.append(op)
            else:
                kept.append(op)
        return kept, manual

    def _per_student_writes(self, ex: _Exam, op: Operation) -> bool:
        act = ex.acts.get(op.role)
        if act is None:
            return True
        want = _want(op)
        if act.modname == ASSIGN and op.role in ex.extensions:
            return bool(extension_writes(desired_extensions(want), ex.extensions[op.role] or {}))
        current = ex.overrides.get(op.role)
        if current is None:
            return True
        saves, deletes = override_writes(act.modname, desired_overrides(act.modname, want), current, act.settings)
        return bool(saves or deletes)

    @staticmethod
    def _to_move(ex: _Exam, op: Operation, new_section: bool) -> list[Activity]:
        """Existing activities and paper that are not in the exam's section."""
        items = [ex.acts[r] for r in ROLES if r in ex.acts and (r == "exam" or op.target.practice is not None)]
        if op.target.area.paper is not None and ex.paper is not None:
            items.append(ex.paper)
        if new_section or ex.section is None:
            return items
        return [i for i in items if i.sectionid != ex.section.id]

    def _section_name(self, op: Operation, ex: _Exam) -> str:
        return ex.section.name if ex.section is not None else op.target.area.module_name

    def _summary_step(self, op: Operation, ex: _Exam) -> ManualStep:
        section = self._section_name(op, ex)
        return ManualStep(
            op.exam_id, f"section '{section}'",
            f"edit section '{section}' and set its Summary to the exam information below "
            "(the rubric and the academic integrity statement; paste it in the editor's HTML view)",
            "no core Moodle web service writes a section's summary (install the lms_bridge plugin to automate this)",
            detail=op.target.area.page_html,
        )

    def _paper_step(self, op: Operation, ex: _Exam) -> ManualStep:
        area = op.target.area
        section = self._section_name(op, ex)
        release = when(area.release_at, self.zone)
        if op.action is Action.LOCK_PAPER and ex.paper is not None:
            now = when(locked_until(ex.paper.availability), self.zone)
            instruction = (f"edit File '{ex.paper.name}' in section '{section}': Restrict access > Date > from "
                           f"{release} (now: {now})")
        else:
            instruction = (f"add a File to section '{section}' named '{area.paper_name}' holding the exam paper of "
                           f"{op.exam_id}, ID number 'lmsbridge:{op.exam_id}:paper', with Restrict access > Date > "
                           f"from {release}")
            if ex.paper is not None:
                instruction += f", replacing File '{ex.paper.name}'"
        return ManualStep(op.exam_id, f"paper '{area.paper_name}'", instruction,
                          "no core Moodle web service adds a file to a course or restricts access to it "
                          "(install the lms_bridge plugin to automate this)")

    def _create_step(self, course: CourseRef, op: Operation, ex: _Exam) -> ManualStep:
        want = _want(op)
        modname = modname_for(want.delivery)
        kind = "a Quiz" if modname == QUIZ else "an Assignment"
        base = f"lmsbridge:{op.exam_id}" + (":practice" if op.role == "practice" else "")
        settings = "; ".join(self._settings_text(modname, want))
        students = len({u for o in want.overrides for u in o.lms_user_ids} | set(want.extra_minutes))
        then = (f" Then run apply again: lms_bridge sets the own windows of {students} students."
                if students else "")
        delivery = " (Moodle has no New Quizzes: a quiz)" if (course, op.exam_id) in self._new_quizzes else ""
        return ManualStep(
            op.exam_id, f"{want.delivery.value} '{want.name}'",
            f"add {kind}{delivery} to section '{self._section_name(op, ex)}' named '{want.name}', ID number "
            f"'{base}', visible: {settings}.{then}",
            f"no core Moodle web service creates {kind.lower()} or writes its dates "
            "(install the lms_bridge plugin to automate this)",
        )

    def _settings_step(self, op: Operation, ex: _Exam, changes: Sequence[Change]) -> ManualStep:
        want = _want(op)
        act = ex.acts.get(op.role)
        modname = act.modname if act else modname_for(want.delivery)
        labels = _LABELS[modname]
        parts = []
        for c in changes:
            if modname == QUIZ and c.field == "due":
                continue  # a quiz's due is its close
            label = labels.get(c.field, c.field)
            parts.append(f"{label}: {self._value(c.field, c.after)} (now {self._value(c.field, c.before)})")
        kind = "quiz" if modname == QUIZ else "assignment"
        return ManualStep(
            op.exam_id, f"{want.delivery.value} '{want.name}'",
            f"edit the {kind} '{act.name if act else want.name}' in section '{self._section_name(op, ex)}' and set "
            + "; ".join(parts),
            f"no core Moodle web service writes {kind} dates or settings (install the lms_bridge plugin to automate this)",
        )

    def _value(self, name: str, value: object) -> str:
        if name in ("opens", "due", "closes"):
            return when(value, self.zone)  # type: ignore[arg-type]
        if name == "time limit":
            return "none" if value is None else f"{value} minutes"
        if name == "attempts":
            return "unlimited" if value == 0 else str(value)
        if name == "access code":
            return f"'{value}'" if value else "no password"
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)

    def _settings_text(self, modname: str, want: AssessmentTarget) -> list[str]:
        d, z = want.dates, self.zone
        if modname == QUIZ:
            s = want.setup
            out = [f"Open the quiz {when(d.opens_at, z)}", f"Close the quiz {when(d.closes_at, z)}",
                   "Time limit " + (f"{want.time_limit_minutes} minutes" if want.time_limit_minutes else "none"),
                   f"Attempts allowed {'unlimited' if s.attempts == 0 else s.attempts}",
                   f"Require password '{s.access_code}'" if s.access_code else "no password",
                   f"Shuffle within questions {'yes' if s.shuffle_answers else 'no'}"]
            if s.hide_results_until_close:
                out.append("Review options: marks, feedback and answers only 'After the quiz is closed'")
            return out
        return [f"Allow submissions from {when(d.opens_at, z)}", f"Due date {when(d.due_at, z)}",
                f"Cut-off date {when(d.closes_at, z)}", "File submissions"]

    def _window_step(self, exam: ExamTarget, a: AssessmentTarget, missed: dict) -> ManualStep:
        users = ", ".join(sorted(missed, key=lambda u: int(u) if u.isdigit() else 0))
        detail = "; ".join(
            f"user {uid}: allow submissions from {when(d.opens_at, self.zone)}, due {when(d.due_at, self.zone)}, "
            f"cut-off {when(d.closes_at, self.zone)}"
            for uid, d in sorted(missed.items())
        )
        return ManualStep(
            exam.exam_id, f"dropbox '{a.name}'",
            f"add user overrides to the assignment '{a.name}' for Moodle users {users} "
            "(Assignment > Overrides > Add user override), with the windows below",
            "before Moodle 5.3 core web services can only grant extensions (a later end date), not a different "
            "start; Moodle 5.3 or the lms_bridge plugin automates this",
            detail=detail,
        )

    # -- writes ----------------------------------------------------------------------------------
    async def apply(self, course: CourseRef, op: Operation) -> None:
        path = await self.path()
        cs = self._courses.get(course) or self._courses.setdefault(course, _Course(_cid(course)))
        ex = self._exams.setdefault((course, op.exam_id), _Exam())
        kind = "plugin" if path.plugin else "core"
        handler = getattr(self, f"_{op.action.name.lower()}_{kind}", None) or getattr(self, f"_{op.action.name.lower()}")
        await handler(path, cs, ex, op)

    # exam area: the section and its summary
    async def _create_module_plugin(self, path: SitePath, cs: _Course, ex: _Exam, op: Operation) -> None:
        await self._write_section(path, cs, ex, op)

    _update_module_plugin = _create_module_plugin

    async def _create_page_plugin(self, path: SitePath, cs: _Course, ex: _Exam, op: Operation) -> None:
        s = ex.section
        if s is None or s.summary != op.target.area.page_html:
            await self._write_section(path, cs, ex, op)

    _update_page_plugin = _create_page_plugin

    async def _write_section(self, path: SitePath, cs: _Course, ex: _Exam, op: Operation) -> None:
        """One call, the whole state: name, summary (the exam information), visible; the
        section's own restriction, if staff set one, is sent back unchanged."""
        area = op.target.area
        s = ex.section
        if s is not None and (s.name, s.summary, s.visible) == (area.module_name, area.page_html, True):
            return
        path.need("local_lmsbridge_update_section", "create and update exam areas")
        availability = (s.availability or "") if s is not None else ""

        async def write(number: int) -> Section:
            body = await self.client.write("local_lmsbridge_update_section", {
                "courseid": cs.cid, "section": number, "name": area.module_name, "summary": area.page_html,
                "visible": 1, "availability": availability,
            }, idempotent=True)  # keyed by section number: a repeat updates the same section
            return Section(int(body["sectionid"]), int(body.get("section", number)), area.module_name,
                           area.page_html, True, availability or None)

        if s is not None:
            ex.section = await write(s.number)
        else:
            # A missing number is appended at the end: creations in one course go one at a time,
            # each asking for the next number, or two could land on one section.
            async with cs.lock:
                ex.section = await write(cs.next_number())
        cs.sections[ex.section.id] = ex.section

    async def _create_module_core(self, path: SitePath, cs: _Course, ex: _Exam, op: Operation) -> None:
        path.need("core_courseformat_update_course", "create exam areas (course sections)")
        path.need("core_update_inplace_editable", "name exam areas (course sections)")
        async with cs.lock:  # one section_add at a time, so each answer's new section is ours
            known = set(cs.sections)
            try:
                answer = await self.client.write("core_courseformat_update_course",
                                                 {"action": "section_add", "courseid": cs.cid}, idempotent=False)
                new = _new_sections(answer, known)
            except MoodleUncertainWrite:
                # did it add one? the course state (a read-only action) shows unnamed sections as such
                state = await self.client.write("core_courseformat_update_course",
                                                {"action": "course_state", "courseid": cs.cid}, idempotent=True)
                new = [s for s in _new_sections(state, known) if not s.name]
                if not new:
                    answer = await self.client.write("core_courseformat_update_course",
                                                     {"action": "section_add", "courseid": cs.cid}, idempotent=False)
                    new = _new_sections(answer, known)
            if not new:
                raise MoodleError("core_courseformat_update_course", "section_add answered without a new section")
            section = max(new, key=lambda s: s.number)
            cs.sections[section.id] = section
        ex.section = section
        await self._rename_section(path, cs, ex, op.target.area.module_name)

    async def _update_module_core(self, path: SitePath, cs: _Course, ex: _Exam, op: Operation) -> None:
        s = ex.section
        assert s is not None
        if s.name != op.target.area.module_name:
            await self._rename_section(path, cs, ex, op.target.area.module_name)
        if not s.visible:
            path.need("core_courseformat_update_course", "show exam areas")
            await self.client.write("core_courseformat_update_course",
                                    {"action": "section_show", "courseid": cs.cid, "ids": [s.id]}, idempotent=True)
            s.visible = True

    async def _rename_section(self, path: SitePath, cs: _Course, ex: _Exam, name: str) -> None:
        assert ex.section is not None
        path.need("core_update_inplace_editable", "name exam areas (course sections)")
        if cs.format is None:
            cs.format = "topics"
            if path.offers("core_course_get_courses_by_field"):
                body = await self.client.read("core_course_get_courses_by_field", {"field": "id", "value": cs.cid})
                found = (body or {}).get("courses") or ()
                cs.format = str(found[0].get("format") or "topics") if found else "topics"
        await self.client.write("core_update_inplace_editable", {
            "component": f"format_{cs.format}", "itemtype": "sectionname", "itemid": ex.section.id, "value": name,
        }, idempotent=True)
        ex.section.name = name

    # the paper
    async def _upload_paper_plugin(self, path: SitePath, cs: _Course, ex: _Exam, op: Operation) -> None:
        area = op.target.area
        assert area.paper is not None and area.paper_name is not None and ex.section is not None
        path.need("local_lmsbridge_attach_paper", "put exam papers in exam areas")
        idnumber = f"lmsbridge:{op.exam_id}:paper"

        async def attach() -> dict:
            draft = (await self.client.upload(area.paper_name, area.paper))[0]
            return await self.client.write("local_lmsbridge_attach_paper", {
                "courseid": cs.cid, "idnumber": idnumber, "section": ex.section.number, "name": area.paper_name,
                "draftitemid": int(draft["itemid"]), "opensat": ts(area.release_at),
            }, idempotent=False)  # its draft is used up: after doubt, look before attaching again

        try:
            body = await attach()
        except MoodleUncertainWrite:
            await self._read_with_plugin(path, fresh := _Course(cs.cid))
            found = next((a for a in fresh.activities if a.idnumber == idnumber), None)
            if found is not None and found.name == area.paper_name:
                body = {"cmid": found.cmid}
            else:
                body = await attach()
        ex.paper = Activity(int(body["cmid"]), 0, "resource", idnumber, area.paper_name, ex.section.id,
                            ex.section.number, True, {}, release_availability(area.release_at))

    async def _lock_paper_plugin(self, path: SitePath, cs: _Course, ex: _Exam, op: Operation) -> None:
        assert ex.paper is not None
        path.need("local_lmsbridge_set_availability", "keep exam papers locked until release")
        availability = release_availability(op.target.area.release_at)
        await self.client.write("local_lmsbridge_set_availability",
                                {"cmid": ex.paper.cmid, "availability": availability}, idempotent=True)
        ex.paper.availability = availability

    # the activities
    async def _create_assessment_plugin(self, path: SitePath, cs: _Course, ex: _Exam, op: Operation) -> None:
        await self._upsert(path, cs, ex, op)

    _update_assessment_plugin = _create_assessment_plugin

    async def _upsert(self, path: SitePath, cs: _Course, ex: _Exam, op: Operation, role: str | None = None) -> None:
        """The activity's whole state in one call, keyed by its ID number: a repeat (or a rerun
        after a lost answer) updates the same activity."""
        role = role or op.role
        want = op.target.practice if role == "practice" else op.target.assessment
        assert want is not None and ex.section is not None
        path.need("local_lmsbridge_upsert_activity", "create and update drop-boxes and quizzes")
        modname = modname_for(want.delivery)
        act = ex.acts.get(role)
        idnumber = act.idnumber if act is not None and act.modname == modname and act.idnumber else \
            self._idnumber(cs, op.exam_id, role, modname)
        settings = activity_settings(modname, want)
        body = await self.client.write("local_lmsbridge_upsert_activity", {
            "courseid": cs.cid, "idnumber": idnumber, "modname": modname, "section": ex.section.number,
            "name": want.name, "intro": want.instructions_html, "visible": 1, "settings": settings,
        }, idempotent=True)
        made = Activity(int(body["cmid"]), int(body["instance"]), modname, idnumber, want.name, ex.section.id,
                        ex.section.number, True, settings)
        if act is None or act.cmid != made.cmid:
            cs.activities.append(made)
            # a new activity has no overrides; one found by its ID number (a lost answer) may have
            ex.overrides[role] = {} if body.get("created") else None
            if modname == ASSIGN and path.assign_overrides == "extensions":
                ex.extensions[role] = {} if body.get("created") else None
        ex.acts[role] = made

    def _idnumber(self, cs: _Course, exam_id: str, role: str, modname: str) -> str:
        base = f"lmsbridge:{exam_id}" + (":practice" if role == "practice" else "")
        holder = next((a for a in cs.activities if a.idnumber == base), None)
        return base if holder is None or holder.modname == modname else f"{base}:{modname}"

    async def _update_assessment_core(self, path: SitePath, cs: _Course, ex: _Exam, op: Operation) -> None:
        act = ex.acts[op.role]
        want = _want(op)
        if act.name != want.name:
            await self._rename_activity(path, act, want.name)
        if not act.visible:
            await self._visibility(path, cs, act, True)

    async def _retire_assessment_plugin(self, path: SitePath, cs: _Course, ex: _Exam, op: Operation) -> None:
        act = ex.acts.pop(op.role)
        path.need("local_lmsbridge_upsert_activity", "retire an exam's old activity")
        section = act.section if act.section is not None else (ex.section.number if ex.section else 0)
        await self.client.write("local_lmsbridge_upsert_activity", {
            "courseid": cs.cid, "idnumber": act.idnumber, "modname": act.modname, "section": section,
            "name": naming.retired_name(act.name), "visible": 0,
        }, idempotent=True)
        act.name, act.visible = naming.retired_name(act.name), False

    async def _retire_assessment_core(self, path: SitePath, cs: _Course, ex: _Exam, op: Operation) -> None:
        act = ex.acts.pop(op.role)
        await self._rename_activity(path, act, naming.retired_name(act.name))
        await self._visibility(path, cs, act, False)

    async def _rename_activity(self, path: SitePath, act: Activity, name: str) -> None:
        path.need("core_update_inplace_editable", "rename activities")
        await self.client.write("core_update_inplace_editable", {
            "component": "core_course", "itemtype": "activityname", "itemid": act.cmid, "value": name,
        }, idempotent=True)
        act.name = name

    async def _visibility(self, path: SitePath, cs: _Course, act: Activity, visible: bool) -> None:
        path.need("core_courseformat_update_course", "show and hide activities")
        await self.client.write("core_courseformat_update_course", {
            "action": "cm_show" if visible else "cm_hide", "courseid": cs.cid, "ids": [act.cmid],
        }, idempotent=True)
        act.visible = visible

    async def _link_items(self, path: SitePath, cs: _Course, ex: _Exam, op: Operation) -> None:
        """Move into the exam's section what is elsewhere (what this run made is made there)."""
        assert ex.section is not None
        for item in self._to_move(ex, op, False):
            role = next((r for r, a in ex.acts.items() if a is item), None)
            if path.plugin and role is not None:
                await self._upsert(path, cs, ex, op, role)
                continue
            path.need("core_courseformat_update_course", "move activities into exam areas")
            await self.client.write("core_courseformat_update_course", {
                "action": "cm_move", "courseid": cs.cid, "ids": [item.cmid], "targetsectionid": ex.section.id,
            }, idempotent=True)
            item.sectionid, item.section = ex.section.id, ex.section.number

    # per-student windows
    async def _set_overrides(self, path: SitePath, cs: _Course, ex: _Exam, op: Operation) -> None:
        act = ex.acts.get(op.role)
        if act is None:
            raise MoodleError("lms_bridge", f"no activity for {op.exam_id} ({op.role}) to set windows on")
        if act.modname == ASSIGN and path.assign_overrides == "extensions":
            await self._sync_extensions(path, ex, op, act)
        else:
            await self._sync_overrides(path, ex, op, act)

    _set_extra_time = _set_overrides  # one override per student holds both its times and its time limit

    async def _sync_overrides(self, path: SitePath, ex: _Exam, op: Operation, act: Activity) -> None:
        if ex.overrides.get(op.role) is None:
            ex.overrides[op.role] = await self._read_overrides(act)
        desired = desired_overrides(act.modname, _want(op))
        saves, deletes = override_writes(act.modname, desired, ex.overrides[op.role] or {}, act.settings)
        if not saves and not deletes:
            return
        try:
            await self._write_overrides(path, ex, op.role, act, saves, deletes)
            return
        except (MoodleUncertainWrite, MoodleInvalidParameter, MoodleNotFound):
            pass  # a batch is not atomic: find out what holds now, then the rest one by one
        ex.overrides[op.role] = await self._read_overrides(act)
        saves, deletes = override_writes(act.modname, desired, ex.overrides[op.role] or {}, act.settings)
        refused: dict[int, str] = {}
        for override_id in deletes:
            try:
                await self._write_overrides(path, ex, op.role, act, [], [override_id])
            except MoodleInvalidParameter:
                pass  # gone already
        for item in saves:
            try:
                await self._write_overrides(path, ex, op.role, act, [item], [])
            except (MoodleInvalidParameter, MoodleNotFound) as exc:
                refused[item["userid"]] = exc.debuginfo or exc.message or exc.errorcode or "refused"
        ex.overrides[op.role] = await self._read_overrides(act)
        if refused:
            users = ", ".join(str(u) for u in sorted(refused))
            reasons = "; ".join(sorted(set(refused.values())))
            raise MoodleSyncError(self._save_function(path, act),
                                  f"Moodle refused the overrides of {len(refused)} of {len(desired)} students on "
                                  f"'{act.name}' (Moodle user ids {users}): {reasons}; the others are set")

    def _save_function(self, path: SitePath, act: Activity) -> str:
        return "mod_quiz_save_overrides" if act.modname == QUIZ else path.assign_override_functions[0]

    async def _write_overrides(
        self, path: SitePath, ex: _Exam, role: str, act: Activity, saves: list[dict], deletes: list[int]
    ) -> None:
        if act.modname == QUIZ:
            save, delete, key = "mod_quiz_save_overrides", "mod_quiz_delete_overrides", "quizid"
        else:
            save, _, delete = path.assign_override_functions
            key = "assignid"
        current = ex.overrides.setdefault(role, {})
        assert current is not None
        if deletes:
            path.need(delete, "remove students' overrides that no longer apply")
            for ids in chunks(deletes, MAX_INPUT_VARS // 2):
                await self.client.write(delete, {"data": {key: act.instance, "ids": ids}}, idempotent=False)
                gone = set(ids)
                for uid in [u for u, o in current.items() if o.id in gone]:
                    del current[uid]
        if saves:
            path.need(save, "set students' own windows")
            per_item = max(len(i) for i in saves)
            for batch in chunks(saves, max(1, (MAX_INPUT_VARS - 10) // per_item)):
                body = await self.client.write(save, {"data": {key: act.instance, "overrides": batch}},
                                               idempotent=all("id" in i for i in batch))
                ids = list((body or {}).get("ids") or ())
                if len(ids) != len(batch):  # some filtered out by the site: read back to know
                    ex.overrides[role] = current = await self._read_overrides(act)
                    continue
                for item, oid in zip(batch, ids, strict=True):
                    fields = {k: v for k, v in item.items() if k not in ("id", "userid")}
                    current[int(item["userid"])] = Override(int(oid), int(item["userid"]), fields)

    async def _sync_extensions(self, path: SitePath, ex: _Exam, op: Operation, act: Activity) -> None:
        if ex.extensions.get(op.role) is None:
            ex.extensions[op.role] = (await self._read_extensions([act.instance])).get(act.instance, {})
        current = ex.extensions[op.role]
        assert current is not None
        writes = extension_writes(desired_extensions(_want(op)), current)
        if not writes:
            return
        path.need("mod_assign_save_user_extensions", "give students their own deadlines")
        refused: dict[int, str] = {}
        for batch in chunks(list(writes.items()), (MAX_INPUT_VARS - 10) // 2):
            body = await self.client.write("mod_assign_save_user_extensions", {
                "assignmentid": act.instance, "userids": [u for u, _ in batch], "dates": [d for _, d in batch],
            }, idempotent=True)  # sets a date: a repeat sets the same one
            failed = _refused_users(body)
            for uid, date in batch:
                if uid in failed:
                    refused[uid] = failed[uid]
                elif date:
                    current[uid] = date
                else:
                    current.pop(uid, None)
        if refused:
            users = ", ".join(str(u) for u in sorted(refused))
            raise MoodleSyncError("mod_assign_save_user_extensions",
                                  f"Moodle refused the extensions of {len(refused)} of {len(writes)} students on "
                                  f"'{act.name}' (Moodle user ids {users}): {'; '.join(sorted(set(refused.values())))}")


    # -- announcements (clarifications) ------------------------------------------------------------
    async def find_announcement(self, course: CourseRef, tag: str) -> str | None:
        """The id of the discussion in the course's Announcements forum whose subject ends with
        `tag`, or None."""
        path = await self.path()
        forumid = await self._news_forum(path, course)
        path.need("mod_forum_get_forum_discussions", "find the clarifications already posted in a course")
        return await self._find_discussion(forumid, lambda d: _subject_of(d).endswith(tag))

    async def post_announcement(self, course: CourseRef, subject: str, message_html: str) -> str:
        """Post a discussion in the course's Announcements forum (every student is subscribed to
        it); its discussion id."""
        path = await self.path()
        forumid = await self._news_forum(path, course)
        path.need("mod_forum_add_discussion", "post clarifications in a course's Announcements forum")
        text = _forum_subject(subject)
        params = {"forumid": forumid, "subject": text, "message": message_html,
                  # the service account need not follow every clarification (a news forum's forced
                  # subscription reaches the students whatever this says)
                  "options": [{"name": "discussionsubscribe", "value": False}]}
        for attempt in (1, 2):
            try:
                body = await self.client.write("mod_forum_add_discussion", params, idempotent=False)
            except MoodleUncertainWrite:
                # it may have been posted: look before posting again
                found = await self._find_discussion(forumid, lambda d: _subject_of(d) == html.unescape(text))
                if found is not None:
                    return found
                if attempt == 2:
                    raise
                continue
            except MoodleError as exc:
                if exc.errorcode == "cannotcreatediscussion":
                    raise MoodlePermissionError(
                        "mod_forum_add_discussion",
                        f"course {_cid(course)}: Moodle refused to post in the Announcements forum (Could not create "
                        "new discussion): the service account needs mod/forum:addnews there",
                        errorcode=exc.errorcode, exception=exc.exception, debuginfo=exc.debuginfo) from None
                raise
            if not isinstance(body, dict) or not isinstance(body.get("discussionid"), int):
                raise MoodleProtocolError("mod_forum_add_discussion", "expected {discussionid, warnings}")
            return str(body["discussionid"])
        raise AssertionError("unreachable")

    async def _news_forum(self, path: SitePath, course: CourseRef) -> int:
        """The course's Announcements forum (the oldest news forum, as forum_get_course_forum()
        takes it), looked up once per course."""
        if course in self._news_forums:
            return self._news_forums[course]
        async with self._news_lock:
            if course not in self._news_forums:
                path.need("mod_forum_get_forums_by_courses", "find a course's Announcements forum")
                cid = _cid(course)
                rows = await self.client.read("mod_forum_get_forums_by_courses", {"courseids": [cid]})
                if not isinstance(rows, list):
                    raise MoodleProtocolError("mod_forum_get_forums_by_courses", "expected a list of forums")
                news = [_opt_int(f.get("id")) for f in rows
                        if isinstance(f, dict) and f.get("type") == "news" and _opt_int(f.get("course")) == cid]
                ids = [i for i in news if i is not None]
                if not ids:
                    raise MoodleConfigurationError(
                        "mod_forum_get_forums_by_courses",
                        f"course {cid} has no Announcements forum that this token can see, so clarifications cannot "
                        "be posted there. Moodle creates it the first time someone opens the course page: open the "
                        "course once. If it has one, the service account lacks access to the course or "
                        "mod/forum:viewdiscussion in it.")
                self._news_forums[course] = min(ids)
        return self._news_forums[course]

    async def _find_discussion(self, forumid: int, match: Callable[[dict], bool]) -> str | None:
        """The first discussion (newest first) that `match`es: its discussion id."""
        seen: set[object] = set()
        page = 0
        while True:
            body = await self.client.read("mod_forum_get_forum_discussions", {
                "forumid": forumid, "sortorder": SORT_CREATED_DESC, "page": page, "perpage": DISCUSSIONS_PER_PAGE})
            rows = body.get("discussions") if isinstance(body, dict) else None
            if not isinstance(rows, list):
                raise MoodleProtocolError("mod_forum_get_forum_discussions", "expected {discussions, warnings}")
            fresh = [d for d in rows if isinstance(d, dict) and d.get("discussion") not in seen]
            for d in fresh:
                if match(d):
                    return str(d["discussion"])
            seen.update(d.get("discussion") for d in fresh)
            if len(rows) < DISCUSSIONS_PER_PAGE or not fresh:  # the last page (or a site that ignores paging)
                return None
            page += 1


# -- helpers -----------------------------------------------------------------------------------


def _subject_of(discussion: dict) -> str:
    """A discussion's subject as typed: Moodle sends it through format_string() (& → &amp;)."""
    return html.unescape(str(discussion.get("subject") or discussion.get("name") or "")).strip()


def _forum_subject(subject: str) -> str:
    """The subject as mod_forum_add_discussion takes it: PARAM_TEXT refuses anything tag-like, so
    &, < and > go as entities (Moodle shows the subject through format_string(), which keeps
    entities: it reads as typed); one line; at most 255 characters, shortened before the trailing
    tag so that the tag is still found."""
    text = " ".join(subject.split())
    cut = text.rfind(" [")
    head, tail = (text[:cut], text[cut:]) if cut >= 0 else (text, "")

    def escape(part: str) -> str:
        return html.escape(part, quote=False)

    out = escape(head) + escape(tail)
    while len(out) > SUBJECT_MAX and head:
        head = head[:-1]
        out = escape(head.rstrip()) + "…" + escape(tail)
    return out[:SUBJECT_MAX]


_LABELS = {
    QUIZ: {"opens": "Open the quiz", "closes": "Close the quiz", "time limit": "Time limit",
           "attempts": "Attempts allowed", "access code": "Require password",
           "shuffle answers": "Shuffle within questions",
           "hide results until close": "Review options only 'After the quiz is closed'"},
    ASSIGN: {"opens": "Allow submissions from", "due": "Due date", "closes": "Cut-off date", "time limit": "Time limit"},
}


def _cid(course: CourseRef) -> int:
    if not course.id.isdigit():
        raise ValueError(f"{course}: a Moodle course is named by its numeric id, as moodle:<id>")
    return int(course.id)


def _opt_int(value: object) -> int | None:
    try:
        return None if value is None or value == "" else int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _is_student(user: dict) -> bool:
    roles = user.get("roles")
    if roles is None:
        return True  # roles not shown: everyone enrolled counts
    return any(r.get("shortname") == "student" for r in roles)


_REVIEW_SOONER = 0x1000 | 0x100  # "immediately after the attempt", "later, while still open"
_REVIEWS = ("reviewcorrectness", "reviewmarks", "reviewspecificfeedback", "reviewgeneralfeedback",
            "reviewrightanswer", "reviewoverallfeedback")


def _results_after_close_only(quiz: dict) -> bool:
    """Review options that show results only after the quiz has closed (mod/quiz review bits)."""
    return not any(int(quiz.get(k) or 0) & _REVIEW_SOONER for k in _REVIEWS)


def _want(op: Operation) -> AssessmentTarget:
    want = op.target.practice if op.role == "practice" else op.target.assessment
    assert want is not None
    return want


def _find_section(cs: _Course, exam_id: str) -> Section | None:
    tag = naming.tag(exam_id)
    found = [s for s in cs.sections.values() if s.name.startswith("Exam: ") and s.name.endswith(tag)]
    return min(found, key=lambda s: s.number) if found else None


def _find_paper(cs: _Course, exam_id: str) -> Activity | None:
    idnumber = f"lmsbridge:{exam_id}:paper"
    found = [a for a in cs.activities if a.modname == "resource"
             and (a.idnumber == idnumber if a.idnumber else f"{naming.tag(exam_id)} paper" in a.name)]
    return min(found, key=lambda a: a.cmid) if found else None


def _find_activity(cs: _Course, exam_id: str, role: str) -> Activity | None:
    base = f"lmsbridge:{exam_id}" + (":practice" if role == "practice" else "")
    ids = {base, f"{base}:{QUIZ}", f"{base}:{ASSIGN}"}
    tag = naming.tag(exam_id)

    def ours(a: Activity) -> bool:
        if a.modname not in (QUIZ, ASSIGN) or naming.is_retired(a.name):
            return False
        if a.idnumber:
            return a.idnumber in ids
        return a.name.endswith(tag) and naming.is_practice(a.name) == (role == "practice")

    found = [a for a in cs.activities if ours(a)]
    return min(found, key=lambda a: (a.idnumber != base, a.cmid)) if found else None


def _new_sections(answer: object, known: set[int]) -> list[Section]:
    """The sections a `core_courseformat_update_course` answer (a JSON string of state
    updates, fixture 34) shows that are not in `known`."""
    updates = json.loads(answer) if isinstance(answer, str) else answer
    out = []
    for u in updates or ():
        if not isinstance(u, dict) or u.get("name") != "section" or u.get("action") not in ("put", "create"):
            continue
        f = u.get("fields") or {}
        sid = int(f.get("id"))
        if sid in known:
            continue
        out.append(Section(sid, int(f.get("number", f.get("section", 0))), str(f.get("rawtitle") or ""), "",
                           bool(f.get("visible", True))))
    return out


_USER_ID = re.compile(r"User id:\s*(\d+)")


def _refused_users(warnings: object) -> dict[int, str]:
    """Per-user failures in mod_assign_save_user_extensions' warnings (fixtures 10–12)."""
    out: dict[int, str] = {}
    for w in warnings if isinstance(warnings, list) else (warnings or {}).get("warnings") or ():  # type: ignore[union-attr]
        if not isinstance(w, dict):
            continue
        found = _USER_ID.search(str(w.get("item") or ""))
        reason = f"{w.get('warningcode')}: {w.get('message')}"
        if found:
            out[int(found.group(1))] = reason
        else:
            raise MoodleSyncError("mod_assign_save_user_extensions", reason)
    return out


__all__ = ["MoodleAdapter"]
