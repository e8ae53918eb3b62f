"""`lms-bridge worker` and `lms-bridge jobs …`: the job system from the command line.

    lms-bridge worker [--database URL] [--canvas-url … --canvas-token …] [--node NAME]
                      [--concurrency N] [--no-scheduler] [--lease-ttl S] [--tick S] …
    lms-bridge jobs run-due        one leader tick and every due item, in this process, then exit
    lms-bridge jobs list           the queue (--state, --kind)
    lms-bridge jobs status         every exam's status and last LMS read
    lms-bridge jobs alerts         alerts (--open), `--ack ID` to acknowledge
    lms-bridge jobs lease          who leads
    lms-bridge jobs enqueue KIND k=v …   queue work by hand (ids only)
    lms-bridge jobs retry ID       make a failed item due again
    lms-bridge jobs clarify --exam E --subject S (--message T | --message-file F)
"""

from __future__ import annotations

import getpass
import json
import logging
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # imported when used: `lms-bridge windows` need not load the job system
    from ..connections import Connections
    from .handlers import JobContext
    from .settings import JobSettings

log = logging.getLogger("lms_bridge.jobs")


class _LazyDb:
    def __getattr__(self, name: str) -> Any:
        from ..store import database

        return getattr(database, name)


db = _LazyDb()


def connections_for(engine, **options: str | None) -> Connections:  # noqa: ANN001
    """Options, then $LMS_BRIDGE_*, then the first stored connection of each kind."""
    from ..connections import Connections
    from ..store.repositories import list_lms_connections

    conn = Connections.from_options(**options)
    missing = {k for k in ("canvas", "moodle") if not (getattr(conn, f"{k}_url") and getattr(conn, f"{k}_token"))}
    if not missing:
        return conn
    values = {f.name: getattr(conn, f.name) for f in conn.__dataclass_fields__.values()}
    with db.session_factory(engine)() as session:
        for stored in list_lms_connections(session):
            if stored.kind in missing:
                values[f"{stored.kind}_url"], values[f"{stored.kind}_token"] = stored.base_url, stored.token
                missing.discard(stored.kind)
    return Connections(**values)


def make_context(database: str | None, node: str | None = None, settings: JobSettings | None = None,
                 papers: str | None = None, **conn_options: str | None) -> JobContext:
    from ..sync.desired import Paper
    from .alerts import AlertSink
    from .handlers import JobContext
    from .settings import JobSettings
    from .worker import default_node_name

    url = db.database_url(database)
    engine = db.make_engine(url)
    db.upgrade(engine)
    settings = settings or JobSettings.from_env()
    paper_files = None
    if papers:
        paper_files = {p.stem: Paper(p.suffix, p.read_bytes()) for p in sorted(Path(papers).iterdir()) if p.is_file()}
    return JobContext(engine=engine, node=node or default_node_name(),
                      connections=connections_for(engine, **conn_options), settings=settings,
                      alerts=AlertSink(settings.webhook_url), papers=paper_files)


def _connection_options(f):  # noqa: ANN001, ANN202
    for name, help_ in (
        ("--moodle-token", "Moodle web-service token (or $LMS_BRIDGE_MOODLE_TOKEN)."),
        ("--moodle-url", "Moodle site URL (or $LMS_BRIDGE_MOODLE_URL)."),
        ("--canvas-token", "Canvas API token (or $LMS_BRIDGE_CANVAS_TOKEN)."),
        ("--canvas-url", "Canvas base URL (or $LMS_BRIDGE_CANVAS_URL)."),
    ):
        f = click.option(name, default=None, help=help_)(f)
    return f


database_option = click.option("--database", default=None, metavar="URL",
                               help="SQLAlchemy URL; default $LMS_BRIDGE_DATABASE_URL or sqlite:///lms_bridge.db")


def _settings(**options) -> JobSettings:  # noqa: ANN003
    from .settings import JobSettings

    return JobSettings.from_env(**options)


def _logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _schedule_options(f):  # noqa: ANN001, ANN202
    f = click.option("--apply-before-minutes", type=int, default=None, help="Apply each exam this long before it starts (default 1440).")(f)
    f = click.option("--verify-before-minutes", type=int, default=None, help="Verify each exam this long before it starts (default 30).")(f)
    f = click.option("--nightly-at", default=None, metavar="HH:MM", help="Nightly reconcile, policy-zone time (default 02:30).")(f)
    f = click.option("--roster-check-minutes", type=float, default=None, help="Reconcile courses with an exam in its apply window this often (0: nightly only).")(f)
    return f


