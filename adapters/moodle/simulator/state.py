"""The in-memory Moodle: what the app serves and what tests arrange, inspect or change "by hand".

Seeding (core Moodle web services cannot create activities, so tests put them straight in state):
`create_course`, `create_user`, `enrol`, `unenrol`, `create_group`, `add_to_group`, `create_section`,
`create_assign`, `create_quiz`, `create_forum`, `post_discussion`, `add_token`, `grant`, `revoke`.

Every course gets its Announcements (news) forum with it (`news_forum=False` leaves it out). Real
Moodle makes it lazily, in forum_get_course_forum($courseid, 'news'), when the course page or the
Latest announcements block first needs it, which is as good as at creation for a course anyone
has opened; none of the web-service functions lms_bridge calls creates it
(mod_forum_get_forums_by_courses only lists what exists). So the simulator creates it with the
course, as the recorded site holds it (cmid 1, before any activity), and a course made with
`news_forum=False` stands for one nobody has opened yet.

Drift, as a teacher editing in the browser would cause it: `update_quiz`, `update_assign`,
`hide_module`, `show_module`, `stealth_module`, `rename_module`, `move_module`, `delete_module`,
`set_module_idnumber`, `set_module_availability`, `rename_section`, `hide_section`, `show_section`,
`set_section_summary`, `set_section_availability`, `delete_section`, `update_quiz_override`,
`delete_quiz_override`, `update_assign_override`, `delete_assign_override`, `set_extension`.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from . import availability as avail
from .config import SimulatorConfig
from .errors import invalid_parameter
from .records import (
    NEWS_FORUM_INTRO,
    NEWS_FORUM_NAME,
    REVIEW_ALWAYS,
    REVIEW_AFTER_CLOSE,
    REVIEW_DURING_AND_AFTER_CLOSE,
    REVIEW_OVERALL_FEEDBACK,
    Assign,
    Course,
    CourseModule,
    DraftArea,
    Enrolment,
    Forum,
    ForumDiscussion,
    Group,
    Quiz,
    Resource,
    Section,
    StoredFile,
    User,
    UserFlags,
)
from .store import Store

ASSIGN_SETTINGS = ("allowsubmissionsfromdate", "duedate", "cutoffdate", "timelimit")
QUIZ_SETTINGS = ("timeopen", "timeclose", "timelimit", "attempts", "quizpassword", "shuffleanswers",
                 "hideresultsuntilclose")


class MoodleSimulator(Store):
    def __init__(self, config: SimulatorConfig | None = None) -> None:
        super().__init__(config)

    # -- seeding -----------------------------------------------------------------------------------

    def create_course(self, fullname: str | None = None, shortname: str | None = None, *, idnumber: str = "",
                      id: int | None = None, numsections: int = 4, summary: str = "", startdate: int | None = None,
                      enddate: int = 0, category: int = 1, visible: bool = True, news_forum: bool = True,
                      contextid: int | None = None, timecreated: int | None = None,
                      section_ids: list[int] | None = None) -> Course:
        """A topics-format course with sections 0..numsections and (by default) its Announcements forum."""
        with self.lock:
            cid = self._new_id("course", id)
            now = self.now() if timecreated is None else timecreated
            course = Course(cid, fullname or f"Course {cid}", shortname or f"C{cid}", idnumber=idnumber,
                            category=category, summary=summary, startdate=now if startdate is None else startdate,
                            enddate=enddate, visible=int(visible), timecreated=now, timemodified=now, cacherev=now,
                            contextid=self._new_context(contextid), sortorder=10000 + len(self.courses) + 1)
            self.courses[cid] = course
            ids = list(section_ids or [])
            for number in range(numsections + 1):
                self._insert_section(course, number, sectionid=ids[number] if number < len(ids) else None)
            if news_forum:
                self.create_forum(cid, NEWS_FORUM_NAME, section=0)
            course.cacherev = now
            return course

    def create_user(self, firstname: str, lastname: str, *, idnumber: str = "", username: str | None = None,
                    email: str | None = None, id: int | None = None, department: str = "") -> User:
        with self.lock:
            uid = self._new_id("user", id)
            username = username or (idnumber.lower() if idnumber else f"user{uid}")
            user = User(uid, username, firstname, lastname, email or f"{username}@example.com", idnumber=idnumber,
                        department=department)
            self.users[uid] = user
            return user

    def enrol(self, courseid: int, userid: int, role: str = "student", *, status: str = "active") -> Enrolment:
        """Manual enrolment with a role (student, editingteacher, teacher, manager); re-enrolling updates it."""
        with self.lock:
            self.course(courseid)
            self.user(userid)
            found = self.enrolment(courseid, userid)
            if found:
                found.role, found.status = role, status
                return found
            enrolment = Enrolment(courseid, userid, role, status, timecreated=self.now())
            self.add_enrolment(enrolment)
            return enrolment

    def unenrol(self, courseid: int, userid: int) -> None:
        with self.lock:
            self.remove_enrolment(courseid, userid)
            for group in self.course_groups(courseid):
                if userid in group.members:
                    group.members.remove(userid)

    def create_group(self, courseid: int, name: str, *, idnumber: str = "", members: tuple[int, ...] | list[int] = (),
                     id: int | None = None, description: str = "") -> Group:
        with self.lock:
            self.course(courseid)
            group = Group(self._new_id("group", id), courseid, name, idnumber=idnumber, description=description,
                          members=list(members), timecreated=self.now())
            self.groups[group.id] = group
            return group

    def add_to_group(self, groupid: int, userid: int) -> None:
        with self.lock:
            group = self.groups[groupid]
            if userid not in group.members:
                group.members.append(userid)

    def remove_from_group(self, groupid: int, userid: int) -> None:
        with self.lock:
            group = self.groups[groupid]
            if userid in group.members:
                group.members.remove(userid)

    def create_section(self, courseid: int, name: str | None = None, *, id: int | None = None,
                       visible: bool = True, summary: str = "") -> Section:
        """A new section at the end of the course."""
        return self.append_section(courseid, name=name, sectionid=id, visible=int(visible), summary=summary)

    def create_assign(self, courseid: int, name: str, *, section: int = 1, idnumber: str = "", intro: str = "",
                      visible: bool = True, id: int | None = None, cmid: int | None = None,
                      contextid: int | None = None, **fields: Any) -> CourseModule:
        """An assignment straight into state (core WS cannot create one). `fields` are assign columns."""
        with self.lock:
            self.course(courseid)
            now = self.now()
            assign = Assign(self._new_id("assign", id), courseid, name, intro=intro, timemodified=now)
            for key, value in fields.items():
                if not hasattr(assign, key):
                    raise TypeError(f"assign has no field {key!r}")
                setattr(assign, key, value)
            self.assigns[assign.id] = assign
            return self.add_module(courseid, "assign", assign.id, section, idnumber=idnumber, visible=int(visible),
                                   cmid=cmid, contextid=contextid)

    def create_quiz(self, courseid: int, name: str, *, section: int = 1, idnumber: str = "", intro: str = "",
                    visible: bool = True, id: int | None = None, cmid: int | None = None,
                    contextid: int | None = None, **fields: Any) -> CourseModule:
        """A quiz straight into state (core WS cannot create one). `fields` are quiz columns."""
        with self.lock:
            self.course(courseid)
            now = self.now()
            quiz = Quiz(self._new_id("quiz", id), courseid, name, intro=intro, timecreated=now, timemodified=now)
            for key, value in fields.items():
                if not hasattr(quiz, key):
                    raise TypeError(f"quiz has no field {key!r}")
                setattr(quiz, key, value)
            self.quizzes[quiz.id] = quiz
            return self.add_module(courseid, "quiz", quiz.id, section, idnumber=idnumber, visible=int(visible),
                                   cmid=cmid, contextid=contextid)

    def create_forum(self, courseid: int, name: str, *, section: int = 0, id: int | None = None,
                     cmid: int | None = None, contextid: int | None = None, type: str = "news",
                     intro: str | None = None, visible: bool = True) -> CourseModule:
        """A forum; by default the course's news forum as forum_get_course_forum() makes it
        (intro "General news and announcements", forced subscription)."""
        with self.lock:
            self.course(courseid)
            news = type == "news"
            forum = Forum(self._new_id("forum", id), courseid, name, type=type,
                          intro=(NEWS_FORUM_INTRO if news else "") if intro is None else intro,
                          forcesubscribe=1 if news else 0, timemodified=self.now())
            self.forums[forum.id] = forum
            return self.add_module(courseid, "forum", forum.id, section, cmid=cmid, contextid=contextid,
                                   visible=int(visible))

    def news_forum(self, courseid: int) -> Forum | None:
        """forum_get_course_forum($courseid, 'news') without the creating: the oldest news forum."""
        with self.lock:
            found = [f for f in self.forums.values() if f.course == courseid and f.type == "news"]
            return min(found, key=lambda f: f.id) if found else None

    def post_discussion(self, forumid: int, subject: str, message: str, *, userid: int, groupid: int = -1,
                        pinned: bool = False) -> ForumDiscussion:
        """forum_add_discussion(): a discussion and its first post (no checks; the web service's
        are in api_forum). Also what a teacher posting in the browser does."""
        with self.lock:
            forum = self.forum(forumid)
            now = self.now()
            discussion = ForumDiscussion(
                self._new_id("forum_discussion"), forum.course, forum.id, subject, self._new_id("forum_post"), userid,
                groupid=groupid, timemodified=now, usermodified=userid, pinned=int(pinned), subject=subject,
                message=message, created=now, modified=now)
            self._forum_posts.add(discussion.firstpost)
            self.forum_discussions[discussion.id] = discussion
            return discussion

    # -- extensions (assign::save_user_extension) ------------------------------------------------

    def save_user_extension(self, assign: Assign, userid: int, date: int) -> bool:
        with self.lock:
            enrolment = self.enrolment(assign.course, userid)
            if enrolment is None or enrolment.role != "student":  # not enrolled, or no mod/assign:submit
                return False
            if assign.duedate and date and assign.duedate > date:
                return False
            if assign.allowsubmissionsfromdate and date and assign.allowsubmissionsfromdate > date:
                return False
            self._flags(assign.id, userid).extensionduedate = date
            return True

    def _flags(self, assignid: int, userid: int) -> UserFlags:
        flags = self.user_flag(assignid, userid)
        if flags is None:
            flags = UserFlags(self._new_id("user_flags"), assignid, userid)
            self.user_flag_rows[flags.id] = flags
        return flags

    # -- local_lmsbridge operations ----------------------------------------------------------------

    def upsert_activity(self, courseid: int, idnumber: str, modname: str, section: int, name: str, intro: str,
                        visible: int, settings: dict[str, Any]) -> tuple[CourseModule, bool]:
        with self.lock:
            course = self.course(courseid)
            if modname not in ("assign", "quiz"):
                raise invalid_parameter(f"modname must be assign or quiz, not {modname}")
            if not idnumber:
                raise invalid_parameter("idnumber must not be empty")
            allowed = ASSIGN_SETTINGS if modname == "assign" else QUIZ_SETTINGS
            stray = [k for k in settings if k not in allowed]
            if stray:
                raise invalid_parameter(f"settings {', '.join(stray)} do not apply to a {modname}")
            existing = self.find_module(courseid, idnumber=idnumber)
            if existing is not None and existing.modname != modname:
                raise invalid_parameter(f"idnumber {idnumber} belongs to a {existing.modname}")
            if section < 0:
                raise invalid_parameter("section must not be negative")
            instance = self.instance(existing) if existing else None
            merged = {k: getattr(instance, _column(k)) if instance else 0 for k in allowed}
            if instance is not None and modname == "quiz":
                merged["hideresultsuntilclose"] = instance.hideresultsuntilclose
            if instance is None and modname == "quiz":
                merged.update(shuffleanswers=1, quizpassword="")
            merged.update(settings)
            _check_dates(modname, merged)
            now = self.now()
            if existing is None:
                if modname == "assign":
                    cm = self.create_assign(courseid, name, section=section, idnumber=idnumber, intro=intro,
                                            visible=bool(visible))
                else:
                    cm = self.create_quiz(courseid, name, section=section, idnumber=idnumber, intro=intro,
                                          visible=bool(visible))
                instance = self.instance(cm)
                created = True
            else:
                cm = existing
                instance.name, instance.intro = name, intro
                if self.section(cm.section).section != section:
                    self.move_module(cm.id, section)
                if bool(cm.visible) != bool(visible):
                    cm.visible = cm.visibleold = int(bool(visible))
                created = False
            for key in settings:
                if key == "hideresultsuntilclose":
                    _set_review(instance, bool(settings[key]))
                else:
                    setattr(instance, _column(key), settings[key])
            instance.timemodified = now
            self.touch(course)
            return cm, created

    def update_section_by_number(self, courseid: int, number: int, name: str, summary: str, visible: int,
                                 availability: str) -> tuple[Section, bool]:
        with self.lock:
            self.course(courseid)
            try:
                avail.validate(availability)
            except ValueError as error:
                raise invalid_parameter(str(error)) from None
            section = self.section_by_number(courseid, number) if number >= 0 else None
            created = section is None
            if section is None:
                section = self.append_section(courseid)
            section.name, section.summary = name, summary
            section.availability = availability or None
            self.set_section_visible(section.id, bool(visible))
            section.timemodified = self.now()
            self.touch(self.course(courseid))
            return section, created

    def set_cm_availability(self, cmid: int, availability: str) -> None:
        with self.lock:
            cm = self.cm(cmid)
            try:
                avail.validate(availability)
            except ValueError as error:
                raise invalid_parameter(str(error)) from None
            cm.availability = availability or None
            self.touch(self.course(cm.course))

    def attach_paper(self, userid: int, courseid: int, idnumber: str, section: int, name: str, draftitemid: int,
                     opensat: int) -> tuple[CourseModule, bool, str]:
        with self.lock:
            self.course(courseid)
            draft = self.drafts.get(draftitemid)
            if draft is None or draft.userid != userid or not draft.files:
                raise invalid_parameter(f"draft area {draftitemid} is empty")
            existing = self.find_module(courseid, idnumber=idnumber)
            if existing is not None and existing.modname != "resource":
                raise invalid_parameter(f"idnumber {idnumber} belongs to a {existing.modname}")
            stored = draft.files[0]
            now = self.now()
            copy = StoredFile(stored.filename, stored.content, mimetype=stored.mimetype, userid=userid,
                              author=stored.author, timecreated=now, timemodified=now)
            if existing is None:
                resource = Resource(self._new_id("resource"), courseid, name, files=[copy], timemodified=now)
                self.resources[resource.id] = resource
                cm = self.add_module(courseid, "resource", resource.id, section, idnumber=idnumber)
                created = True
            else:
                cm, created = existing, False
                resource = self.resources[cm.instance]
                resource.name = name
                current = resource.files[0] if resource.files else None
                if current is None or current.contenthash != copy.contenthash or current.filename != copy.filename:
                    resource.files = [copy]
                    resource.revision += 1
                    resource.timemodified = now
                if self.section(cm.section).section != section:
                    self.move_module(cm.id, section)
            cm.availability = f'{{"op":"&","c":[{{"type":"date","d":">=","t":{opensat}}}],"showc":[true]}}'
            self.touch(self.course(courseid))
            return cm, created, resource.files[0].contenthash

    def store_draft_file(self, userid: int, itemid: int, filename: str, content: bytes, filepath: str = "/") -> bool:
        """webservice/upload.php: False when the name is taken in that draft area."""
        with self.lock:
            draft = self.drafts.get(itemid)
            if draft is None:
                contextid = self.user_contexts.get(userid) or self._new_context()
                self.user_contexts[userid] = contextid
                draft = DraftArea(itemid, userid, contextid)
                self.drafts[itemid] = draft
            if any(f.filename == filename and f.filepath == filepath for f in draft.files):
                return False
            mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            now = self.now()
            draft.files.append(StoredFile(filename, content, filepath=filepath, mimetype=mimetype, userid=userid,
                                          author=self.users[userid].fullname, timecreated=now, timemodified=now))
            return True

    # -- drift "by hand" (a teacher in the browser) --------------------------------------------------

    def update_quiz(self, quizid: int, **fields: Any) -> Quiz:
        """Edit quiz settings as the settings form would (e.g. `timeclose=…`, `timelimit=…`)."""
        with self.lock:
            quiz = self.quiz(quizid)
            for key, value in fields.items():
                if not hasattr(quiz, key):
                    raise TypeError(f"quiz has no field {key!r}")
                setattr(quiz, key, value)
            quiz.timemodified = self.now()
            return quiz

    def update_assign(self, assignid: int, **fields: Any) -> Assign:
        with self.lock:
            assign = self.assign(assignid)
            for key, value in fields.items():
                if not hasattr(assign, key):
                    raise TypeError(f"assign has no field {key!r}")
                setattr(assign, key, value)
            assign.timemodified = self.now()
            return assign

    def hide_module(self, cmid: int) -> None:
        with self.lock:
            cm = self.cm(cmid)
            cm.visible = cm.visibleold = 0
            self.touch(self.course(cm.course))

    def show_module(self, cmid: int) -> None:
        with self.lock:
            cm = self.cm(cmid)
            cm.visible = cm.visibleold = 1
            cm.visibleoncoursepage = 1
            self.touch(self.course(cm.course))

    def stealth_module(self, cmid: int) -> None:
        """Available but not shown on the course page."""
        with self.lock:
            cm = self.cm(cmid)
            cm.visible = cm.visibleold = 1
            cm.visibleoncoursepage = 0
            self.touch(self.course(cm.course))

    def rename_module(self, cmid: int, name: str) -> None:
        with self.lock:
            self.instance(self.cm(cmid)).name = name

    def set_module_idnumber(self, cmid: int, idnumber: str) -> None:
        with self.lock:
            self.cm(cmid).idnumber = idnumber

    def set_module_availability(self, cmid: int, availability: str | None) -> None:
        """Write a restriction as the "Restrict access" form would (no validation)."""
        with self.lock:
            cm = self.cm(cmid)
            cm.availability = availability or None
            self.touch(self.course(cm.course))

    def rename_section(self, sectionid: int, name: str | None) -> None:
        with self.lock:
            self.section(sectionid).name = name or None

    def hide_section(self, sectionid: int) -> None:
        self.set_section_visible(sectionid, False)

    def show_section(self, sectionid: int) -> None:
        self.set_section_visible(sectionid, True)

    def set_section_summary(self, sectionid: int, summary: str) -> None:
        with self.lock:
            self.section(sectionid).summary = summary

    def set_section_availability(self, sectionid: int, availability: str | None) -> None:
        with self.lock:
            self.section(sectionid).availability = availability or None

    def update_quiz_override(self, overrideid: int, **fields: Any) -> None:
        with self.lock:
            row = self.quiz_override_rows[overrideid]
            for key, value in fields.items():
                if not hasattr(row, key):
                    raise TypeError(f"quiz override has no field {key!r}")
                setattr(row, key, value)

    def delete_quiz_override(self, overrideid: int) -> None:
        with self.lock:
            del self.quiz_override_rows[overrideid]

    def update_assign_override(self, overrideid: int, **fields: Any) -> None:
        with self.lock:
            row = self.assign_override_rows[overrideid]
            for key, value in fields.items():
                if not hasattr(row, key):
                    raise TypeError(f"assign override has no field {key!r}")
                setattr(row, key, value)

    def delete_assign_override(self, overrideid: int) -> None:
        with self.lock:
            del self.assign_override_rows[overrideid]

    def set_extension(self, assignid: int, userid: int, date: int) -> None:
        """Grant (or with 0 clear) an extension without the web service's checks."""
        with self.lock:
            self.assign(assignid)
            self._flags(assignid, userid).extensionduedate = date

    # -- conveniences for tests ----------------------------------------------------------------

    def write_count_state(self) -> dict[str, int]:
        """How many live objects of each kind exist: a quick check that a retry duplicated nothing."""
        with self.lock:
            return {"sections": len(self.sections), "modules": len(self.cms), "assigns": len(self.assigns),
                    "quizzes": len(self.quizzes), "resources": len(self.resources),
                    "quiz_overrides": len(self.quiz_override_rows),
                    "assign_overrides": len(self.assign_override_rows),
                    "extensions": sum(1 for f in self.user_flag_rows.values() if f.extensionduedate),
                    "discussions": len(self.forum_discussions)}


