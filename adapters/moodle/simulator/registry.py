"""The external functions the simulator knows, and which of them a token's service offers.

A function exists in a Moodle version (`since`, `until`), comes from core or from local_lmsbridge
(`plugin`), and is in lms_bridge's external service or not. Asking for a name that does not exist
in this Moodle is `invalidrecord` (external_functions); one that exists but is not in the service
is `accessexception`, as the recorded fixtures show.
"""

from __future__ import annotations

import threading

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .config import PLUGIN_COMPONENT, PLUGIN_VERSION, SimulatorConfig
from .schema import Desc, Single

if TYPE_CHECKING:
    from .context import Call


@dataclass(frozen=True)
class ExternalFunction:
    name: str
    component: str  # "moodle", "mod_assign", "mod_quiz", "local_lmsbridge"
    type: str  # "read" or "write" (services.php)
    params: Single
    returns: Desc | Callable[[SimulatorConfig], Desc] | None
    handler: Callable[[Call, dict[str, Any]], Any]
    since: str = "4.5"
    until: str | None = None  # first version without it
    in_service: bool = True  # in lms_bridge's external service by default

    @property
    def plugin(self) -> bool:
        return self.component == PLUGIN_COMPONENT

    def exists(self, config: SimulatorConfig) -> bool:
        if self.plugin and not config.plugin:
            return False
        if not config.at_least(self.since):
            return False
        return self.until is None or not config.at_least(self.until)

    def returns_desc(self, config: SimulatorConfig) -> Desc | None:
        return self.returns(config) if callable(self.returns) else self.returns

    def version(self, config: SimulatorConfig) -> str:
        if self.plugin:
            return PLUGIN_VERSION
        return config.moodle.version if self.component == "moodle" else config.moodle.mod_version


FUNCTIONS: dict[str, ExternalFunction] = {}

# lms_bridge's external service, in the order its install guide adds them (as recorded on 4.5.6).
DEFAULT_SERVICE = (
    "core_webservice_get_site_info", "core_course_get_contents", "core_enrol_get_enrolled_users",
    "mod_assign_get_assignments", "mod_assign_save_user_extensions", "mod_assign_get_user_flags",
    "mod_quiz_get_quizzes_by_courses", "mod_quiz_save_overrides", "mod_quiz_get_overrides",
    "mod_quiz_delete_overrides", "core_courseformat_update_course", "core_update_inplace_editable",
    "core_course_get_courses_by_field", "core_group_get_course_groups",
    "mod_assign_save_overrides", "mod_assign_get_overrides", "mod_assign_delete_overrides",
)

# Core functions that local_lmsbridge's pre-built "lms_bridge" service (db/services.php) lists beyond
# the recorded custom service: with the plugin they are in the service, without it (the recorded
# service) an administrator adds them (`extra_functions` here). Clarifications: the course's
# Announcements forum.
PLUGIN_SERVICE_CORE = ("mod_forum_get_forums_by_courses", "mod_forum_get_forum_discussions",
                       "mod_forum_add_discussion")

# Real core functions the simulator does not implement: they exist, so calling one is an access
# exception (not in the service), never "function does not exist".
OTHER_CORE_FUNCTIONS = frozenset({
    "core_user_get_users_by_field", "core_user_get_users", "core_course_edit_section", "core_course_edit_module",
    "core_courseformat_get_state", "core_courseformat_new_module", "core_courseformat_create_module",
    "core_course_get_course_module_by_instance", "core_course_get_courses", "core_course_update_courses",
    "core_course_import_course", "core_course_duplicate_course", "core_course_create_courses",
    "core_files_upload", "core_files_get_unused_draft_itemid", "core_group_get_groups",
    "core_group_get_group_members", "core_group_create_groups", "core_group_add_group_members",
    "core_enrol_get_users_courses", "enrol_manual_enrol_users", "core_role_assign_roles",
    "core_calendar_create_calendar_events", "mod_assign_set_user_flags", "mod_assign_save_submission",
    "mod_assign_get_submission_status", "mod_quiz_get_quiz_access_information", "mod_quiz_get_user_attempts",
    "mod_assign_lock_submissions", "mod_assign_get_grades",
})


def register(fn: ExternalFunction) -> ExternalFunction:
    FUNCTIONS[fn.name] = fn
    return fn


def service_functions(config: SimulatorConfig) -> list[ExternalFunction]:
    """What `core_webservice_get_site_info` lists: the service's functions that exist in this Moodle."""
    _load()
    if config.service_functions is not None:
        names = list(config.service_functions)
    else:
        names = list(DEFAULT_SERVICE)
        names += [f.name for f in FUNCTIONS.values() if f.in_service and f.name not in names]
        if config.plugin:
            names += [n for n in PLUGIN_SERVICE_CORE if n not in names]
    names += [n for n in config.extra_functions if n not in names]
    return [FUNCTIONS[n] for n in names if n in FUNCTIONS and FUNCTIONS[n].exists(config)]


def lookup(name: str, config: SimulatorConfig) -> ExternalFunction | None:
    _load()
    fn = FUNCTIONS.get(name)
    return fn if fn is not None and fn.exists(config) else None


_LOADING = threading.RLock()
_loaded = False


def _load() -> None:
    # Under a lock: the server's threads would otherwise see a half-registered function list.
    # A flag, not "FUNCTIONS is empty": importing one api module directly registers only its own.
    global _loaded
    with _LOADING:
        if _loaded:
            return
        import importlib

        for module in ("api_site", "api_course", "api_assign", "api_quiz", "api_plugin", "api_forum"):
            importlib.import_module(f"{__package__}.{module}")  # each registers its functions
        _loaded = True
