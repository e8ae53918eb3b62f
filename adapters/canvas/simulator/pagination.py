"""lib/api.rb pagination: per_page default 10, clamped to 1..100, Link header, [] past the end."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar
from urllib.parse import urlencode

T = TypeVar("T")
_DROPPED = {"page", "per_page", "access_token", "api_key"}


def per_page(raw: str | None, default: int, maximum: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return default
    return max(1, min(value, maximum))


def page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw)) if raw else 1
    except ValueError:
        return 1


def paginate(
    items: Sequence[T],
    base_url: str,
    query: list[tuple[str, str]],
    *,
    default_per_page: int,
    max_per_page: int,
) -> tuple[list[T], str]:
    """One page of `items` and its Link header; the query string is kept, minus the token."""
    args = dict(query)
    size = per_page(args.get("per_page"), default_per_page, max_per_page)
    page = page_number(args.get("page"))
    last = max(1, math.ceil(len(items) / size))
    kept = [(k, v) for k, v in query if k not in _DROPPED]

    def link(n: int, rel: str) -> str:
        return f'<{base_url}?{urlencode([*kept, ("page", str(n)), ("per_page", str(size))])}>; rel="{rel}"'

    links = [link(page, "current")]
    if page < last:
        links.append(link(page + 1, "next"))
    if 1 < page <= last + 1:
        links.append(link(page - 1, "prev"))
    links += [link(1, "first"), link(last, "last")]
    start = (page - 1) * size
    return list(items[start:start + size]), ",".join(links)
