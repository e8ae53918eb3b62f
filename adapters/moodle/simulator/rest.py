"""/webservice/rest/server.php: webservice_rest_server::run() step by step.

parse the request (GET and POST merged, reserved names taken out) → authenticate the token →
load the function (exists in this Moodle? in the token's service?) → validate parameters →
execute → clean the answer → JSON or XML. Every failure is an HTTP 200 exception body.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from flask import Response, request

from . import encode
from .context import Call
from .errors import MoodleError, access_exception, invalid_parameter, invalid_token, missing_record
from .phpform import PhpArray, merge, parse_pairs
from .registry import OTHER_CORE_FUNCTIONS, ExternalFunction, lookup, service_functions
from .schema import clean_returns, validate_params
from .state import MoodleSimulator

log = logging.getLogger(__name__)
SETTINGS = ("moodlewssettingraw", "moodlewssettingfileurl", "moodlewssettingfilter", "moodlewssettinglang",
            "moodlewssettingtimezone")


@dataclass
class ParsedRequest:
    token: Any
    function: Any
    restformat: str
    params: PhpArray
    dropped: int


def read_request(max_input_vars: int) -> ParsedRequest:
    """$_GET + $_POST as PHP builds them, with the rest server's reserved names taken out."""
    query, dropped_get = parse_pairs(parse_qsl(request.query_string.decode("utf-8", "replace"),
                                               keep_blank_values=True), max_input_vars)
    post: PhpArray = {}
    dropped_post = 0
    if request.mimetype == "application/x-www-form-urlencoded":
        body = request.get_data(cache=True).decode("utf-8", "replace")
        post, dropped_post = parse_pairs(parse_qsl(body, keep_blank_values=True), max_input_vars)
    elif request.mimetype == "multipart/form-data":
        post, dropped_post = parse_pairs(request.form.items(multi=True), max_input_vars)
    for name in SETTINGS:
        query.pop(name, None)
        post.pop(name, None)
    merged = merge(query, post)
    fmt = merged.pop("moodlewsrestformat", None)
    restformat = fmt if fmt in ("json", "xml") else "xml"
    token = merged.pop("wstoken", None)
    function = merged.pop("wsfunction", None)
    return ParsedRequest(token, function, restformat, merged, dropped_get + dropped_post)


def function_type(sim: MoodleSimulator, name: Any) -> str:
    fn = lookup(name, sim.config) if isinstance(name, str) else None
    return fn.type if fn else "read"


def handle(sim: MoodleSimulator, wwwroot: str, parsed: ParsedRequest) -> tuple[Response, str | None]:
    """The answer, and the error code when it is an exception body (for the stats)."""
    debug = sim.config.debug
    try:
        call, fn = _authorise(sim, wwwroot, parsed)
        params = validate_params(fn.params, parsed.params)
        value = fn.handler(call, params)
        desc = fn.returns_desc(sim.config)
        with sim.lock:
            cleaned = clean_returns(desc, value)
        return encode.answer(cleaned, desc, parsed.restformat), None
    except MoodleError as error:
        return encode.error(error, parsed.restformat, debug), error.errorcode


def _authorise(sim: MoodleSimulator, wwwroot: str, parsed: ParsedRequest) -> tuple[Call, ExternalFunction]:
    account = sim.accounts.get(parsed.token) if isinstance(parsed.token, str) else None
    if account is None:
        raise invalid_token()
    name = parsed.function
    if not name:
        raise invalid_parameter("Missing function name")
    if not isinstance(name, str):
        raise missing_record("external_functions")
    fn = lookup(name, sim.config)
    if fn is None:
        if name in OTHER_CORE_FUNCTIONS:
            raise access_exception(name)
        raise missing_record("external_functions", "SELECT * FROM {external_functions} WHERE name = ?", (name,))
    if fn not in service_functions(sim.config):
        raise access_exception(name)
    return Call(sim, account, wwwroot, name), fn
