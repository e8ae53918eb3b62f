"""Per-student and per-group overrides, as the override managers validate and store them.

- Quiz (`mod_quiz\\local\\override_manager`, 4.4+): values equal to the quiz's own are stored NULL,
  omitted fields are NULL (an update replaces the whole override), nothing left is `nooverridedata`,
  one override per user or group (`overridemultiplerecordsexist`, so updating needs `id`), every
  failure is `invalid_parameter_exception` with the reasons (comma-joined) as debuginfo. Each item of
  a batch is saved on its own: items before a failing one stay saved.
- Assignment, core 5.3 (`mod_assign\\override_manager`): 0 is a real value ("disabled"), a second
  override for the same user or group replaces the first (merging its fields), unknown ids on delete
  are ignored, group overrides get a `sortorder`.
- Assignment, local_lmsbridge (4.5–5.2, CONTRACT.md): the quiz manager's rules on assignment dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import MoodleError, invalid_parameter
from .records import Assign, AssignOverride, Quiz, QuizOverride
from .store import Store

QUIZ_KEYS = ("timeopen", "timeclose", "timelimit", "attempts", "password")
ASSIGN_KEYS = ("duedate", "cutoffdate", "allowsubmissionsfromdate", "timelimit")

QUIZ_TEXT = {
    "nooverridedata": "You must override at least one of the quiz settings.",
    "overrideinvalidquiz": "Quiz ID set doesn't exist.",
    "overridemustsetuserorgroup": "A user or group must be set.",
    "overridecannotsetbothgroupanduser": "Both group and user cannot be set at the same time.",
    "overrideinvalidgroup": "Group given doesn't exist.",
    "overrideinvaliduser": "User given doesn't exist.",
    "closebeforeopen": "You have specified a close date before the open date.",
    "overrideinvalidattempts": "Attempts value must be greater than zero.",
    "overrideinvalidtimelimit": "Time limit must be greater than zero.",
    "overridemultiplerecordsexist": "Multiple overrides cannot be made for the same user/group.",
    "overrideinvalidexistingid": "Existing override doesn't exist.",
    "overridecannotchange": "The user or group cannot be changed after an override is created.",
    "overridemissingdelete": "Override ID(s) {ids} couldn't be deleted because they don't exist or are not "
                             "a part of the given quiz.",
}
PLUGIN_ASSIGN_TEXT = {
    **QUIZ_TEXT,
    "nooverridedata": "You must override at least one of the assignment settings.",
    "overrideinvalidquiz": "Assignment ID set doesn't exist.",
    "duedateaftersubmissionvalidation": "Due date must be after the allow submissions from date.",
    "cutoffdatevalidation": "Cut-off date cannot be earlier than the due date.",
    "overridemissingdelete": "Override ID(s) {ids} couldn't be deleted because they don't exist or are not "
                             "a part of the given assignment.",
}
CORE_ASSIGN_TEXT = {
    "overridemustseteitheruserorgroup": "You must set either a user or a group for the override.",
    "overridecannotsetboth": "You cannot set both a user and a group for the same override.",
    "invalidgroupid": "Invalid group ID.",
    "invaliduserid": "Invalid user ID.",
    "cutoffdatefromdatevalidation": "Cut-off date cannot be earlier than the allow submissions from date.",
    "duedateaftersubmissionvalidation": "Due date must be after the allow submissions from date.",
    "cutoffdatevalidation": "Cut-off date cannot be earlier than the due date.",
    "extensionnotafterduedate": "Extension date must be after the due date",
    "extensionnotafterfromdate": "Extension date must be after the allow submissions from date",
    "invalidoverrideid": "Invalid override ID.",
    "overridechangegroupid": "The group of an override cannot be changed.",
    "overridechangeuserid": "The user of an override cannot be changed.",
}


def _empty(value: Any) -> bool:
    """PHP empty()."""
    return value is None or value is False or value == 0 or value in ("", "0")


def _is_real_user(store: Store, userid: Any) -> bool:
    user = store.users.get(userid) if isinstance(userid, int) else None
    return user is not None and userid > 0 and not user.deleted


def _fail(errors: dict[str, list[str]]) -> MoodleError:
    return invalid_parameter(",".join(",".join(v) for v in errors.values()))


def coding_error_empty_in() -> MoodleError:
    return MoodleError("core\\exception\\coding_exception", "codingerror",
                       "Coding error detected, it must be fixed by a programmer: "
                       "moodle_database::get_in_or_equal() does not accept empty arrays")


@dataclass(frozen=True)
class _StrictRules:
    """The quiz manager's algorithm, for the quiz and for the plugin's assignment overrides."""

    keys: tuple[str, ...]
    parent_key: str  # "quiz" / "assignid"
    text: dict[str, str]
    assign_dates: bool  # check allowsubmissionsfromdate < duedate <= cutoffdate instead of open/close


QUIZ_RULES = _StrictRules(QUIZ_KEYS, "quiz", QUIZ_TEXT, assign_dates=False)
PLUGIN_ASSIGN_RULES = _StrictRules(ASSIGN_KEYS, "assignid", PLUGIN_ASSIGN_TEXT, assign_dates=True)


def _parse_strict(rules: _StrictRules, parent: Quiz | Assign, formdata: dict[str, Any]) -> dict[str, Any]:
    settings = {k: formdata[k] for k in rules.keys if k in formdata}
    for key in rules.keys:
        if settings.get(key) is not None and settings[key] == getattr(parent, key):
            settings[key] = None
        settings[key] = settings.get(key)
        if key != "attempts" and _empty(settings[key]):
            settings[key] = None
        if key == "attempts" and not isinstance(settings[key], (int, float)):
            settings[key] = None
    rest = {k: formdata[k] for k in ("userid", "groupid", rules.parent_key, "id") if k in formdata}
    return {**settings, **rest}


def _strict_errors(store: Store, rules: _StrictRules, parent: Quiz | Assign, rows: dict[int, Any],
                   data: dict[str, Any]) -> dict[str, list[str]]:
    data = _parse_strict(rules, parent, data)
    text = rules.text
    errors: dict[str, list[str]] = {}

    def add(element: str, code: str) -> None:
        errors.setdefault(element, []).append(text[code])

    if all(data.get(k) is None for k in rules.keys):
        add("general", "nooverridedata")
    if _empty(data.get(rules.parent_key)):
        add(rules.parent_key, "overrideinvalidquiz")
    userid, groupid = data.get("userid"), data.get("groupid")
    if _empty(userid) and _empty(groupid):
        add("general", "overridemustsetuserorgroup")
    if not _empty(userid) and not _empty(groupid):
        add("general", "overridecannotsetbothgroupanduser")
    if not _empty(groupid) and store.group(groupid) is None:
        add("groupid", "overrideinvalidgroup")
    if not _empty(userid) and not _is_real_user(store, userid):
        add("userid", "overrideinvaliduser")
    if rules.assign_dates:
        start, due, cutoff = data.get("allowsubmissionsfromdate"), data.get("duedate"), data.get("cutoffdate")
        if not _empty(start) and not _empty(due) and due <= start:
            add("duedate", "duedateaftersubmissionvalidation")
        if not _empty(due) and not _empty(cutoff) and cutoff < due:
            add("cutoffdate", "cutoffdatevalidation")
    else:
        opens, closes = data.get("timeopen"), data.get("timeclose")
        if not _empty(closes) and not _empty(opens) and closes <= opens:
            add("timeclose", "closebeforeopen")
        if data.get("attempts") is not None and int(data["attempts"]) < 0:
            add("attempts", "overrideinvalidattempts")
    if not _empty(data.get("timelimit")) and data["timelimit"] <= 0:
        add("timelimit", "overrideinvalidtimelimit")
    if not _empty(data.get(rules.parent_key)) and (not _empty(userid) or not _empty(groupid)):
        same = [r for r in rows.values() if getattr(r, rules.parent_key) == data[rules.parent_key]
                and r.groupid == (groupid or None) and r.userid == (userid or None) and r.id != (data.get("id") or 0)]
        if same:
            add("general", "overridemultiplerecordsexist")
    if not _empty(data.get("id")):
        existing_errors: dict[str, list[str]] = {}
        existing = rows.get(data["id"])
        if existing is None:
            existing_errors.setdefault("general", []).append(text["overrideinvalidexistingid"])
        else:
            if not _empty(groupid) and existing.groupid != groupid:
                existing_errors.setdefault("groupid", []).append(text["overridecannotchange"])
            if not _empty(userid) and existing.userid != userid:
                existing_errors.setdefault("userid", []).append(text["overridecannotchange"])
        errors.update(existing_errors)  # PHP array_merge(): a repeated element's list is replaced
    return errors


def _save_strict(store: Store, rules: _StrictRules, parent: Quiz | Assign, rows: dict[int, Any],
                 formdata: dict[str, Any], kind: str, make: Any) -> int:
    data = _parse_strict(rules, parent, formdata)
    data[rules.parent_key] = parent.id
    errors = _strict_errors(store, rules, parent, rows, data)
    if errors:
        raise _fail(errors)
    oid = data.get("id")
    fields = {k: v for k, v in data.items() if k != "id"}
    if not _empty(oid):
        row = rows[oid]
        for key, value in fields.items():
            setattr(row, key, value)
        return int(oid)
    new_id = store._new_id(kind)
    rows[new_id] = make(new_id, fields)
    return new_id


def save_quiz_override(store: Store, quiz: Quiz, formdata: dict[str, Any]) -> int:
    return _save_strict(store, QUIZ_RULES, quiz, store.quiz_override_rows, formdata, "quiz_override",
                        lambda i, f: QuizOverride(i, **f))


def delete_quiz_overrides(store: Store, quiz: Quiz, ids: list[int]) -> list[int]:
    if not ids:
        raise coding_error_empty_in()
    found = {o.id for o in store.quiz_overrides(quiz.id) if o.id in ids}
    missing = [i for i in ids if i not in found]
    if missing:
        raise invalid_parameter(QUIZ_TEXT["overridemissingdelete"].format(ids=",".join(map(str, missing))))
    for oid in found:
        del store.quiz_override_rows[oid]
    return ids


# -- assignment overrides: the plugin (strict) -------------------------------------------------------


def _assign_row(store: Store, assign: Assign, oid: int, fields: dict[str, Any]) -> AssignOverride:
    row = AssignOverride(oid, assign.id, **{k: v for k, v in fields.items() if k != "assignid"})
    return row


def _resort_groups(store: Store, assign: Assign) -> None:
    groups = sorted((o for o in store.assign_overrides(assign.id) if o.userid is None),
                    key=lambda o: (o.sortorder if o.sortorder is not None else 0, o.id))
    for n, row in enumerate(groups, start=1):
        row.sortorder = n


def _new_group_sortorder(store: Store, assign: Assign, row: AssignOverride) -> None:
    if row.groupid is None:
        return
    group_count = sum(1 for o in store.assign_overrides(assign.id) if o.userid is None)
    all_count = len(store.assign_overrides(assign.id))
    row.sortorder = 1 if not group_count and all_count else group_count
    _resort_groups(store, assign)


def save_plugin_assign_override(store: Store, assign: Assign, formdata: dict[str, Any]) -> int:
    created = _empty(formdata.get("id"))
    oid = _save_strict(store, PLUGIN_ASSIGN_RULES, assign, store.assign_override_rows, formdata, "assign_override",
                       lambda i, f: _assign_row(store, assign, i, f))
    if created:
        _new_group_sortorder(store, assign, store.assign_override_rows[oid])
    return oid


def delete_plugin_assign_overrides(store: Store, assign: Assign, ids: list[int]) -> list[int]:
    found = {o.id for o in store.assign_overrides(assign.id) if o.id in ids}
    missing = [i for i in ids if i not in found]
    if missing:
        raise invalid_parameter(PLUGIN_ASSIGN_TEXT["overridemissingdelete"].format(ids=",".join(map(str, missing))))
    for oid in found:
        del store.assign_override_rows[oid]
    _resort_groups(store, assign)
    return ids


# -- assignment overrides: core 5.3 ------------------------------------------------------------------


def _parse_core_assign(assign: Assign, formdata: dict[str, Any]) -> dict[str, Any]:
    settings = {k: formdata[k] for k in ASSIGN_KEYS if k in formdata}
    for key in ASSIGN_KEYS:
        if settings.get(key) is not None and settings[key] == getattr(assign, key):
            settings[key] = None
        settings[key] = settings.get(key)
        if _empty(settings[key]) and settings[key] != 0:
            settings[key] = None
        if settings[key] is False or settings[key] == "":
            settings[key] = None
    only = {k: formdata[k] for k in ("reason", "reasonformat") if k in formdata}
    rest = {k: formdata[k] for k in ("userid", "groupid", "assignid", "id") if k in formdata}
    return {**settings, **only, **rest}


def _core_assign_errors(store: Store, assign: Assign, data: dict[str, Any]) -> dict[str, list[str]]:
    data = _parse_core_assign(assign, data)
    errors: dict[str, list[str]] = {}

    def add(element: str, code: str) -> None:
        errors.setdefault(element, []).append(CORE_ASSIGN_TEXT[code])

    userid, groupid = data.get("userid"), data.get("groupid")
    if _empty(userid) and _empty(groupid):
        add("general", "overridemustseteitheruserorgroup")
    if not _empty(userid) and not _empty(groupid):
        add("general", "overridecannotsetboth")
    if not _empty(groupid) and store.group(groupid) is None:
        add("groupid", "invalidgroupid")
    if not _empty(userid) and not _is_real_user(store, userid):
        add("userid", "invaliduserid")
    start, due, cutoff = data.get("allowsubmissionsfromdate"), data.get("duedate"), data.get("cutoffdate")
    if not _empty(start) and not _empty(cutoff) and cutoff < start:
        add("cutoffdate", "cutoffdatefromdatevalidation")
    if not _empty(start) and not _empty(due) and due <= start:
        add("duedate", "duedateaftersubmissionvalidation")
    if not _empty(cutoff) and not _empty(due) and cutoff < due:
        add("cutoffdate", "cutoffdatevalidation")
    extension = 0
    if not _empty(userid):
        flags = store.user_flag(assign.id, userid)
        extension = flags.extensionduedate if flags else 0
    elif not _empty(groupid) and store.group(groupid) is not None:
        members = store.groups[groupid].members
        extension = max((f.extensionduedate for f in store.user_flags(assign.id) if f.userid in members), default=0)
    if extension:
        if not _empty(due) and extension < due:
            add("duedate", "extensionnotafterduedate")
        if not _empty(start) and extension < start:
            add("allowsubmissionsfromdate", "extensionnotafterfromdate")
    if not _empty(data.get("id")):
        existing_errors: dict[str, list[str]] = {}
        existing = store.assign_override_rows.get(data["id"])
        if existing is None or existing.assignid != assign.id:
            existing_errors.setdefault("general", []).append(CORE_ASSIGN_TEXT["invalidoverrideid"])
        else:
            if not _empty(groupid) and existing.groupid != groupid:
                existing_errors.setdefault("groupid", []).append(CORE_ASSIGN_TEXT["overridechangegroupid"])
            if not _empty(userid) and existing.userid != userid:
                existing_errors.setdefault("userid", []).append(CORE_ASSIGN_TEXT["overridechangeuserid"])
        errors.update(existing_errors)
    return errors


def save_core_assign_override(store: Store, assign: Assign, formdata: dict[str, Any]) -> int:
    data = _parse_core_assign(assign, formdata)
    data["assignid"] = assign.id
    errors = _core_assign_errors(store, assign, data)
    if errors:
        raise _fail(errors)
    existing = store.assign_override_rows.get(data.get("id") or 0)
    userid, groupid = data.get("userid") or None, data.get("groupid") or None
    if existing is None:
        old = next((o for o in store.assign_overrides(assign.id) if o.userid == userid and o.groupid == groupid), None)
        if old is not None:  # a second override for the same user/group replaces the first
            for key in ASSIGN_KEYS:
                if data.get(key) is None:
                    data[key] = getattr(old, key)
            del store.assign_override_rows[old.id]
            _resort_groups(store, assign)
    fields = {k: v for k, v in data.items() if k not in ("id", "assignid")}
    if existing is not None:
        for key, value in fields.items():
            setattr(existing, key, value)
        return existing.id
    oid = store._new_id("assign_override")
    row = AssignOverride(oid, assign.id, **fields)
    store.assign_override_rows[oid] = row
    _new_group_sortorder(store, assign, row)
    return oid


def delete_core_assign_overrides(store: Store, assign: Assign, ids: list[int]) -> list[int]:
    for oid in ids:
        row = store.assign_override_rows.get(oid)
        if row is not None and row.assignid == assign.id:
            del store.assign_override_rows[oid]
    _resort_groups(store, assign)
    return ids
