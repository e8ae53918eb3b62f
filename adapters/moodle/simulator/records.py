"""The rows of the simulated Moodle, one dataclass per table (named as Moodle names its columns)."""

from __future__ import annotations

from dataclasses import dataclass, field

STUDENT, EDITING_TEACHER, TEACHER, MANAGER = "student", "editingteacher", "teacher", "manager"
ROLE_IDS = {MANAGER: 1, EDITING_TEACHER: 3, TEACHER: 4, STUDENT: 5}


@dataclass
class User:
    id: int
    username: str
    firstname: str
    lastname: str
    email: str
    idnumber: str = ""
    department: str = ""
    firstaccess: int = 0
    lastaccess: int = 0
    deleted: bool = False
    suspended: bool = False

    @property
    def fullname(self) -> str:
        return f"{self.firstname} {self.lastname}"


@dataclass
class Account:
    """A web-service token: the user it logs in as and that user's (system) capabilities."""

    token: str
    userid: int
    capabilities: frozenset[str]


@dataclass
class Course:
    id: int
    fullname: str
    shortname: str
    idnumber: str = ""
    category: int = 1
    summary: str = ""
    summaryformat: int = 1
    format: str = "topics"
    startdate: int = 0
    enddate: int = 0
    visible: int = 1
    groupmode: int = 0
    lang: str = ""
    timecreated: int = 0
    timemodified: int = 0
    cacherev: int = 0
    contextid: int = 0
    sortorder: int = 10000
    marker: int = 0


@dataclass
class Section:
    """course_sections: `section` is the number (0 = General), `sequence` the cmids in order."""

    id: int
    course: int
    section: int
    name: str | None = None
    summary: str = ""
    summaryformat: int = 1
    visible: int = 1
    availability: str | None = None
    sequence: list[int] = field(default_factory=list)
    component: str | None = None
    itemid: int | None = None
    timemodified: int = 0


@dataclass
class CourseModule:
    """course_modules: `instance` is the id in the module's own table (assign.id, quiz.id …)."""

    id: int
    course: int
    modname: str
    instance: int
    section: int  # course_sections.id
    idnumber: str = ""
    visible: int = 1
    visibleoncoursepage: int = 1
    visibleold: int = 1
    availability: str | None = None
    indent: int = 0
    groupmode: int = 0
    groupingid: int = 0
    completion: int = 0
    contextid: int = 0
    added: int = 0


@dataclass
class Enrolment:
    course: int
    userid: int
    role: str = STUDENT
    status: str = "active"  # or "suspended"
    timecreated: int = 0
    lastcourseaccess: int = 0


@dataclass
class Group:
    id: int
    courseid: int
    name: str
    idnumber: str = ""
    description: str = ""
    descriptionformat: int = 0
    members: list[int] = field(default_factory=list)
    visibility: int = 0
    participation: bool = True
    enrolmentkey: str | None = None
    timecreated: int = 0


DEFAULT_ASSIGN_CONFIGS: tuple[tuple[str, str, str, str], ...] = (
    ("onlinetext", "assignsubmission", "enabled", "1"),
    ("onlinetext", "assignsubmission", "wordlimit", "0"),
    ("onlinetext", "assignsubmission", "wordlimitenabled", "0"),
    ("comments", "assignsubmission", "enabled", "0"),
)


@dataclass
class Assign:
    id: int
    course: int
    name: str
    intro: str = ""
    introformat: int = 1
    allowsubmissionsfromdate: int = 0
    duedate: int = 0
    cutoffdate: int = 0
    gradingduedate: int = 0
    timelimit: int = 0
    grade: int = 100
    timemodified: int = 0
    nosubmissions: int = 0
    submissiondrafts: int = 0
    sendnotifications: int = 0
    sendlatenotifications: int = 0
    sendstudentnotifications: int = 1
    completionsubmit: int = 0
    teamsubmission: int = 0
    requireallteammemberssubmit: int = 0
    teamsubmissiongroupingid: int = 0
    blindmarking: int = 0
    hidegrader: int = 0
    revealidentities: int = 0
    attemptreopenmethod: str = "untilpass"
    maxattempts: int = 1
    markingworkflow: int = 0
    markingallocation: int = 0
    markinganonymous: int = 0
    requiresubmissionstatement: int = 0
    preventsubmissionnotingroup: int = 0
    submissionattachments: int = 0
    configs: list[tuple[str, str, str, str]] = field(default_factory=lambda: list(DEFAULT_ASSIGN_CONFIGS))


REVIEW_ALWAYS = 69904  # during | immediately after | later while open | after close
REVIEW_OVERALL_FEEDBACK = 4368
REVIEW_AFTER_CLOSE = 16
REVIEW_DURING_AND_AFTER_CLOSE = 65552


