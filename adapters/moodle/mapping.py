"""Pure translation between lms_bridge's targets and Moodle's fields (no I/O).

Times are Unix seconds in Moodle, 0 meaning "not set". A quiz has an open and a close, no due
date: its window is ``timeopen``–``timeclose`` (the hard close), and the adapter's target sets
the due time to the close. A drop-box (assign) has ``allowsubmissionsfromdate``, ``duedate`` and
``cutoffdate``. Per-student windows are per-user overrides holding the *whole* desired state
(``override_manager`` sets omitted fields to NULL on update, and stores values equal to the
activity's own as NULL): their effective value is the override's field, or the activity's.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from lms_bridge.domain.model import Delivery
from lms_bridge.lms import AssessmentTarget, Dates, ObservedOverride, OverrideTarget

QUIZ = "quiz"
ASSIGN = "assign"
OVERRIDE_KEYS = {
    QUIZ: ("timeopen", "timeclose", "timelimit"),
    ASSIGN: ("allowsubmissionsfromdate", "duedate", "cutoffdate", "timelimit"),
}


# -- what Moodle holds, as the adapter caches it --------------------------------------------------


@dataclass
class Section:
    id: int
    number: int
    name: str
    summary: str
    visible: bool
    availability: str | None = None


@dataclass
class Activity:
    cmid: int
    instance: int
    modname: str  # "quiz" | "assign" | "resource"
    idnumber: str | None  # None where the read does not show it (core web services)
    name: str
    sectionid: int | None
    section: int | None  # the section's number
    visible: bool
    settings: dict[str, object] = field(default_factory=dict)  # Moodle's field names
    availability: str | None = None


@dataclass
class Override:
    id: int
    userid: int
    fields: dict[str, int | None]


# -- times -----------------------------------------------------------------------------------------


def ts(instant: datetime | None) -> int:
    return 0 if instant is None else int(instant.timestamp())


def instant(seconds: object) -> datetime | None:
    try:
        value = int(seconds)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(value, UTC) if value > 0 else None


def when(moment: datetime | None, zone: ZoneInfo) -> str:
    return "(none)" if moment is None else moment.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z")


def _int(value: object) -> int:
    try:
        return int(value or 0)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


# -- activities ------------------------------------------------------------------------------------


def modname_for(delivery: Delivery) -> str:
    """A drop-box is an assignment; a quiz, and a New Quiz (which Moodle has no equivalent
    of), a quiz."""
    return ASSIGN if delivery is Delivery.DROPBOX else QUIZ


def delivery_of(modname: str) -> Delivery:
    return Delivery.DROPBOX if modname == ASSIGN else Delivery.QUIZ


def activity_dates(act: Activity) -> Dates:
    s = act.settings
    if act.modname == QUIZ:
        close = instant(s.get("timeclose"))
        return Dates(instant(s.get("timeopen")), close, close)
    return Dates(instant(s.get("allowsubmissionsfromdate")), instant(s.get("duedate")), instant(s.get("cutoffdate")))


def limit_minutes(act: Activity) -> int | None:
    seconds = _int(act.settings.get("timelimit"))
    return seconds // 60 if seconds else None


def activity_settings(modname: str, want: AssessmentTarget) -> dict[str, object]:
    """`settings` of local_lmsbridge_upsert_activity: the whole standard window and setup."""
    limit = (want.time_limit_minutes or 0) * 60
    d = want.dates
    if modname == QUIZ:
        s = want.setup
        return {
            "timeopen": ts(d.opens_at), "timeclose": ts(d.closes_at), "timelimit": limit,
            "attempts": s.attempts, "quizpassword": s.access_code or "",
            "shuffleanswers": int(s.shuffle_answers), "hideresultsuntilclose": int(s.hide_results_until_close),
        }
    return {"allowsubmissionsfromdate": ts(d.opens_at), "duedate": ts(d.due_at), "cutoffdate": ts(d.closes_at),
            "timelimit": limit}


def observed_settings(act: Activity) -> dict[str, object]:
    """The ExamSetup fields the activity shows (only those the read returned)."""
    if act.modname != QUIZ:
        return {}
    s = act.settings
    out: dict[str, object] = {}
    if "attempts" in s:
        out["attempts"] = _int(s["attempts"])
    for key in ("quizpassword", "password"):
        if key in s:
            out["access_code"] = str(s[key] or "")
            break
    if "shuffleanswers" in s:
        out["shuffle_answers"] = bool(_int(s["shuffleanswers"]))
    if "hideresultsuntilclose" in s:
        out["hide_results_until_close"] = bool(_int(s["hideresultsuntilclose"]))
    return out


# -- the target as Moodle can hold it --------------------------------------------------------------


def regroup(target: AssessmentTarget, per_user: Mapping[str, tuple[Dates, tuple[str, ...]]]) -> AssessmentTarget:
    """The target with one override per distinct window again, after per-user changes."""
    merged: dict[Dates, tuple[set[str], set[str]]] = {}
    for uid, (dates, rules) in per_user.items():
        if dates == target.dates:
            continue
        users, all_rules = merged.setdefault(dates, (set(), set()))
        users.add(uid)
        all_rules.update(rules)
    overrides = tuple(
        OverrideTarget(dates, frozenset(users), tuple(sorted(rules)))
        for dates, (users, rules) in sorted(merged.items(), key=lambda kv: (ts(kv[0].due_at), ts(kv[0].closes_at)))
    )
    return replace(target, overrides=overrides)


def per_user(target: AssessmentTarget) -> dict[str, tuple[Dates, tuple[str, ...]]]:
    return {uid: (o.dates, o.rules) for o in target.overrides for uid in o.lms_user_ids}


def for_quiz(target: AssessmentTarget) -> AssessmentTarget:
    """A quiz has no due date: due is the close. Extra time always extends the close too: a
    student's close is never before their open plus their time limit (an attempt ends at
    min(start + limit, close))."""
    def closed(d: Dates) -> Dates:
        return Dates(d.opens_at, d.closes_at, d.closes_at)

    base = replace(target, delivery=Delivery.QUIZ, dates=closed(target.dates))
    users = {uid: (closed(d), rules) for uid, (d, rules) in per_user(target).items()}
    if target.time_limit_minutes is not None:
        for uid, extra in target.extra_minutes.items():
            d, rules = users.get(uid, (base.dates, ()))
            if d.opens_at is None or d.closes_at is None:
                continue
            needed = d.opens_at + timedelta(minutes=target.time_limit_minutes + extra)
            if d.closes_at < needed:
                users[uid] = (Dates(d.opens_at, needed, needed), rules)
    return regroup(base, users)


def for_extensions(target: AssessmentTarget) -> tuple[AssessmentTarget, dict[str, Dates]]:
    """A drop-box whose per-student windows can only be extensions (core Moodle before 5.3): an
    extension moves a student's due date and cut-off together, to one later date, and nothing
    else. Each student's window becomes (standard open, their close, their close): the due moves
    to the close, in the student's favour. Returns the target and the students whose window
    cannot be expressed (a different open, or a close not after the standard one), with the
    window they should have."""
    base = target.dates
    users: dict[str, tuple[Dates, tuple[str, ...]]] = {}
    cannot: dict[str, Dates] = {}
    for uid, (d, rules) in per_user(target).items():
        if d.opens_at != base.opens_at or d.closes_at is None or (base.closes_at and d.closes_at <= base.closes_at):
            cannot[uid] = d
        if d.closes_at is not None and (base.closes_at is None or d.closes_at > base.closes_at):
            users[uid] = (Dates(base.opens_at, d.closes_at, d.closes_at), rules)
    return regroup(target, users), cannot


# -- per-student overrides -------------------------------------------------------------------------


def desired_overrides(modname: str, want: AssessmentTarget) -> dict[int, dict[str, int | None]]:
    """Each student who differs from the standard window: the whole state of their override
    (None: not sent, i.e. the activity's own value)."""
    users = per_user(want)
    out: dict[int, dict[str, int | None]] = {}
    limit = want.time_limit_minutes
    for uid in set(users) | set(want.extra_minutes):
        d = users.get(uid, (want.dates, ()))[0]
        extra = want.extra_minutes.get(uid, 0)
        seconds = None if limit is None else (limit + extra) * 60
        if modname == QUIZ:
            close = ts(d.closes_at)
            if seconds and d.opens_at is not None:
                close = max(close, ts(d.opens_at) + seconds)  # extra time extends the close too
            out[int(uid)] = {"timeopen": ts(d.opens_at), "timeclose": close, "timelimit": seconds}
        else:
            out[int(uid)] = {"allowsubmissionsfromdate": ts(d.opens_at), "duedate": ts(d.due_at),
                             "cutoffdate": ts(d.closes_at), "timelimit": seconds}
    return out


def effective(modname: str, fields: Mapping[str, int | None], settings: Mapping[str, object]) -> tuple[int, ...]:
    return tuple(_int(fields.get(k)) or _int(settings.get(k)) for k in OVERRIDE_KEYS[modname])


def own(modname: str, settings: Mapping[str, object]) -> tuple[int, ...]:
    return tuple(_int(settings.get(k)) for k in OVERRIDE_KEYS[modname])


def override_writes(
    modname: str,
    desired: Mapping[int, Mapping[str, int | None]],
    current: Mapping[int, Override],
    settings: Mapping[str, object],
) -> tuple[list[dict[str, int]], list[int]]:
    """(items to save, override ids to delete) that make every student's effective window the
    desired one. An item carries the override's id when the student has one (an update, safe to
    repeat) and every field that differs from "not sent". A student whose desired window is the
    activity's own gets no override (Moodle would answer nooverridedata); one they have is deleted."""
    base = own(modname, settings)
    saves: list[dict[str, int]] = []
    deletes: list[int] = []
    for uid in sorted(desired):
        want = desired[uid]
        target = effective(modname, want, settings)
        have = current.get(uid)
        if target == base:
            if have is not None:
                deletes.append(have.id)
            continue
        if have is not None and effective(modname, have.fields, settings) == target:
            continue
        item: dict[str, int] = {"userid": uid} | {k: v for k, v in want.items() if v is not None}
        if have is not None:
            item = {"id": have.id} | item
        saves.append(item)
    deletes += [o.id for uid, o in sorted(current.items()) if uid not in desired]
    return saves, deletes


def observed_overrides(
    act: Activity, current: Mapping[int, Override]
) -> tuple[tuple[ObservedOverride, ...], dict[str, int]]:
    """Per-user overrides as the engine sees them: students grouped by effective window (those
    whose window differs from the activity's), and the extra minutes of the quiz's time limit."""
    groups: dict[Dates, list[Override]] = {}
    extra: dict[str, int] = {}
    base_dates = activity_dates(act)
    own_limit = _int(act.settings.get("timelimit"))
    for uid, o in sorted(current.items()):
        values = dict(zip(OVERRIDE_KEYS[act.modname], effective(act.modname, o.fields, act.settings), strict=True))
        if act.modname == QUIZ:
            close = instant(values["timeclose"])
            dates = Dates(instant(values["timeopen"]), close, close)
        else:
            dates = Dates(instant(values["allowsubmissionsfromdate"]), instant(values["duedate"]),
                          instant(values["cutoffdate"]))
        if dates != base_dates:
            groups.setdefault(dates, []).append(o)
        if own_limit and values["timelimit"] != own_limit:
            extra[str(uid)] = (values["timelimit"] - own_limit) // 60
    overrides = tuple(
        ObservedOverride(",".join(str(o.id) for o in items), dates, frozenset(str(o.userid) for o in items))
        for dates, items in groups.items()
    )
    return overrides, extra


def desired_extensions(want: AssessmentTarget) -> dict[int, int]:
    """Extension dates (extension mode): each student's close, from the adjusted target."""
    return {int(uid): ts(d.closes_at) for uid, (d, _) in per_user(want).items() if d.closes_at is not None}


def extension_writes(desired: Mapping[int, int], current: Mapping[int, int]) -> dict[int, int]:
    """Users whose extension date must be set; 0 clears one nobody should have."""
    out = {u: d for u, d in desired.items() if current.get(u, 0) != d}
    out |= {u: 0 for u, d in current.items() if d and u not in desired}
    return dict(sorted(out.items()))


def observed_extensions(act: Activity, current: Mapping[int, int]) -> tuple[ObservedOverride, ...]:
    base = activity_dates(act)
    cutoff = _int(act.settings.get("cutoffdate"))
    groups: dict[Dates, list[int]] = {}
    for uid, ext in sorted(current.items()):
        if not ext:
            continue
        dates = Dates(base.opens_at, instant(ext), instant(max(ext, cutoff)))
        if dates != base:
            groups.setdefault(dates, []).append(uid)
    return tuple(
        ObservedOverride("ext:" + ",".join(map(str, uids)), dates, frozenset(map(str, uids)))
        for dates, uids in groups.items()
    )


# -- the paper's restriction, and text ------------------------------------------------------------


def release_availability(opens_at: datetime) -> str:
    """Availability JSON (availability/classes/tree.php): visible, available from `opens_at`."""
    return json.dumps({"op": "&", "c": [{"type": "date", "d": ">=", "t": ts(opens_at)}], "showc": [True]},
                      separators=(",", ":"))


def locked_until(availability: str | None) -> datetime | None:
    """The "from" date of a restriction like the one `release_availability` writes."""
    if not availability:
        return None
    try:
        tree = json.loads(availability)
    except ValueError:
        return None
    if not isinstance(tree, dict) or tree.get("op", "&") != "&":
        return None
    dates = [c.get("t") for c in tree.get("c") or () if isinstance(c, dict) and c.get("type") == "date"
             and c.get("d") == ">="]
    return instant(max(dates)) if dates else None


_TAG = re.compile(r"<[^>]*>")


def text_of(markup: str | None) -> str:
    """Visible text, whitespace collapsed: an editor may rewrite the markup but not the words."""
    return " ".join(html.unescape(_TAG.sub(" ", markup or "")).split())


def chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), max(1, size)):
        yield items[i:i + size]
