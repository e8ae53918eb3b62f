"""Availability restrictions: the JSON tree Moodle stores (availability/classes/tree.php) and its text.

`validate()` accepts what core's tree parser accepts for the condition types lms_bridge can use
(date, group, grouping, profile, completion, grade) and raises ValueError otherwise; `describe()`
is a short form of the formatted "availabilityinfo" Moodle shows staff.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

_OPS = ("&", "|", "!&", "!|")
_TYPES = ("date", "group", "grouping", "profile", "completion", "grade")


def validate(text: str) -> dict[str, Any] | None:
    """The parsed tree, or None for "" (no restriction). ValueError says what is wrong."""
    if text == "":
        return None
    try:
        tree = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"Invalid availability JSON: {error.msg}") from None
    if not isinstance(tree, dict):
        raise ValueError("Invalid availability structure (not object)")
    _tree(tree, root=True)
    return tree


def _tree(tree: dict[str, Any], *, root: bool) -> None:
    if tree.get("op") not in _OPS:
        raise ValueError("Invalid availability structure (unknown op)")
    children = tree.get("c")
    if not isinstance(children, list):
        raise ValueError("Invalid availability structure (c is not array)")
    if root:
        if tree["op"] in ("&", "!|"):
            showc = tree.get("showc")
            if not isinstance(showc, list) or len(showc) != len(children) or not all(isinstance(b, bool) for b in showc):
                raise ValueError("Invalid availability structure (showc must be an array of bool, one per condition)")
        elif not isinstance(tree.get("show"), bool):
            raise ValueError("Invalid availability structure (show must be bool)")
    for child in children:
        if not isinstance(child, dict):
            raise ValueError("Invalid availability structure (condition not object)")
        if "op" in child:
            _tree(child, root=False)
        else:
            _condition(child)


def _condition(cond: dict[str, Any]) -> None:
    kind = cond.get("type")
    if kind not in _TYPES:
        raise ValueError(f"Unknown condition type: {kind}")
    if kind == "date":
        if cond.get("d") not in (">=", "<") or not isinstance(cond.get("t"), int):
            raise ValueError("Invalid date condition (d must be >= or <, t an integer)")
    elif kind in ("group", "grouping"):
        if "id" in cond and not isinstance(cond["id"], int):
            raise ValueError(f"Invalid {kind} condition (id)")
        if kind == "grouping" and "id" not in cond:
            raise ValueError("Invalid grouping condition (id)")
    elif kind == "profile":
        if not (isinstance(cond.get("sf"), str) or isinstance(cond.get("cf"), str)) or not isinstance(cond.get("op"), str):
            raise ValueError("Invalid profile condition (sf/cf, op)")
    elif kind == "completion":
        if not isinstance(cond.get("cm"), int) or not isinstance(cond.get("e"), int):
            raise ValueError("Invalid completion condition (cm, e)")
    elif not isinstance(cond.get("id"), int):
        raise ValueError("Invalid grade condition (id)")


def _when(t: int, zone: str) -> str:
    moment = datetime.fromtimestamp(t, UTC).astimezone(ZoneInfo(zone))
    return moment.strftime("%-d %B %Y, %-I:%M %p")


def _phrase(cond: dict[str, Any], zone: str, group_names: dict[int, str]) -> str:
    kind = cond.get("type")
    if kind == "date":
        word = "from" if cond["d"] == ">=" else "until"
        return f"It is {'on or after' if word == 'from' else 'before'} <strong>{_when(cond['t'], zone)}</strong>"
    if kind == "group":
        name = group_names.get(cond.get("id", 0), "any group")
        return f"You belong to <strong>{name}</strong>"
    if kind == "profile":
        field = cond.get("sf") or cond.get("cf")
        return f"Your {field} is <strong>{cond.get('v', '')}</strong>"
    return f"A {kind} condition is met"


def describe(text: str | None, zone: str, group_names: dict[int, str] | None = None) -> str | None:
    """Staff's view of a restriction ("Not available unless: …"), None when there is none."""
    if not text:
        return None
    try:
        tree = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(tree, dict) or not tree.get("c"):
        return None
    names = group_names or {}
    parts = [_phrase(c, zone, names) if "op" not in c else "A set of conditions is met" for c in tree["c"]]
    joiner = " and " if tree.get("op") in ("&", "!|") else " or "
    if len(parts) == 1:
        return f"Not available unless: {parts[0]}"
    items = "".join(f"<li>{p}</li>" for p in parts)
    return f'Not available unless {"all" if joiner == " and " else "any"} of:<ul>{items}</ul>'