def _column(setting: str) -> str:
    return "password" if setting == "quizpassword" else setting


def _set_review(quiz: Quiz, hide_until_close: bool) -> None:
    value = REVIEW_AFTER_CLOSE if hide_until_close else REVIEW_ALWAYS
    quiz.reviewattempt = REVIEW_DURING_AND_AFTER_CLOSE if hide_until_close else REVIEW_ALWAYS
    quiz.reviewcorrectness = quiz.reviewmaxmarks = quiz.reviewmarks = value
    quiz.reviewspecificfeedback = quiz.reviewgeneralfeedback = quiz.reviewrightanswer = value
    quiz.reviewoverallfeedback = REVIEW_AFTER_CLOSE if hide_until_close else REVIEW_OVERALL_FEEDBACK


def _check_dates(modname: str, s: dict[str, Any]) -> None:
    if modname == "quiz":
        if s.get("timeopen") and s.get("timeclose") and s["timeclose"] < s["timeopen"]:
            raise invalid_parameter("timeclose before timeopen")
        if s.get("timelimit", 0) < 0 or s.get("attempts", 0) < 0:
            raise invalid_parameter("timelimit and attempts must not be negative")
        return
    if s.get("allowsubmissionsfromdate") and s.get("duedate") and s["duedate"] < s["allowsubmissionsfromdate"]:
        raise invalid_parameter("duedate before allowsubmissionsfromdate")
    if s.get("duedate") and s.get("cutoffdate") and s["cutoffdate"] < s["duedate"]:
        raise invalid_parameter("cutoffdate before duedate")
    if s.get("timelimit", 0) < 0:
        raise invalid_parameter("timelimit must not be negative")
