"""`lms-bridge`: the command line of INTERFACES.md.

Every command validates all of its input before doing anything, prints problems to stderr
naming file, row and column, and exits 2 on bad input with nothing applied.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn, TypeVar

import click

from . import report, services
from .domain.incidents import IncidentError
from .domain.model import ExamPeriod
from .domain.policy import Policy, PolicyError
from .inputs import InputErrors, read_period
from .inputs.values import parse_instant
from .jobs.cli import apply_options as _apply_options
from .policies import config_dir, load_policy

MAX_PROBLEMS_SHOWN = 50
T = TypeVar("T")

policy_option = click.option(
    "--policy", required=True, metavar="NAME_OR_PATH",
    help="A policy from config/policies (nottingham, qmu, default) or a path to a policy file.",
)
timetable_option = click.option("--timetable", required=True, type=click.Path(dir_okay=False), help="timetable.csv")
plans_option = click.option("--plans", required=True, type=click.Path(dir_okay=False), help="plans.csv (support plans)")
candidates_option = click.option("--candidates", required=True, type=click.Path(dir_okay=False), help="candidates.csv")


def _fail(lines: list[str], code: int = 2) -> NoReturn:
    shown = lines[:MAX_PROBLEMS_SHOWN]
    for line in shown:
        click.echo(f"lms-bridge: {line}", err=True)
    if len(lines) > len(shown):
        click.echo(f"lms-bridge: … and {len(lines) - len(shown)} more problems", err=True)
    sys.exit(code)


def _guarded(action: Callable[[], T]) -> T:
    """Run `action`, turning input problems into a clear message and exit status 2."""
    try:
        return action()
    except InputErrors as exc:
        n = len(exc.problems)
        _fail([f"{n} problem{'s' if n > 1 else ''} in the input; nothing was used."] + [str(p) for p in exc.problems])
    except (PolicyError, IncidentError) as exc:
        _fail(str(exc).splitlines())


def _load(policy: str, timetable: str, plans: str, candidates: str | None) -> tuple[Policy, str, ExamPeriod]:
    def load() -> tuple[Policy, str, ExamPeriod]:
        pol, text = load_policy(policy)
        return pol, text, read_period(pol, timetable, plans, candidates)

    return _guarded(load)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lms-bridge")
def main() -> None:
    """lms_bridge: exam windows computed from policy, for Canvas and Moodle."""


@main.command()
@policy_option
@timetable_option
@plans_option
@candidates_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def windows(policy: str, timetable: str, plans: str, candidates: str, fmt: str) -> None:
    """Print every candidate's window, with the rules that shaped it."""
    pol, _, period = _load(policy, timetable, plans, candidates)
    result = services.windows_for(pol, period)
    if fmt == "json":
        report.write_windows_json(sys.stdout, pol.name, result.windows, result.warnings)
    else:
        click.echo(report.windows_table(result.windows, result.warnings, pol.calendar.zone))


@main.command()
@policy_option
@timetable_option
@plans_option
@candidates_option
@click.option("--exam", "exam_id", required=True, help="The disrupted exam's id.")
@click.option("--from", "start", required=True, help='Disruption start, "YYYY-MM-DD HH:MM" local time.')
@click.option("--to", "end", required=True, help='Disruption end, "YYYY-MM-DD HH:MM" local time.')
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@_apply_options
def incident(policy: str, timetable: str, plans: str, candidates: str, exam_id: str, start: str, end: str, fmt: str,
             apply_it: bool, database: str | None, actor: str | None, **conn: str | None) -> None:
    """Decide what an incident (outage, fire alarm) means for an exam's candidates.

    With --apply it is recorded in the store and an `extend` is made in the LMS at once (stdout
    is unchanged; what was done goes to stderr)."""
    pol, _, period = _load(policy, timetable, plans, candidates)
    zone = pol.calendar.zone

    def when(option: str, text: str) -> datetime:
        try:
            return parse_instant(text.strip(), zone)
        except ValueError as exc:
            _fail([f"--{option}: {exc}"])

    begins, ends = when("from", start), when("to", end)
    decision = _guarded(lambda: services.incident_for(pol, period, exam_id, begins, ends))
    if fmt == "json":
        click.echo(report.incident_json(exam_id, decision))
    else:
        click.echo(report.incident_table(exam_id, decision, zone))
    if apply_it:
        from .jobs.cli import apply_incident

        code = apply_incident(pol, period, exam_id, begins, ends, decision, database, actor, conn)
        if code:
            sys.exit(code)


