"""WSGI middleware in front of the Flask routes: throttle, auth, latency, faults and stats.

It sits where Canvas's RequestThrottle middleware sits (before the controller), buffers the
route's response so it can add the throttle headers, and can close the socket instead of
answering.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException

from .faults import Decision, FaultInjector
from .stats import Stats
from .throttle import Throttle, request_cost

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask

    from .config import SimulatorConfig

Headers = list[tuple[str, str]]
UPLOAD_PREFIX = "/files_api/"
SIM_PREFIX = "/__sim/"


class _Buffered:
    def __init__(self, status: str, headers: Headers, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


class Gate:
    def __init__(self, app: Flask, config: SimulatorConfig, throttle: Throttle, faults: FaultInjector,
                 stats: Stats, stopping: threading.Event) -> None:
        self.app = app
        self.wsgi: WSGIApplication = app.wsgi_app
        self.config = config
        self.throttle = throttle
        self.faults = faults
        self.stats = stats
        self.stopping = stopping
        self._error_ids = iter(range(100_001, 10**9))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(SIM_PREFIX):
            return self.wsgi(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        self.stats.begin(method, self._template(environ, method))
        try:
            if path.startswith(UPLOAD_PREFIX):
                # The upload URL is S3 / inst-fs, not Canvas: no token, no Canvas bucket.
                out = self._faulted(environ, method, path)
            else:
                out = self._throttled(environ, method, path)
        finally:
            self.stats.end()
        # A known length keeps the connection alive (werkzeug would chunk and close otherwise).
        headers = [*out.headers, ("Content-Length", str(len(out.body)))]
        start_response(out.status, headers)
        return [out.body]

    def _template(self, environ: WSGIEnvironment, method: str) -> str:
        try:
            rule, _ = self.app.url_map.bind_to_environ(environ).match(method=method, return_rule=True)
            return str(rule.rule)
        except HTTPException:
            return "(unmatched)"

    def _throttled(self, environ: WSGIEnvironment, method: str, path: str) -> _Buffered:
        token = _token(environ)
        reservation = self.throttle.reserve(f"token:{token}" if token else f"ip:{environ.get('REMOTE_ADDR')}")
        cost = 0.0
        try:
            if not reservation.allowed:
                self.stats.count_throttled()
                status = self.config.throttle_status
                reason = "Forbidden" if status == 403 else "Too Many Requests"
                return _Buffered(f"{status} {reason}", [("Content-Type", "text/plain; charset=utf-8"),
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
                    out = self._faulted(environ, method, path, executed)
                finally:
                    if executed:
                        cost = request_cost(self.config, method, listed=environ.get("sim.listed", 0),
                                            batch=environ.get("sim.batch", 0))
        finally:
            remaining = self.throttle.settle(reservation, cost)
        out.headers += [("X-Request-Cost", repr(cost)), ("X-Rate-Limit-Remaining", repr(round(remaining, 4)))]
        return out

    def _faulted(self, environ: WSGIEnvironment, method: str, path: str, executed: list[bool] | None = None) -> _Buffered:
        decision = self.faults.decide(method, path)
        latency = self.faults.latency_s()
        if latency:
            self.stopping.wait(latency)  # requests in flight overlap: one thread each

        def run() -> _Buffered:
            if executed is not None:
                executed.append(True)
            return self._run(environ)

        if decision.kind == "none":
            return run()
        self.stats.count_fault(_fault_name(decision))
        out = run() if decision.after else None
        if decision.kind == "status":
            return self._fault_response(decision.status)
        if decision.kind == "timeout":
            self.stopping.wait(decision.sleep_s)
            return out or _json(504, {"errors": [{"message": "Gateway Timeout"}]})
        _drop(environ)
        raise ConnectionResetError("simulated dropped connection")

    def _run(self, environ: WSGIEnvironment) -> _Buffered:
        captured: dict[str, Any] = {}

        def start(status: str, headers: Headers, exc_info: Any = None) -> Callable[[bytes], object]:
            captured["status"], captured["headers"] = status, list(headers)
            return lambda _data: None

        result = self.wsgi(environ, start)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close:
                close()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        return _Buffered(captured["status"], headers, body)

    def _fault_response(self, status: int) -> _Buffered:
        if status == 500:
            return _json(500, {"errors": [{"message": "An error occurred."}], "error_report_id": next(self._error_ids)})
        text = {502: "502 Bad Gateway", 503: "503 Service Unavailable", 504: "504 Gateway Timeout"}.get(status, str(status))
        return _Buffered(text, [("Content-Type", "text/html")], f"<html><body><h1>{text}</h1></body></html>".encode())


def _fault_name(decision: Decision) -> str:
    return f"status_{decision.status}" if decision.kind == "status" else decision.kind


def _token(environ: WSGIEnvironment) -> str | None:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    for part in environ.get("QUERY_STRING", "").split("&"):
        if part.startswith("access_token="):
            return part.split("=", 1)[1] or None
    return None


def _json(status: int, body: Any, extra: Headers | None = None) -> _Buffered:
    reasons = {401: "Unauthorized", 500: "Internal Server Error", 504: "Gateway Timeout"}
    return _Buffered(f"{status} {reasons.get(status, '')}".strip(),
                     [("Content-Type", "application/json; charset=utf-8"), *(extra or [])], json.dumps(body).encode())


def _drop(environ: WSGIEnvironment) -> None:
    """Shut the socket: the client sees a reset or "server disconnected", never a response."""
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