@dataclass
class Quiz:
    id: int
    course: int
    name: str
    intro: str = ""
    introformat: int = 1
    timeopen: int = 0
    timeclose: int = 0
    timelimit: int = 0
    overduehandling: str = "autosubmit"
    graceperiod: int = 86400
    preferredbehaviour: str = "deferredfeedback"
    canredoquestions: int = 0
    attempts: int = 0
    attemptonlast: int = 0
    grademethod: int = 1
    decimalpoints: int = 2
    questiondecimalpoints: int = -1
    reviewattempt: int = REVIEW_ALWAYS
    reviewcorrectness: int = REVIEW_ALWAYS
    reviewmaxmarks: int = REVIEW_ALWAYS
    reviewmarks: int = REVIEW_ALWAYS
    reviewspecificfeedback: int = REVIEW_ALWAYS
    reviewgeneralfeedback: int = REVIEW_ALWAYS
    reviewrightanswer: int = REVIEW_ALWAYS
    reviewoverallfeedback: int = REVIEW_OVERALL_FEEDBACK
    questionsperpage: int = 1
    navmethod: str = "free"
    shuffleanswers: int = 1
    sumgrades: int = 0
    grade: int = 100
    timecreated: int = 0
    timemodified: int = 0
    password: str = ""
    subnet: str = ""
    browsersecurity: str = ""
    delay1: int = 0
    delay2: int = 0
    showuserpicture: int = 0
    showblocks: int = 0
    completionattemptsexhausted: int = 0
    completionpass: int = 0
    allowofflineattempts: int = 0
    autosaveperiod: int = 60
    hasfeedback: int = 0
    hasquestions: int = 0

    @property
    def hideresultsuntilclose(self) -> int:
        return int(self.reviewmarks == REVIEW_AFTER_CLOSE)


NEWS_FORUM_NAME = "Announcements"  # get_string('namenews', 'forum')
NEWS_FORUM_INTRO = "General news and announcements"  # get_string('intronews', 'forum')


@dataclass
class Forum:
    """forum: the columns mod_forum_get_forums_by_courses returns, with the defaults of a news
    forum as forum_get_course_forum($courseid, 'news') makes it (forced subscription)."""

    id: int
    course: int
    name: str
    type: str = "news"  # news, general, eachuser, single, qanda, blog
    intro: str = ""
    introformat: int = 1
    assessed: int = 0
    assesstimestart: int = 0
    assesstimefinish: int = 0
    scale: int = 0
    grade_forum: int = 0
    grade_forum_notify: int = 0
    maxbytes: int = 0
    maxattachments: int = 1
    forcesubscribe: int = 0  # 1 = FORUM_FORCESUBSCRIBE
    trackingtype: int = 1  # FORUM_TRACKING_OPTIONAL
    rsstype: int = 0
    rssarticles: int = 0
    timemodified: int = 0
    warnafter: int = 0
    blockafter: int = 0
    blockperiod: int = 0
    completiondiscussions: int = 0
    completionreplies: int = 0
    completionposts: int = 0
    lockdiscussionafter: int = 0
    duedate: int = 0
    cutoffdate: int = 0


@dataclass
class ForumDiscussion:
    """forum_discussions with its first post (forum_posts, parent 0): `id` is the discussion,
    `firstpost` the post. Replies are not modelled."""

    id: int
    course: int
    forum: int
    name: str
    firstpost: int
    userid: int
    groupid: int = -1  # -1: not in a group (the forum is not in group mode)
    timemodified: int = 0
    usermodified: int = 0
    timestart: int = 0
    timeend: int = 0
    pinned: int = 0
    timelocked: int = 0
    # the first post
    subject: str = ""
    message: str = ""
    messageformat: int = 1  # FORMAT_HTML: mod_forum_add_discussion forces it
    messagetrust: int = 0
    created: int = 0
    modified: int = 0
    mailed: int = 0
    mailnow: int = 0


@dataclass
class StoredFile:
    filename: str
    content: bytes
    filepath: str = "/"
    mimetype: str = "application/octet-stream"
    userid: int = 0
    author: str = ""
    license: str = "unknown"
    timecreated: int = 0
    timemodified: int = 0

    @property
    def contenthash(self) -> str:
        import hashlib

        return hashlib.sha1(self.content).hexdigest()


@dataclass
class Resource:
    id: int
    course: int
    name: str
    intro: str = ""
    revision: int = 1
    files: list[StoredFile] = field(default_factory=list)
    timemodified: int = 0


@dataclass
class QuizOverride:
    id: int
    quiz: int
    userid: int | None = None
    groupid: int | None = None
    timeopen: int | None = None
    timeclose: int | None = None
    timelimit: int | None = None
    attempts: int | None = None
    password: str | None = None


@dataclass
class AssignOverride:
    id: int
    assignid: int
    userid: int | None = None
    groupid: int | None = None
    sortorder: int | None = None
    allowsubmissionsfromdate: int | None = None
    duedate: int | None = None
    cutoffdate: int | None = None
    timelimit: int | None = None
    reason: str | None = None
    reasonformat: int = 0


@dataclass
class UserFlags:
    id: int
    assignment: int
    userid: int
    locked: int = 0
    mailed: int = 2
    extensionduedate: int = 0
    workflowstate: str = ""
    allocatedmarker: int = 0


@dataclass
class DraftArea:
    itemid: int
    userid: int
    contextid: int
    files: list[StoredFile] = field(default_factory=list)