@main.command()
@policy_option
@timetable_option
@candidates_option
@click.option("--plans", default=None, type=click.Path(dir_okay=False), help="plans.csv (not needed for staggering)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@_apply_options
def stagger(policy: str, timetable: str, candidates: str, plans: str | None, fmt: str,
            apply_it: bool, database: str | None, actor: str | None, **conn: str | None) -> None:
    """Propose release shifts (15 or 30 min) where too many candidates start at once.

    With --apply the shifts are recorded in the store and the releases moved in the LMS."""
    if apply_it and plans is None:
        _fail(["--apply needs --plans: the LMS holds every candidate's window, plans included"])
    pol, _, period = _load(policy, timetable, plans or _EMPTY_PLANS, candidates)
    plan = services.staggering_for(pol, period)
    limit = pol.staggering.max_concurrent_starts
    click.echo(report.shifts_json(plan) if fmt == "json" else report.shifts_table(plan, limit, pol.calendar.zone))
    if apply_it:
        from .jobs.cli import apply_stagger

        code = apply_stagger(pol, period, plan, database, actor, conn)
        if code:
            sys.exit(code)


_EMPTY_PLANS = str(Path(__file__).parent / "inputs" / "no_plans.csv")


def _connection_options(f):  # noqa: ANN001, ANN201 - a decorator
    for name, help_ in (
        ("--moodle-token", "Moodle web-service token (or $LMS_BRIDGE_MOODLE_TOKEN)."),
        ("--moodle-url", "Moodle site URL (or $LMS_BRIDGE_MOODLE_URL)."),
        ("--canvas-token", "Canvas API token (or $LMS_BRIDGE_CANVAS_TOKEN)."),
        ("--canvas-url", "Canvas base URL (or $LMS_BRIDGE_CANVAS_URL)."),
    ):
        f = click.option(name, default=None, help=help_)(f)
    return f


def _sync_options(f):  # noqa: ANN001, ANN201 - a decorator
    f = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)(f)
    f = click.option("--papers", default=None, type=click.Path(file_okay=False, exists=True),
                     help="A folder of exam papers named <exam_id>.<ext>, uploaded to each exam area.")(f)
    f = _connection_options(f)
    f = plans_option(f)
    f = timetable_option(f)
    return policy_option(f)


def _papers(folder: str | None) -> dict:
    from .sync.desired import Paper

    if folder is None:
        return {}
    return {p.stem: Paper(p.suffix, p.read_bytes()) for p in sorted(Path(folder).iterdir()) if p.is_file()}


def _sync(policy: str, timetable: str, plans: str, papers: str | None, fmt: str, apply_it: bool,
          database: str | None = None, **conn_options: str | None) -> None:
    import asyncio

    from .connections import Connections, open_connections
    from .sync import render
    from .sync.engine import apply_sync, plan_sync

    from .jobs.converge import shifted
    from .jobs.locks import course_locks, stored_adjustments
    from .lms import CourseRef

    pol, _, period = _load(policy, timetable, plans, None)
    connections = Connections.from_options(**conn_options)
    zone = pol.calendar.zone
    paper_files = _papers(papers)
    engine = _store_engine(database, create=apply_it)
    # What the exams office applied through the store (staggered releases, incident
    # extensions) stays applied: an apply from the files alone would undo it.
    shifts, extensions = stored_adjustments(engine) if engine is not None else ({}, ())
    period = shifted(period, shifts)

    async def run() -> None:
        async with open_connections(connections, zone) as conns:
            plan = await plan_sync(pol, period, conns.adapters, paper_files, extensions=extensions)
            drift = render.drift_entries(plan)
            if not apply_it:
                if fmt == "json":
                    click.echo(render.summary_json(plan, conns.reads, conns.writes, drift))
                else:
                    click.echo(render.plan_text(plan, zone))
                return
            if fmt == "text":
                click.echo(render.plan_text(plan, zone))
            courses = {CourseRef.parse(e.course) for e in period.exams if e.course}
            # The job system's course locks: no worker converges these courses meanwhile.
            with course_locks(engine, courses, f"cli:{os.getpid()}"):
                await apply_sync(plan, conns.adapters, _audit_sink(engine), _progress(len(plan.operations), fmt))
            done = sum(c.applied for c in plan.courses)
            if fmt == "json":
                click.echo(render.summary_json(plan, conns.reads, conns.writes, drift))
            else:
                click.echo(f"\nApplied {done} of {len(plan.operations)} changes: {conns.reads} reads, "
                           f"{conns.writes} writes.")
                for c in plan.courses:
                    if c.failed:
                        click.echo(f"FAILED {c.course}: {c.error or c.failed_at}", err=True)
            if any(c.failed for c in plan.courses):
                sys.exit(1)

    from .jobs.handlers import CourseBusy

    try:
        asyncio.run(run())
    except CourseBusy as busy:
        _fail([str(busy)], code=1)


