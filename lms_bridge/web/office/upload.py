"""/office/upload: timetable.csv and plans.csv (and candidates.csv) into the store.

Every file is validated whole with `lms_bridge.inputs.read_period` before anything is
written; any problem lists every problem (file, row, column) and imports nothing. A clean
upload is imported with `import_period` in one transaction, audited with the launch user as
actor, and a reconcile of each course it changed is queued for the job workers in that same
transaction (`lms_bridge.jobs.cli.queue_after_import`).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, request
from werkzeug.datastructures import FileStorage

from ...domain.policy import PolicyError
from ...inputs import InputErrors, read_period
from ...policies import load_policy, policy_names
from ...store.errors import StoreError
from ...store.repositories import active_policy, import_period, load_period
from . import common
from .common import bp

log = logging.getLogger(__name__)

FILES = (("timetable", "timetable.csv", True), ("plans", "plans.csv", True), ("candidates", "candidates.csv", False))
MAX_SHOWN = 500
KEEP_POLICY = ""  # the policy choice that keeps the stored policy


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    uploaded_as: str | None
    field: str
    row: int | None
    column: str | None
    message: str


def _policy_choices(active: str | None) -> list[tuple[str, str]]:
    choices = [(KEEP_POLICY, f"Keep the policy in use ({active})")] if active else []
    return choices + [(name, name) for name in policy_names()]


def _default_choice(active: str | None) -> str:
    return KEEP_POLICY if active else (current_app.config.get(common.DEFAULT_POLICY) or "default")


def _limit() -> int:
    return int(current_app.config.get(common.MAX_UPLOAD_BYTES) or common.DEFAULT_MAX_UPLOAD_BYTES)


def _page(status: int = 200, *, errors: dict[str, str] | None = None, problems: list[Problem] | None = None,
          summary=None, queued: int = 0, values: dict[str, str] | None = None):  # noqa: ANN001, ANN202
    with common.sessions()() as session:
        active = active_policy(session)
    choices = _policy_choices(active.name if active else None)
    values = values or {"policy": _default_choice(active.name if active else None)}
    problems = problems or []
    by_file: dict[str, int] = {}
    for p in problems:
        by_file[p.field] = by_file.get(p.field, 0) + 1
    return common.render(
        "office/upload.html", status, errors=errors or {}, problems=problems[:MAX_SHOWN],
        more=max(0, len(problems) - MAX_SHOWN), problem_count=len(problems), by_file=by_file, files=FILES,
        choices=choices, values=values, summary=summary, queued=queued, limit_mb=_limit() // (1024 * 1024),
    )


@bp.get("/upload")
def upload():  # noqa: ANN201
    return _page()


@bp.post("/upload")
def upload_post():  # noqa: ANN201
    if request.content_length is not None and request.content_length > _limit():
        return _page(413, errors={"timetable": f"The files together are larger than {_limit() // (1024 * 1024)} MB; "
                                               "nothing was imported."})
    with common.sessions()() as session:
        active = active_policy(session)
    values = {"policy": request.form.get("policy", _default_choice(active.name if active else None)),
              "replace": request.form.get("replace", "")}
    errors: dict[str, str] = {}
    uploads: dict[str, FileStorage] = {}
    for field, name, required in FILES:
        found = request.files.get(field)
        if found is None or not found.filename:
            if required:
                errors[field] = f"Choose the {name} file."
            continue
        uploads[field] = found

    allowed = {value for value, _ in _policy_choices(active.name if active else None)}
    policy = policy_text = policy_name = None
    if values["policy"] not in allowed:
        errors["policy"] = "Choose one of the policies listed."
    else:
        try:
            if values["policy"] == KEEP_POLICY:
                assert active is not None
                from ...jobs.converge import policy_from_text

                policy, policy_text, policy_name = policy_from_text(active.name, active.text), active.text, active.name
            else:
                policy, policy_text = load_policy(values["policy"])
                policy_name = policy.name
        except PolicyError as exc:
            errors["policy"] = f"The policy cannot be used: {exc}"
    if errors:
        return _page(400, errors=errors, values=values)

    assert policy is not None and policy_text is not None and policy_name is not None
    with tempfile.TemporaryDirectory(prefix="lms_bridge_upload_") as folder:
        paths: dict[str, Path] = {}
        for field, name, _ in FILES:
            if field in uploads:
                paths[field] = Path(folder) / name
                uploads[field].save(paths[field])
        try:
            period = read_period(policy, paths["timetable"], paths["plans"], paths.get("candidates"))
        except InputErrors as exc:
            problems = [_problem(p, folder, uploads) for p in exc.problems]
            counted = {f: sum(1 for p in problems if p.field == f) for f in paths}
            for field, name, _ in FILES:
                if counted.get(field):
                    errors[field] = (f"{name} has {common.plural(counted[field], 'problem')}, listed below.")
            return _page(400, errors=errors, problems=problems, values=values)

    replace = values["replace"] == "1"
    who = common.actor()
    from ...jobs.cli import queue_after_import

    try:
        with common.sessions()() as session, session.begin():
            before = load_period(session)
            summary = import_period(session, period, policy_name=policy_name, policy_text=policy_text, actor=who,
                                    now=common.now(), replace=replace)
            queued = queue_after_import(session, before, who, summary) if summary.changed else 0
    except StoreError as exc:
        # The store's messages name no plan numbers (lms_bridge.store.repositories).
        return _page(400, errors={"timetable": f"The store refused the period; nothing was imported: {exc}"},
                     values=values)
    log.info("exams office import by %s: %d exams, %d plans, %d sittings in the files; %d reconciles queued",
             who, len(period.exams), len(period.plans), len(period.sittings), queued)
    return _page(200, summary=summary, queued=queued, values=values)


def _problem(p, folder: str, uploads: dict[str, FileStorage]) -> Problem:  # noqa: ANN001
    file = Path(p.file).name
    field = next((f for f, name, _ in FILES if name == file), "timetable")
    message = p.message.replace(folder + "/", "").replace(folder, "")
    original = uploads[field].filename if field in uploads else None
    return Problem(file, original if original and original != file else None, field, p.row, p.column, message)
