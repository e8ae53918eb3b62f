"""PHP's request-variable parsing (`$_GET` / `$_POST`): bracket names into nested arrays.

`options[0][name]=excludemodules&options[0][value]=1` becomes
`{"options": {0: {"name": "excludemodules", "value": "1"}}}`, as php_register_variable_ex() builds
it: `a[]` appends, numeric keys become integers ("05" stays a string), a later scalar replaces an
array and a later array replaces a scalar, dots and spaces in the base name become underscores, an
unclosed first bracket becomes an underscore, text after a `]` is ignored, and variables past
`max_input_vars` are dropped (PHP warns and carries on; the web-service function never sees them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

PhpArray = dict[Any, Any]
MAX_NESTING = 64
_INT_KEY = re.compile(r"-?[1-9][0-9]*|0")


def php_key(text: str) -> str | int:
    """An array key as PHP stores it: canonical decimal integers become ints."""
    if _INT_KEY.fullmatch(text) and -(2**63) <= int(text) < 2**63:
        return int(text)
    return text


def _split(name: str) -> tuple[str, list[str]] | None:
    """Base name and bracket segments; None when PHP would ignore the variable."""
    name = name.lstrip(" ")
    bracket = name.find("[")
    base = name if bracket < 0 else name[:bracket]
    base = base.replace(".", "_").replace(" ", "_")
    if not base:
        return None
    if bracket < 0:
        return base, []
    rest = name[bracket:]
    segments: list[str] = []
    first = True
    while rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            if first:
                # PHP un-terminates the name: "a[b" is the plain variable "a_b".
                return base + "_" + rest[1:], []
            break
        segments.append(rest[1:close])
        rest = rest[close + 1:]
        first = False
        if not rest.startswith("["):
            break  # anything after "]" that is not another "[" is ignored
    return base, segments


def _next_index(array: PhpArray) -> int:
    ints = [k for k in array if isinstance(k, int)]
    return max(ints) + 1 if ints and max(ints) >= 0 else 0


def parse_pairs(pairs: Iterable[tuple[str, str]], max_input_vars: int | None = None) -> tuple[PhpArray, int]:
    """Build PHP's array from decoded (name, value) pairs. Returns (array, variables dropped)."""
    out: PhpArray = {}
    dropped = 0
    for count, (name, value) in enumerate(pairs):
        if max_input_vars is not None and count >= max_input_vars:
            dropped += 1
            continue
        split = _split(name)
        if split is None:
            continue
        base, segments = split
        if len(segments) >= MAX_NESTING:
            continue
        key: Any = php_key(base)
        target = out
        for segment in segments:
            child = target.get(key)
            if not isinstance(child, dict):
                child = {}
                target[key] = child
            target = child
            key = _next_index(target) if segment == "" else php_key(segment)
        target[key] = value
    return out, dropped


def merge(get: PhpArray, post: PhpArray) -> PhpArray:
    """array_merge($_GET, $_POST): POST wins for a repeated top-level name (string keys)."""
    out = dict(get)
    out.update(post)
    return out