def _store_engine(database: str | None, *, create: bool):  # noqa: ANN202
    """The store's engine, migrated; for a read-only command, None when no store exists yet."""
    from .store import database as db

    url = db.database_url(database)
    if not create and database is None and url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    engine = db.make_engine(url)
    db.upgrade(engine)
    return engine


def _audit_sink(engine):  # noqa: ANN001, ANN202
    import getpass

    from .store import database as db
    from .store.audit import StoreAuditSink

    return StoreAuditSink(db.session_factory(engine), f"cli:{getpass.getuser()}", lambda: datetime.now(UTC))


def _progress(total: int, fmt: str):  # noqa: ANN202
    """A progress bar on stderr for people; nothing for scripts."""
    if fmt == "json" or total == 0:
        return None
    from rich.progress import Progress

    bar = Progress(transient=True, console=None)
    bar.start()
    task = bar.add_task("applying", total=total)

    def step(op, ok: bool) -> None:  # noqa: ANN001
        bar.update(task, advance=1, description=op.exam_id)
        if bar.finished:
            bar.stop()

    return step


@main.command()
@_sync_options
@click.option("--database", default=None, metavar="URL",
              help="The store whose staggered releases and incident extensions count (default as for import, if it exists).")
def plan(policy: str, timetable: str, plans: str, papers: str | None, fmt: str, database: str | None, **conn: str | None) -> None:
    """Read each course back from its LMS and show what apply would change; writes nothing."""
    _sync(policy, timetable, plans, papers, fmt, apply_it=False, database=database, **conn)


@main.command()
@_sync_options
@click.option("--database", default=None, metavar="URL", help="Where the audit log goes (default as for import).")
def apply(policy: str, timetable: str, plans: str, papers: str | None, fmt: str, database: str | None, **conn: str | None) -> None:
    """Converge every course to the timetable and plans; every write goes to the audit log."""
    _sync(policy, timetable, plans, papers, fmt, apply_it=True, database=database, **conn)


@main.command(name="import")
@policy_option
@timetable_option
@plans_option
@click.option("--candidates", default=None, type=click.Path(dir_okay=False), help="candidates.csv (optional)")
@click.option("--database", default=None, metavar="URL", help="SQLAlchemy URL; default $LMS_BRIDGE_DATABASE_URL or sqlite:///lms_bridge.db")
@click.option("--replace", is_flag=True, help="Remove exams, plans and sittings that the files no longer list.")
@click.option("--actor", default=None, help="Who is importing, for the audit log (default: the OS user).")
def import_(policy: str, timetable: str, plans: str, candidates: str | None, database: str | None, replace: bool, actor: str | None) -> None:
    """Validate the files, then store timetable, plans and sittings in one transaction."""
    import getpass

    from .store import database as db
    from .store.repositories import import_period

    pol, text, period = _load(policy, timetable, plans, candidates)
    url = db.database_url(database)
    engine = db.make_engine(url)
    db.upgrade(engine)
    who = actor or f"cli:{getpass.getuser()}"
    from .jobs.cli import queue_after_import
    from .store.repositories import load_period

    with db.session_factory(engine)() as session, session.begin():
        before = load_period(session)
        summary = import_period(
            session, period, policy_name=pol.name, policy_text=text, actor=who, now=datetime.now(UTC), replace=replace
        )
        queued = queue_after_import(session, before, who, summary) if summary.changed else 0
    click.echo(f"Imported into {_shown(url)}:")
    for kind in ("exams", "plans", "sittings"):
        c = getattr(summary, kind)
        click.echo(
            f"  {kind:<9} {c.created} added, {c.updated} changed, {c.unchanged} unchanged, "
            f"{c.removed} removed, {c.kept} kept (not in the files)"
        )
    click.echo(f"  policy    {pol.name}{' (now in use)' if summary.policy_activated else ' (already in use)'}")
    if queued:
        click.echo(f"  jobs      a reconcile of {queued} changed courses is queued for the workers")


