"""What a Moodle site offers, and the path the adapter takes there.

One ``core_webservice_get_site_info`` per connection gives the release and the functions the
token's service exposes (moodle-ws.md §1.1, §6). From them:

| site                                   | exam area, activities, paper      | assign per-student windows          |
|----------------------------------------|-----------------------------------|-------------------------------------|
| any release, companion plugin          | plugin (local_lmsbridge_*)        | 5.3+: core mod_assign_*_overrides;  |
|                                        |                                   | else the plugin's assign overrides  |
| core only, 5.3+                        | section by core; the rest by hand | core mod_assign_*_overrides         |
| core only, before 5.3                  | section by core; the rest by hand | mod_assign_save_user_extensions     |
|                                        |                                   | (a later end only)                  |

Quizzes always take core ``mod_quiz_*_overrides`` (Moodle 4.4+). A function the chosen path
needs but the service lacks is a :class:`MoodleMissingFunction` naming it, raised when it is
first needed (a read at plan time, a write at apply time).
"""

from __future__ import annotations

from dataclasses import dataclass

from .client import SiteInfo
from .errors import MoodleMissingFunction

PLUGIN = (
    "local_lmsbridge_upsert_activity",
    "local_lmsbridge_get_activities",
    "local_lmsbridge_update_section",
    "local_lmsbridge_set_availability",
    "local_lmsbridge_attach_paper",
)
PLUGIN_ASSIGN_OVERRIDES = (
    "local_lmsbridge_save_assign_overrides",
    "local_lmsbridge_get_assign_overrides",
    "local_lmsbridge_delete_assign_overrides",
)
CORE_ASSIGN_OVERRIDES = ("mod_assign_save_overrides", "mod_assign_get_overrides", "mod_assign_delete_overrides")
QUIZ_OVERRIDES = ("mod_quiz_save_overrides", "mod_quiz_get_overrides", "mod_quiz_delete_overrides")
EXTENSIONS = ("mod_assign_save_user_extensions", "mod_assign_get_user_flags")
CORE_READS = ("core_course_get_contents", "mod_quiz_get_quizzes_by_courses", "mod_assign_get_assignments")
CORE_FORMAT = ("core_courseformat_update_course", "core_update_inplace_editable")


@dataclass(frozen=True)
class SitePath:
    """The detected site and the path taken there."""

    site: SiteInfo
    plugin: bool  # the companion plugin's functions are in the service
    assign_overrides: str  # "core" (5.3+), "plugin" (local_lmsbridge_*_assign_overrides) or "extensions"

    @classmethod
    def detect(cls, site: SiteInfo) -> SitePath:
        plugin = any(f in site.functions for f in PLUGIN)
        if site.offers(*CORE_ASSIGN_OVERRIDES):
            assign = "core"
        elif plugin and any(f in site.functions for f in PLUGIN_ASSIGN_OVERRIDES):
            assign = "plugin"
        elif plugin and site.branch < (5, 3):
            assign = "plugin"  # the plugin offers them before 5.3; a missing one is named when needed
        else:
            assign = "extensions"
        return cls(site, plugin, assign)

    @property
    def release(self) -> str:
        return self.site.release or f"version {self.site.version}"

    def describe(self) -> str:
        how = "with the lms_bridge plugin" if self.plugin else "core web services only"
        assign = {"core": "core assign overrides", "plugin": "the plugin's assign overrides",
                  "extensions": "assign extensions (a later end only)"}[self.assign_overrides]
        return f"Moodle {self.release}, {how}; drop-boxes' per-student windows by {assign}"

    def offers(self, *functions: str) -> bool:
        return self.site.offers(*functions)

    def need(self, function: str, purpose: str) -> None:
        """Raise :class:`MoodleMissingFunction` unless the token's service offers ``function``."""
        if function not in self.site.functions:
            raise MoodleMissingFunction(function, purpose)

    @property
    def assign_override_functions(self) -> tuple[str, str, str]:
        """(save, get, delete) for assign overrides on this path."""
        if self.assign_overrides == "core":
            return CORE_ASSIGN_OVERRIDES  # type: ignore[return-value]
        return PLUGIN_ASSIGN_OVERRIDES  # type: ignore[return-value]
