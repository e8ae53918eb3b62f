"""A Moodle simulator: the web-service surface lms_bridge uses, over real HTTP.

    with SimulatorServer(SimulatorConfig(version="4.5", plugin=True)) as server:
        seed_from_files(server.sim, "timetable.csv", "candidates.csv")
        ...  # point the Moodle adapter at server.base_url with server.token
        server.stats.snapshot()                    # also GET /__sim/stats

It speaks Moodle's REST protocol at /webservice/rest/server.php (form-encoded bracket arrays,
`moodlewsrestformat=json` or XML, every error an HTTP 200 exception body), serves
/webservice/upload.php (draft files) and, with `plugin=True`, local_lmsbridge's functions
(adapters/moodle/plugin/CONTRACT.md). `version` selects 4.5, 5.0 or 5.3 (assignment override
functions only in 5.3; the plugin's assignment-override functions only before 5.3).

Seeding in Python (`server.sim`, a MoodleSimulator; core web services cannot create activities,
so tests put them in state): `create_course`, `create_user`, `enrol`, `unenrol`, `create_group`,
`add_to_group`, `remove_from_group`, `create_section`, `create_assign`, `create_quiz`,
`create_forum`, `post_discussion`, `add_token` / `grant` / `revoke` (capabilities per token), `seed_reference_site()`
(the site the fixtures were recorded on, ids and all) and `seed_from_files()`.

Drift "by hand" (what a teacher editing in the browser does): `update_quiz(quizid, timeclose=…)`,
`update_assign(assignid, duedate=…)`, `hide_module`, `show_module`, `stealth_module`,
`rename_module`, `move_module(cmid, section_number)`, `delete_module`, `set_module_idnumber`,
`set_module_availability`, `rename_section(sectionid, name)`, `hide_section`, `show_section`,
`set_section_summary`, `set_section_availability`, `delete_section`, `update_quiz_override`,
`delete_quiz_override`, `update_assign_override`, `delete_assign_override`,
`set_extension(assignid, userid, date)`.

Faults (`server.faults`, by function name, `re.fullmatch`): `fail_next(n, "mod_quiz_save_overrides",
503, after=False)`, `drop_next(function, n, after=…)`, `timeout_next(function, n, after=…, seconds=…)`;
random ones from `fault_rate`, `timeout_rate`, `drop_rate` (seeded). See README.md for the quirks.
"""

from __future__ import annotations

from pathlib import Path

from adapters.simkit.server import serve_until_interrupted

from .app import create_app
from .config import (
    ALL_CAPABILITIES,
    DEFAULT_CAPABILITIES,
    READ_CAPABILITIES,
    VERSIONS,
    SimulatorConfig,
)
from .errors import MoodleError
from .faults import FaultInjector
from .seed import SeedResult, seed_from_files, seed_reference_site
from .server import SimulatorServer
from .state import MoodleSimulator

__all__ = [
    "ALL_CAPABILITIES",
    "DEFAULT_CAPABILITIES",
    "READ_CAPABILITIES",
    "VERSIONS",
    "FaultInjector",
    "MoodleError",
    "MoodleSimulator",
    "SeedResult",
    "SimulatorConfig",
    "SimulatorServer",
    "create_app",
    "seed_from_files",
    "seed_reference_site",
    "serve_forever",
]


def serve_forever(
    port: int,
    token: str | None = None,
    timetable: str | Path | None = None,
    candidates: str | Path | None = None,
    latency_ms: float = 0.0,
    fault_rate: float = 0.0,
    version: str = "4.5",
    plugin: bool = True,
) -> None:
    """`lms-bridge simulate moodle`: serve on 127.0.0.1:port until Ctrl-C."""
    if (timetable is None) != (candidates is None):
        raise ValueError("--timetable and --candidates go together")
    config = SimulatorConfig(token=token or SimulatorConfig().token, version=version, plugin=plugin,
                             latency_ms=latency_ms, fault_rate=fault_rate, seed=None)
    server = SimulatorServer(config, port=port)
    seeded = seed_from_files(server.sim, timetable, candidates) if timetable and candidates else None
    mode = "with local_lmsbridge" if plugin else "core only (no plugin)"
    serve_until_interrupted(server, lambda: [
        f"Moodle {config.moodle.release} simulator at {server.base_url}  ({mode})", f"REST: {server.rest_url}"],
        seeded)