@main.group()
def db() -> None:
    """The store: create or upgrade its schema."""


@db.command()
@click.option("--database", default=None, metavar="URL")
def upgrade(database: str | None) -> None:
    """Create the database schema or upgrade it to the newest version."""
    from .store import database as store_db

    url = store_db.database_url(database)
    store_db.upgrade(store_db.make_engine(url))
    click.echo(f"{_shown(url)} is at the newest schema.")


def _shown(url: str) -> str:
    """A database URL fit to print: never its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.command()
@click.argument("lms", type=click.Choice(["canvas", "moodle"]))
@click.option("--port", type=int, required=True, help="Port on 127.0.0.1.")
@click.option("--token", default=None, help="The admin token it accepts (default printed at start).")
@click.option("--timetable", default=None, type=click.Path(dir_okay=False, exists=True))
@click.option("--candidates", default=None, type=click.Path(dir_okay=False, exists=True))
@click.option("--latency-ms", type=float, default=0.0, show_default=True)
@click.option("--fault-rate", type=float, default=0.0, show_default=True, help="Share of requests answered 5xx.")
@click.option("--moodle-version", type=click.Choice(["4.5", "5.0", "5.3"]), default="4.5", show_default=True,
              help="Which Moodle release `simulate moodle` plays.")
@click.option("--without-plugin", is_flag=True, help="Moodle without the local_lmsbridge companion plugin.")
def simulate(lms: str, port: int, token: str | None, timetable: str | None, candidates: str | None,
             latency_ms: float, fault_rate: float, moodle_version: str, without_plugin: bool) -> None:
    """Run an LMS simulator on 127.0.0.1:PORT until interrupted."""
    if (timetable is None) != (candidates is None):
        _fail(["--timetable and --candidates go together"])
    if lms == "moodle":
        from adapters.moodle.simulator import serve_forever as serve_moodle

        try:
            serve_moodle(port, token, timetable, candidates, latency_ms, fault_rate,
                         version=moodle_version, plugin=not without_plugin)
        except ValueError as error:
            _fail([str(error)])
        return
    from adapters.canvas.simulator import serve_forever

    serve_forever(port, token, timetable, candidates, latency_ms, fault_rate)


@main.command()
@click.option("--policy", default="qmu", show_default=True,
              help="Which sample exam period (qmu's courses are in Canvas).")
def demo(policy: str) -> None:
    """The whole job on embedded defaults: a simulated Canvas seeded with the sample exam
    period, a plan, an apply (audited in the SQLite store), and a re-plan that finds nothing to do."""
    from adapters.canvas.simulator import SimulatorConfig, SimulatorServer, seed_from_files

    folder = config_dir() / "samples" / policy
    if not folder.is_dir():
        _fail([f"no sample exam period for policy {policy!r} in {folder.parent}"])
    files = {name: str(folder / f"{name}.csv") for name in ("timetable", "plans", "candidates")}
    with SimulatorServer(SimulatorConfig()) as server:
        seeded = seed_from_files(server.sim, files["timetable"], files["candidates"])
        click.echo(f"Simulated Canvas at {server.base_url} with {len(seeded.courses)} courses "
                   f"and {len(seeded.students)} students.\n")
        conn = {"canvas_url": server.base_url, "canvas_token": server.token, "moodle_url": None, "moodle_token": None}
        _sync(policy, files["timetable"], files["plans"], None, "text", apply_it=True, **conn)
        click.echo("\nRe-reading every course:")
        _sync(policy, files["timetable"], files["plans"], None, "json", apply_it=False, **conn)


from .lti.cli import lti as _lti_group  # noqa: E402 - the LTI layer's commands (lms_bridge.lti.cli)
from .web.cli import serve as _serve_command  # noqa: E402

main.add_command(_lti_group)
main.add_command(_serve_command)

from .jobs.cli import jobs as _jobs_group  # noqa: E402 - the job system's commands (lms_bridge.jobs.cli)
from .jobs.cli import worker as _worker_command  # noqa: E402

main.add_command(_jobs_group)
main.add_command(_worker_command)


if __name__ == "__main__":
    main()
