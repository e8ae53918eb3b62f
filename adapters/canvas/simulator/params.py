"""Rails-style request parameters: form brackets (`a[b][]=1`, `a[][k]=v`) and JSON bodies."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_HEAD = re.compile(r"\A[\[\]]*([^\[\]]+)\]*")


def parse_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Rack's normalize_params, so repeated keys start new hashes exactly as Canvas sees them."""
    params: dict[str, Any] = {}
    for name, value in pairs:
        _normalize(params, name, value)
    return params


def _normalize(params: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    match = _HEAD.match(name)
    if not match:
        return params
    key, after = match.group(1), name[match.end():]
    if after == "":
        params[key] = value
    elif after == "[]":
        current = params.get(key)
        if not isinstance(current, list):
            current = params[key] = []
        current.append(value)
    elif after.startswith("[]"):
        child = after[2:]
        child_match = re.match(r"\A\[([^\[\]]+)\](.*)\Z", child)
        child_key = child_match.group(1) + child_match.group(2) if child_match else child
        current = params.get(key)
        if not isinstance(current, list):
            current = params[key] = []
        last = current[-1] if current else None
        if isinstance(last, dict) and not _has_key(last, child_key):
            _normalize(last, child_key, value)
        else:
            current.append(_normalize({}, child_key, value))
    else:
        current = params.get(key)
        if not isinstance(current, dict):
            current = params[key] = {}
        _normalize(current, after, value)
    return params


def _has_key(params: dict[str, Any], key: str) -> bool:
    # Rack: a key with [] never "exists", so array children keep filling the last hash.
    if "[]" in key:
        return False
    parts = [p for p in re.split(r"[\[\]]+", key) if p]
    node: Any = params
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Body params win over query params, as in Rails."""
    out = dict(base)
    out.update(extra)
    return out


def as_list(value: Any) -> list[Any]:
    """Arrays may arrive as lists, as `{"0": .., "1": ..}` hashes, or as a single value."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and value and all(str(k).isdigit() for k in value):
        return [value[k] for k in sorted(value, key=lambda k: int(k))]
    if isinstance(value, str) and value == "":
        return []
    return [value]


_TRUE = {"1", "true", "t", "yes", "y", "on"}


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return False


def to_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value.strip())
    raise ValueError(f"not an integer: {value!r}")


def to_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return float(value)
    return float(value)
