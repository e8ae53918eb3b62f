"""WSGI middleware in front of the Flask routes: throttle, auth, latency, faults and stats.

It sits where Canvas's RequestThrottle middleware sits (before the controller), buffers the
route's response so it can add the throttle headers, and can close the socket instead of
answering (latency, faults and buffering: adapters.simkit.gate).
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException

from adapters.simkit.gate import Buffered, FaultGate, Headers

from .faults import FaultInjector
from .stats import Stats
from .throttle import Throttle, request_cost

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment
    from flask import Flask

    from .config import SimulatorConfig

UPLOAD_PREFIX = "/files_api/"


class Gate(FaultGate):
    faults: FaultInjector
    stats: Stats

    def __init__(self, app: Flask, config: SimulatorConfig, throttle: Throttle, faults: FaultInjector,
                 stats: Stats, stopping: threading.Event) -> None:
        super().__init__(app, faults, stats, stopping)
        self.config = config
        self.throttle = throttle
        self._error_ids = iter(range(100_001, 10**9))

    def handle(self, environ: WSGIEnvironment, path: str) -> Buffered:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        self.stats.begin(method, self._template(environ, method))
        try:
            if path.startswith(UPLOAD_PREFIX):
                # The upload URL is S3 / inst-fs, not Canvas: no token, no Canvas bucket.
                return self.faulted(environ, self.faults.decide(method, path))
            return self._throttled(environ, method, path)
        finally:
            self.stats.end()

    def _template(self, environ: WSGIEnvironment, method: str) -> str:
        try:
            rule, _ = self.app.url_map.bind_to_environ(environ).match(method=method, return_rule=True)
            return str(rule.rule)
        except HTTPException:
            return "(unmatched)"

    def _throttled(self, environ: WSGIEnvironment, method: str, path: str) -> Buffered:
        token = _token(environ)
        reservation = self.throttle.reserve(f"token:{token}" if token else f"ip:{environ.get('REMOTE_ADDR')}")
        cost = 0.0
        try:
            if not reservation.allowed:
                self.stats.count_throttled()
                status = self.config.throttle_status
                reason = "Forbidden" if status == 403 else "Too Many Requests"
                return Buffered(f"{status} {reason}", [("Content-Type", "text/plain; charset=utf-8"),
                                                         ("X-Rate-Limit-Remaining", "0.0")],
                                f"{status} Forbidden (Rate Limit Exceeded)\n".encode())
            if token not in self.config.tokens:
                self.stats.count_unauthorized()
                cost = request_cost(self.config, "GET")
                out = _json(401, {"status": "unauthenticated", "errors": [{"message": "user authorization required"}]},
                            [("WWW-Authenticate", 'Bearer realm="canvas-lms"')])
            else:
                executed: list[bool] = []
                try:
                    out = self.faulted(environ, self.faults.decide(method, path), executed)
                finally:
                    if executed:
                        cost = request_cost(self.config, method, listed=environ.get("sim.listed", 0),
                                            batch=environ.get("sim.batch", 0))
        finally:
            remaining = self.throttle.settle(reservation, cost)
        out.headers += [("X-Request-Cost", repr(cost)), ("X-Rate-Limit-Remaining", repr(round(remaining, 4)))]
        return out

    def fault_response(self, status: int) -> Buffered:
        if status == 500:
            return _json(500, {"errors": [{"message": "An error occurred."}], "error_report_id": next(self._error_ids)})
        text = {502: "502 Bad Gateway", 503: "503 Service Unavailable", 504: "504 Gateway Timeout"}.get(status, str(status))
        return Buffered(text, [("Content-Type", "text/html")], f"<html><body><h1>{text}</h1></body></html>".encode())

    def timeout_response(self) -> Buffered:
        return _json(504, {"errors": [{"message": "Gateway Timeout"}]})


def _token(environ: WSGIEnvironment) -> str | None:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    for part in environ.get("QUERY_STRING", "").split("&"):
        if part.startswith("access_token="):
            return part.split("=", 1)[1] or None
    return None


def _json(status: int, body: Any, extra: Headers | None = None) -> Buffered:
    reasons = {401: "Unauthorized", 500: "Internal Server Error", 504: "Gateway Timeout"}
    return Buffered(f"{status} {reasons.get(status, '')}".strip(),
                    [("Content-Type", "application/json; charset=utf-8"), *(extra or [])], json.dumps(body).encode())