@click.command()
@database_option
@_connection_options
@_schedule_options
@click.option("--node", default=None, help="This node's name (default host:pid); unique per process.")
@click.option("--concurrency", type=int, default=None, help="Items run at once (default 2).")
@click.option("--no-scheduler", is_flag=True, help="Work only; never lead.")
@click.option("--lease-ttl", type=float, default=None, help="Leader lease, seconds (default 30).")
@click.option("--tick", type=float, default=None, help="Leader tick, seconds (default 15).")
@click.option("--visibility", type=float, default=None, help="Claim visibility, seconds (default 120).")
@click.option("--poll", type=float, default=None, help="Idle poll, seconds (default 1).")
@click.option("--papers", default=None, type=click.Path(file_okay=False, exists=True),
              help="A folder of exam papers named <exam_id>.<ext>.")
@click.option("-v", "--verbose", is_flag=True)
def worker(database: str | None, node: str | None, concurrency: int | None, no_scheduler: bool,
           lease_ttl: float | None, tick: float | None, visibility: float | None, poll: float | None,
           papers: str | None, verbose: bool, apply_before_minutes: int | None, verify_before_minutes: int | None,
           nightly_at: str | None, roster_check_minutes: int | None, **conn: str | None) -> None:
    """Run a job node: claim and run due work; lead (enqueue due work) while holding the lease."""
    from .worker import Node

    _logging(verbose)
    settings = _settings(concurrency=concurrency, lease_ttl_seconds=lease_ttl, tick_seconds=tick,
                         visibility_seconds=visibility, poll_seconds=poll, apply_before_minutes=apply_before_minutes,
                         verify_before_minutes=verify_before_minutes, nightly_at=nightly_at,
                         roster_check_minutes=roster_check_minutes)
    ctx = make_context(database, node, settings, papers, **conn)
    stop = threading.Event()

    def on_signal(signum, _frame) -> None:  # noqa: ANN001
        log.info("node %s stopping (signal %d); finishing work in hand", ctx.node, signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("node %s started (%s)", ctx.node, "worker only" if no_scheduler else "worker and scheduler candidate")
    Node(ctx, scheduler=not no_scheduler).run(stop)


@click.group()
def jobs() -> None:
    """The job queue: run due work, list it, exam status, alerts, the lease."""


@jobs.command("run-due")
@database_option
@_connection_options
@_schedule_options
@click.option("--no-tick", is_flag=True, help="Run what is queued; do not enqueue what has fallen due.")
@click.option("--max-items", type=int, default=None)
@click.option("-v", "--verbose", is_flag=True)
def run_due(database: str | None, no_tick: bool, max_items: int | None, verbose: bool,
            apply_before_minutes: int | None, verify_before_minutes: int | None, nightly_at: str | None,
            roster_check_minutes: int | None, **conn: str | None) -> None:
    """Enqueue what has fallen due (taking the lease), run every due item here, and exit."""
    from .worker import Node

    _logging(verbose)
    settings = _settings(apply_before_minutes=apply_before_minutes, verify_before_minutes=verify_before_minutes,
                         nightly_at=nightly_at, roster_check_minutes=roster_check_minutes)
    ctx = make_context(database, None, settings, **conn)
    node = Node(ctx)
    enqueued = None
    if not no_tick:
        enqueued = node.lead_once()
        node.lease.release()
        if enqueued is None:
            click.echo("another node holds the scheduler lease: nothing enqueued here", err=True)
    ran = node.worker.drain(max_items)
    click.echo(json.dumps({"enqueued": enqueued or 0, "ran": ran, "completed": node.worker.completed}))


def _engine(database: str | None):  # noqa: ANN202
    engine = db.make_engine(db.database_url(database))
    db.upgrade(engine)
    return engine


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@jobs.command("list")
@database_option
@click.option("--state", type=click.Choice(["pending", "running", "done", "failed"]), default=None)
@click.option("--kind", default=None)
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def list_(database: str | None, state: str | None, kind: str | None, limit: int, fmt: str) -> None:
    """The queue, latest due first."""
    from ..report import table
    from .office import list_work

    with db.session_factory(_engine(database))() as session:
        items = list_work(session, state=state, kind=kind, limit=limit)
    if fmt == "json":
        click.echo(json.dumps([{"id": i.id, "kind": i.kind, "args": i.args, "state": i.state,
                                "due_at": _iso(i.due_at), "attempts": i.attempts, "claimed_by": i.claimed_by,
                                "result": i.result, "error": i.error} for i in items]))
        return
    click.echo(table(("id", "kind", "args", "state", "due", "tries", "result / error"),
                     ((i.id, i.kind, ",".join(f"{k}={v}" for k, v in sorted(i.args.items())), i.state,
                       _iso(i.due_at), f"{i.attempts}/{i.max_attempts}", (i.error or i.result or "")[:60])
                      for i in items)))


@jobs.command("status")
@database_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def status_(database: str | None, fmt: str) -> None:
    """Every exam's status in its LMS (planned, applied, verified, drifted, failed)."""
    from ..report import table
    from .status import exam_statuses

    with db.session_factory(_engine(database))() as session:
        rows = exam_statuses(session)
    if fmt == "json":
        click.echo(json.dumps([{"exam_id": s.exam_id, "course": s.course, "start": _iso(s.start), "state": s.state,
                                "last_read_at": _iso(s.last_read_at), "changes_needed": s.last_read_operations,
                                "candidates_differing": s.last_read_differing, "message": s.message}
                               for s in rows]))
        return
    click.echo(table(("exam", "course", "start", "state", "last LMS read", "changes", "message"),
                     ((s.exam_id, s.course or "-", _iso(s.start) or "-", s.state, _iso(s.last_read_at) or "-",
                       "-" if s.last_read_operations is None else s.last_read_operations, (s.message or "")[:60])
                      for s in rows)))


@jobs.command("alerts")
@database_option
@click.option("--open", "open_only", is_flag=True, help="Only alerts nobody has acknowledged.")
@click.option("--ack", "ack", type=int, default=None, metavar="ID", help="Acknowledge this alert.")
def alerts_(database: str | None, open_only: bool, ack: int | None) -> None:
    """Alerts raised by the jobs (drift, work that gave up)."""
    from .alerts import acknowledge_alert, list_alerts

    engine = _engine(database)
    with db.session_factory(engine)() as session, session.begin():
        if ack is not None:
            if not acknowledge_alert(session, ack, actor=f"cli:{getpass.getuser()}", now=datetime.now(UTC)):
                click.echo(f"lms-bridge: no open alert {ack}", err=True)
                sys.exit(2)
            return
        for a in list_alerts(session, open_only=open_only):
            seen = f" (seen by {a.acknowledged_by})" if a.acknowledged_by else ""
            click.echo(f"#{a.id} {_iso(a.at)} {a.kind}: {a.message}{seen}")


@jobs.command("lease")
@database_option
def lease_(database: str | None) -> None:
    """Who holds the scheduler lease, and until when (the database's clock)."""
    from .lease import lease_info

    info = lease_info(_engine(database))
    click.echo(json.dumps({"holder": info.holder if info.live else None, "epoch": info.epoch,
                           "expires_at": _iso(info.expires_at), "now": _iso(info.now)}))


@jobs.command("enqueue")
@database_option
@click.argument("kind")
@click.argument("args", nargs=-1, metavar="NAME=VALUE...")
def enqueue_(database: str | None, kind: str, args: tuple[str, ...]) -> None:
    """Queue work by hand, due now. Arguments are ids (exam_id=E1, course=canvas:101)."""
    from . import queue
    from .kinds import ARGS, BadArguments

    values: dict[str, object] = {}
    for pair in args:
        name, sep, value = pair.partition("=")
        if not sep:
            raise click.UsageError(f"{pair!r} is not NAME=VALUE")
        spec = ARGS.get(kind, {}).get(name)
        values[name] = int(value) if spec is not None and spec[0] is int and value.isdigit() else value
    engine = _engine(database)
    now = datetime.now(UTC)
    try:
        with db.session_factory(engine)() as session, session.begin():
            item = queue.enqueue(session, kind=kind, args=values, enqueued_by=f"cli:{getpass.getuser()}",
                                 dedupe_key=f"{kind}:manual:{now.strftime('%Y%m%dT%H%M%S.%f')}")
    except BadArguments as exc:
        click.echo(f"lms-bridge: {exc}", err=True)
        sys.exit(2)
    click.echo(json.dumps({"id": item}))


@jobs.command("retry")
@database_option
@click.argument("item_id", type=int)
def retry_(database: str | None, item_id: int) -> None:
    """Make a failed item due again, with fresh attempts."""
    from . import queue

    if not queue.retry_now(_engine(database), item_id):
        click.echo(f"lms-bridge: item {item_id} is not failed or waiting", err=True)
        sys.exit(2)


@jobs.command("clarify")
@database_option
@click.option("--exam", "exam_id", required=True)
@click.option("--subject", required=True)
@click.option("--message", default=None)
@click.option("--message-file", default=None, type=click.Path(dir_okay=False, exists=True))
@click.option("--actor", default=None)
def clarify_(database: str | None, exam_id: str, subject: str, message: str | None, message_file: str | None,
             actor: str | None) -> None:
    """Send a clarification to every candidate of an exam (an announcement in each course)."""
    from .converge import JobError
    from .office import create_clarification

    if (message is None) == (message_file is None):
        raise click.UsageError("give exactly one of --message and --message-file")
    body = message if message is not None else Path(message_file).read_text(encoding="utf-8")  # type: ignore[arg-type]
    try:
        with db.session_factory(_engine(database))() as session, session.begin():
            ident = create_clarification(session, exam_id, subject, body, actor=actor or f"cli:{getpass.getuser()}",
                                         now=datetime.now(UTC))
    except (JobError, ValueError) as exc:
        click.echo(f"lms-bridge: {exc}", err=True)
        sys.exit(2)
    click.echo(json.dumps({"clarification_id": ident, "queued": True}))



# -- the parts of `incident`, `stagger` and `import` (lms_bridge/cli.py) that concern the jobs ------------


def apply_options(f):  # noqa: ANN001, ANN201 - a decorator
    """`--apply` and what it needs: where the store is, the LMS connections, who is acting."""
    f = _connection_options(f)
    f = click.option("--actor", default=None, help="Who is acting, for the audit log (default: the OS user).")(f)
    f = database_option(f)
    f = click.option("--apply", "apply_it", is_flag=True,
                     help="Record it in the store and change the LMS now (a failed part is queued for retry).")(f)
    return f


def _who(actor: str | None) -> str:
    return actor or f"cli:{getpass.getuser()}"


def _report_converge(result, what: str) -> bool:  # noqa: ANN001
    if result is None:
        return True
    changes = sum(e.applied for e in result.exams.values())
    needed = sum(e.operations for e in result.exams.values())
    if result.ok:
        click.echo(f"{what}: {changes} of {needed} changes made in the LMS.", err=True)
        return True
    failed = sorted({str(c) for c in result.course_errors} | {e.exam_id for e in result.exams.values() if e.failed})
    click.echo(f"lms-bridge: {what}: not finished ({', '.join(failed)}); queued for a retry by the workers.", err=True)
    return False


def apply_incident(policy, period, exam_id: str, start: datetime, end: datetime, decision, database: str | None,  # noqa: ANN001
                   actor: str | None, conn: dict[str, str | None]) -> int:
    """`incident --apply`: record the incident and, for `extend`, change the LMS now. Exit status."""
    from .converge import JobError
    from .office import IncidentPreview, apply_incident_now

    engine = _engine(database)
    preview = IncidentPreview.of(period, exam_id, start, end, decision)
    try:
        incident_id, result = apply_incident_now(engine, policy, period, preview, connections_for(engine, **conn),
                                                 actor=_who(actor), clock=lambda: datetime.now(UTC))
    except JobError as exc:
        click.echo(f"lms-bridge: {exc}", err=True)
        return 2
    click.echo(f"Incident {incident_id} recorded: {preview.decision} under {preview.rule}, "
               f"{len(preview.affected)} candidates affected.", err=True)
    if not preview.changes_lms:
        click.echo("Nothing changes in the LMS for this decision; the candidates are flagged.", err=True)
        return 0
    return 0 if _report_converge(result, f"incident {incident_id} on {exam_id}") else 1


def apply_stagger(policy, period, plan, database: str | None, actor: str | None,  # noqa: ANN001
                  conn: dict[str, str | None]) -> int:
    """`stagger --apply`: record the shifts and move those releases in the LMS now. Exit status."""
    from .converge import JobError
    from .office import apply_stagger_now

    engine = _engine(database)
    try:
        shifted, result = apply_stagger_now(engine, policy, period, plan, connections_for(engine, **conn),
                                            actor=_who(actor), clock=lambda: datetime.now(UTC))
    except JobError as exc:
        click.echo(f"lms-bridge: {exc}", err=True)
        return 2
    click.echo(f"{len(shifted)} staggered releases recorded.", err=True)
    return 0 if _report_converge(result, "staggered releases") else 1


def queue_after_import(session, before, who: str, summary=None) -> int:  # noqa: ANN001
    """After an import (in its transaction): queue a reconcile of each course it changed that
    has exams ahead (every such course when the policy changed). The number queued."""
    from ..store.repositories import load_period
    from .office import affected_courses, enqueue_reconcile

    now = datetime.now(UTC)
    after = load_period(session)
    policy_changed = bool(summary is not None and summary.policy_activated and before.exams)
    courses = affected_courses(before, after, now=now, everything=policy_changed)
    if not courses:
        return 0
    return enqueue_reconcile(session, courses, reason="import", actor=who, now=now)
