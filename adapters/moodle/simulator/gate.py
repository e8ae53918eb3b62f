"""WSGI middleware in front of the Flask routes: latency, faults and per-function stats.

It learns the called function from the query string and the form body (then hands the body on
untouched), buffers the route's answer, and can close the socket instead of answering. Moodle has
no request throttle, so nothing is refused here.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from .faults import Decision, FaultInjector
from .rest import function_type
from .stats import Stats

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask

    from .state import MoodleSimulator

Headers = list[tuple[str, str]]
SIM_PREFIX = "/__sim/"
REST_PATH = "/webservice/rest/server.php"
UPLOAD_PATH = "/webservice/upload.php"


class _Buffered:
    def __init__(self, status: str, headers: Headers, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


class Gate:
    def __init__(self, app: Flask, sim: MoodleSimulator, faults: FaultInjector, stats: Stats,
                 stopping: threading.Event) -> None:
        self.wsgi: WSGIApplication = app.wsgi_app
        self.sim = sim
        self.faults = faults
        self.stats = stats
        self.stopping = stopping

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(SIM_PREFIX):
            return self.wsgi(environ, start_response)
        label, write = self._label(environ, path)
        self.stats.begin(label, write)
        try:
            out = self._faulted(environ, label, write)
        finally:
            self.stats.end()
        headers = [*out.headers, ("Content-Length", str(len(out.body)))]
        start_response(out.status, headers)
        return [out.body]

    def _label(self, environ: WSGIEnvironment, path: str) -> tuple[str, bool]:
        if path == UPLOAD_PATH:
            return "upload", True
        if path.startswith("/webservice/pluginfile.php"):
            return "pluginfile", False
        if path != REST_PATH:
            return f"(path) {path}", False
        name = None
        for key, value in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True):
            if key == "wsfunction":
                name = value
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
                if key == "wsfunction":
                    name = value
        label = name or "(no function)"
        return label, function_type(self.sim, name) == "write"

    def _faulted(self, environ: WSGIEnvironment, label: str, write: bool) -> _Buffered:
        decision = self.faults.decide(label, write)
        latency = self.faults.latency_s()
        if latency:
            self.stopping.wait(latency)  # requests in flight overlap: one thread each
        if decision.kind == "none":
            return self._run(environ)
        self.stats.count_fault(_fault_name(decision))
        out = self._run(environ) if decision.after else None
        if decision.kind == "status":
            return _html(decision.status)
        if decision.kind == "timeout":
            self.stopping.wait(decision.sleep_s)
            return out or _html(504)
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


def _fault_name(decision: Decision) -> str:
    return f"status_{decision.status}" if decision.kind == "status" else decision.kind


_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def _html(status: int) -> _Buffered:
    text = f"{status} {_REASONS.get(status, 'Error')}"
    return _Buffered(text, [("Content-Type", "text/html; charset=utf-8")],
                     f"<html><head><title>{text}</title></head><body><h1>{text}</h1></body></html>".encode())


def _drop(environ: WSGIEnvironment) -> None:
    """Shut the socket: the client sees a reset or "server disconnected", never a response."""
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
