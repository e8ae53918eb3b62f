"""Answers as Moodle's REST server writes them: PHP json_encode() or the <RESPONSE> XML."""

from __future__ import annotations

import json
from typing import Any

from flask import Response

from .errors import MoodleError
from .schema import Desc, xmlize

_NO_CACHE = {
    "Cache-Control": "private, must-revalidate, pre-check=0, post-check=0, max-age=0",
    "Expires": "Thu, 01 Jan 1970 00:00:00 GMT",
    "Pragma": "no-cache",
    "Accept-Ranges": "none",
    "Access-Control-Allow-Origin": "*",
}


def _phpify(value: Any) -> Any:
    if isinstance(value, dict):
        if not value:
            return []  # an empty PHP array is [] whatever it stood for
        return {str(k): _phpify(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_phpify(v) for v in value]
    return value


def php_json(value: Any) -> str:
    """json_encode() with PHP's default flags: ASCII only, slashes escaped, no spaces."""
    return json.dumps(_phpify(value), ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def json_response(value: Any) -> Response:
    return Response(php_json(value), status=200, headers={"Content-Type": "application/json", **_NO_CACHE})


def xml_response(body: str) -> Response:
    return Response(body, status=200, headers={"Content-Type": "application/xml; charset=utf-8", **_NO_CACHE,
                                               "Content-Disposition": 'inline; filename="response.xml"'})


def answer(value: Any, desc: Desc | None, restformat: str) -> Response:
    if restformat == "json":
        return json_response(value)
    return xml_response('<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n' + xmlize(value, desc) + "</RESPONSE>\n")


def error(exc: MoodleError, restformat: str, debug: bool) -> Response:
    if restformat == "json":
        return json_response(exc.body(debug))
    out = ('<?xml version="1.0" encoding="UTF-8" ?>\n'
           f'<EXCEPTION class="{exc.exception}">\n'
           f"<ERRORCODE>{_escape(exc.errorcode)}</ERRORCODE>\n"
           f"<MESSAGE>{_escape(exc.message)}</MESSAGE>\n")
    if debug and exc.debuginfo is not None:
        out += f"<DEBUGINFO>{_escape(exc.debuginfo)}</DEBUGINFO>\n"
    return xml_response(out + "</EXCEPTION>\n")
