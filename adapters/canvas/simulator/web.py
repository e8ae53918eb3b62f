"""Request helpers shared by the route modules: params as Canvas sees them, pagination, JSON."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from flask import Response, current_app, json, request

from .pagination import paginate
from .params import as_list, merge, parse_pairs
from .state import CanvasSimulator

T = TypeVar("T")


def sim() -> CanvasSimulator:
    simulator: CanvasSimulator = current_app.extensions["canvas_sim"]
    return simulator


def base() -> str:
    return request.host_url.rstrip("/")


def params() -> dict[str, Any]:
    """Query string, then form or JSON body on top (Rails merges them the same way)."""
    # Parse the raw strings: a MultiDict groups repeated keys, losing the interleaving that
    # `a[][id]=1&a[][assignment_id]=2&a[][id]=3...` relies on.
    out = parse_pairs(parse_qsl(request.query_string.decode("utf-8", "replace"), keep_blank_values=True))
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            out = merge(out, body)
        elif body is not None:
            out["_json"] = body
    elif request.mimetype == "application/x-www-form-urlencoded":
        body = request.get_data(cache=True).decode("utf-8", "replace")
        out = merge(out, parse_pairs(parse_qsl(body, keep_blank_values=True)))
    elif request.mimetype == "multipart/form-data":
        out = merge(out, parse_pairs(request.form.items(multi=True)))
    return out


def nested(name: str) -> dict[str, Any]:
    value = params().get(name)
    return value if isinstance(value, dict) else {}


def include() -> set[str]:
    return {str(v) for v in as_list(params().get("include"))}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(body), status=status, content_type="application/json; charset=utf-8")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def paged(items: Sequence[T], render: Callable[[T], Any], wrap: str | None = None) -> Response:
    """A page of `items` with Canvas's Link header; the listed count feeds the request cost."""
    config = sim().config
    page, link = paginate(items, request.base_url, list(request.args.items(multi=True)),
                          default_per_page=config.default_per_page, max_per_page=config.max_per_page)
    request.environ["sim.listed"] = len(page)
    rendered = [render(item) for item in page]
    return json_response({wrap: rendered} if wrap else rendered, headers={"Link": link})


def count_batch(n: int) -> None:
    """Items a write handled (override students, extensions...): each adds to the cost."""
    request.environ["sim.batch"] = request.environ.get("sim.batch", 0) + n


def course_id(ref: str) -> int:
    return sim().course(ref).id


def no_content() -> Response:
    return Response(status=204)
