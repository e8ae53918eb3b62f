"""`lms-bridge`: the command line of INTERFACES.md.

Every command validates all of its input before doing anything, prints problems to stderr
naming file, row and column, and exits 2 on bad input with nothing applied.
"""

from __future__ import annotations

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
def incident(policy: str, timetable: str, plans: str, candidates: str, exam_id: str, start: str, end: str, fmt: str) -> None:
    """Decide what an incident (outage, fire alarm) means for an exam's candidates."""
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


@main.command()
@policy_option
@timetable_option
@candidates_option
@click.option("--plans", default=None, type=click.Path(dir_okay=False), help="plans.csv (not needed for staggering)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def stagger(policy: str, timetable: str, candidates: str, plans: str | None, fmt: str) -> None:
    """Propose release shifts (15 or 30 min) where too many candidates start at once."""
    pol, _, period = _load(policy, timetable, plans or _EMPTY_PLANS, candidates)
    plan = services.staggering_for(pol, period)
    limit = pol.staggering.max_concurrent_starts
    click.echo(report.shifts_json(plan) if fmt == "json" else report.shifts_table(plan, limit, pol.calendar.zone))


_EMPTY_PLANS = str(Path(__file__).parent / "inputs" / "no_plans.csv")


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
    with db.session_factory(engine)() as session, session.begin():
        summary = import_period(
            session, period, policy_name=pol.name, policy_text=text, actor=who, now=datetime.now(UTC), replace=replace
        )
    click.echo(f"Imported into {_shown(url)}:")
    for kind in ("exams", "plans", "sittings"):
        c = getattr(summary, kind)
        click.echo(
            f"  {kind:<9} {c.created} added, {c.updated} changed, {c.unchanged} unchanged, "
            f"{c.removed} removed, {c.kept} kept (not in the files)"
        )
    click.echo(f"  policy    {pol.name}{' (now in use)' if summary.policy_activated else ' (already in use)'}")


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
@click.option("--policy", default="nottingham", show_default=True, help="Which sample exam period to show.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def demo(policy: str, fmt: str) -> None:
    """Windows for the sample exam period shipped in config/samples, on embedded defaults."""
    folder = config_dir() / "samples" / policy
    if not folder.is_dir():
        _fail([f"no sample exam period for policy {policy!r} in {folder.parent}"])
    ctx = click.get_current_context()
    ctx.invoke(
        windows, policy=policy, timetable=str(folder / "timetable.csv"), plans=str(folder / "plans.csv"),
        candidates=str(folder / "candidates.csv"), fmt=fmt,
    )


if __name__ == "__main__":
    main()
