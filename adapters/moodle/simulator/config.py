"""Simulator settings: which Moodle it plays, who may call it, and how badly the network behaves."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# Capabilities the simulator checks (a system-role grant; contexts are not modelled).
CAP_COURSE_VIEW = "moodle/course:view"
CAP_COURSE_UPDATE = "moodle/course:update"
CAP_VIEW_HIDDEN_ACTIVITIES = "moodle/course:viewhiddenactivities"
CAP_VIEW_HIDDEN_SECTIONS = "moodle/course:viewhiddensections"
CAP_MANAGE_ACTIVITIES = "moodle/course:manageactivities"
CAP_SECTION_VISIBILITY = "moodle/course:sectionvisibility"
CAP_ACTIVITY_VISIBILITY = "moodle/course:activityvisibility"
CAP_MANAGE_GROUPS = "moodle/course:managegroups"
CAP_ENROL_REVIEW = "moodle/course:enrolreview"
CAP_VIEW_USER_IDENTITY = "moodle/site:viewuseridentity"
CAP_VIEW_ALL_DETAILS = "moodle/user:viewalldetails"
CAP_MANAGE_OWN_FILES = "moodle/user:manageownfiles"
CAP_ASSIGN_VIEW = "mod/assign:view"
CAP_ASSIGN_GRADE = "mod/assign:grade"
CAP_ASSIGN_GRANT_EXTENSION = "mod/assign:grantextension"
CAP_ASSIGN_MANAGE_OVERRIDES = "mod/assign:manageoverrides"
CAP_ASSIGN_ADD = "mod/assign:addinstance"
CAP_QUIZ_VIEW = "mod/quiz:view"
CAP_QUIZ_MANAGE_OVERRIDES = "mod/quiz:manageoverrides"
CAP_QUIZ_VIEW_OVERRIDES = "mod/quiz:viewoverrides"
CAP_QUIZ_ADD = "mod/quiz:addinstance"
CAP_RESOURCE_ADD = "mod/resource:addinstance"
CAP_FORUM_VIEW_DISCUSSION = "mod/forum:viewdiscussion"
CAP_FORUM_START_DISCUSSION = "mod/forum:startdiscussion"  # a discussion in a general forum
CAP_FORUM_ADD_NEWS = "mod/forum:addnews"  # a discussion in a news (Announcements) forum
CAP_FORUM_ADD_QUESTION = "mod/forum:addquestion"  # a discussion in a Q and A forum
CAP_FORUM_PIN = "mod/forum:pindiscussions"

READ_CAPABILITIES: frozenset[str] = frozenset({
    CAP_COURSE_VIEW, CAP_VIEW_HIDDEN_ACTIVITIES, CAP_VIEW_HIDDEN_SECTIONS, CAP_VIEW_USER_IDENTITY,
    CAP_ASSIGN_VIEW, CAP_ASSIGN_GRADE, CAP_QUIZ_VIEW, CAP_QUIZ_VIEW_OVERRIDES, CAP_MANAGE_GROUPS,
    CAP_ENROL_REVIEW, CAP_FORUM_VIEW_DISCUSSION,
})
"""What a read-only service role holds: every read lms_bridge makes, no write."""

DEFAULT_CAPABILITIES: frozenset[str] = READ_CAPABILITIES | frozenset({
    CAP_COURSE_UPDATE, CAP_MANAGE_ACTIVITIES, CAP_SECTION_VISIBILITY, CAP_ACTIVITY_VISIBILITY,
    CAP_MANAGE_OWN_FILES, CAP_ASSIGN_GRANT_EXTENSION, CAP_ASSIGN_MANAGE_OVERRIDES, CAP_ASSIGN_ADD,
    CAP_QUIZ_MANAGE_OVERRIDES, CAP_QUIZ_ADD, CAP_RESOURCE_ADD, CAP_FORUM_START_DISCUSSION, CAP_FORUM_ADD_NEWS,
})
"""The service account's system role as lms_bridge's install guide sets it up (not viewalldetails)."""

ALL_CAPABILITIES: frozenset[str] = DEFAULT_CAPABILITIES | {CAP_VIEW_ALL_DETAILS}

# The human names Moodle prints in "Sorry, but you do not currently have permissions to do that (…)".
CAPABILITY_NAMES: dict[str, str] = {
    CAP_COURSE_VIEW: "View courses without participation",
    CAP_COURSE_UPDATE: "Update course settings",
    CAP_VIEW_HIDDEN_ACTIVITIES: "View hidden activities",
    CAP_VIEW_HIDDEN_SECTIONS: "View hidden sections",
    CAP_MANAGE_ACTIVITIES: "Manage activities",
    CAP_SECTION_VISIBILITY: "Control section visibility",
    CAP_ACTIVITY_VISIBILITY: "Hide/show activities",
    CAP_MANAGE_GROUPS: "Manage groups",
    CAP_ENROL_REVIEW: "Review course enrolments",
    CAP_VIEW_USER_IDENTITY: "See full user identity in lists",
    CAP_VIEW_ALL_DETAILS: "View user full information",
    CAP_MANAGE_OWN_FILES: "Manage files in private file areas",
    CAP_ASSIGN_VIEW: "View assignment",
    CAP_ASSIGN_GRADE: "Grade assignment",
    CAP_ASSIGN_GRANT_EXTENSION: "Grant extension",
    CAP_ASSIGN_MANAGE_OVERRIDES: "Manage assignment overrides",
    CAP_ASSIGN_ADD: "Add a new assignment",
    CAP_QUIZ_VIEW: "View quiz information",
    CAP_QUIZ_MANAGE_OVERRIDES: "Manage quiz settings overrides",
    CAP_QUIZ_VIEW_OVERRIDES: "View quiz settings overrides",
    CAP_QUIZ_ADD: "Add a new quiz",
    CAP_RESOURCE_ADD: "Add a new file",
    CAP_FORUM_VIEW_DISCUSSION: "View discussions",
    CAP_FORUM_START_DISCUSSION: "Start new discussions",
    CAP_FORUM_ADD_NEWS: "Add announcements",
    CAP_FORUM_ADD_QUESTION: "Add questions",
    CAP_FORUM_PIN: "Pin discussions",
}


@dataclass(frozen=True)
class MoodleVersion:
    """What `core_webservice_get_site_info` reports, and the version numbers of the plugins in it."""

    branch: str  # "4.5"
    release: str  # as Moodle prints it
    version: str  # $version of core (config/version.php)
    mod_version: str  # $plugin->version of mod_assign / mod_quiz in that release

    @property
    def key(self) -> tuple[int, int]:
        major, minor = self.branch.split(".")
        return int(major), int(minor)


VERSIONS: dict[str, MoodleVersion] = {
    "4.5": MoodleVersion("4.5", "4.5.6 (Build: 20250811)", "2024100706", "2024100700"),
    "5.0": MoodleVersion("5.0", "5.0.2 (Build: 20250811)", "2025041402", "2025041400"),
    "5.3": MoodleVersion("5.3", "5.3 (Build: 20261005)", "2026100500", "2026100500"),
}

PLUGIN_COMPONENT = "local_lmsbridge"
PLUGIN_VERSION = "2026112200"


@dataclass
class SimulatorConfig:
    """Everything about the simulated Moodle that is not data.

    `version` picks the release ("4.5", "5.0", "5.3"); `plugin` installs local_lmsbridge and puts
    its functions in the service. `identity_fields` is `$CFG->showuseridentity` beyond email: with
    "idnumber" there (and the token's role holding moodle/site:viewuseridentity) enrolled users carry
    their idnumber. `debug` adds `debuginfo` to error bodies (debugging on). Tokens: `token` is the
    service account (user 3, `capabilities`); `extra_tokens` maps more tokens to capability sets, each
    its own service user (to test `required_capability_exception`).
    """

    token: str = "sim-token"
    version: str = "4.5"
    plugin: bool = True
    capabilities: frozenset[str] = DEFAULT_CAPABILITIES
    extra_tokens: Mapping[str, frozenset[str]] = field(default_factory=dict)
    identity_fields: tuple[str, ...] = ("idnumber",)
    debug: bool = False
    # The external service the tokens are bound to: None = what lms_bridge's install guide lists for
    # this version and mode; `extra_functions` adds more the simulator knows (e.g. core_course_get_course_module).
    service_functions: tuple[str, ...] | None = None
    extra_functions: tuple[str, ...] = ()
    uploadfiles: bool | None = None  # the service's "can upload files" flag; None = on with the plugin
    max_input_vars: int = 5000  # PHP drops form variables past this many (Moodle asks for >= 5000)
    site_name: str = "Moodle Simulator"
    wwwroot: str | None = None  # the site URL in answers (default: the URL the request came to)
    timezone: str = "Europe/London"
    theme_rev: int = 1795303631
    clock: Callable[[], float] | None = None  # the server's time() (default: the real clock)
    # Latency and random faults (as the Canvas simulator). Moodle has no request throttle.
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    fault_rate: float = 0.0  # share of requests answered 500/502/503 (nothing executed)
    timeout_rate: float = 0.0  # share of requests held past client_timeout_s
    drop_rate: float = 0.0  # share of requests whose connection is closed without a response
    write_applied_on_fault: float = 0.5  # chance a timed-out or dropped write was executed first
    client_timeout_s: float = 5.0
    seed: int | None = 0

    def __post_init__(self) -> None:
        if self.version not in VERSIONS:
            raise ValueError(f"version must be one of {', '.join(VERSIONS)}, not {self.version!r}")
        if self.token in self.extra_tokens:
            raise ValueError("an extra token repeats the main token")

    @property
    def moodle(self) -> MoodleVersion:
        return VERSIONS[self.version]

    def at_least(self, branch: str) -> bool:
        major, minor = branch.split(".")
        return self.moodle.key >= (int(major), int(minor))

    @property
    def upload_enabled(self) -> bool:
        return self.plugin if self.uploadfiles is None else self.uploadfiles
