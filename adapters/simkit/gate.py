"""WSGI middleware in front of a simulator's Flask routes: latency, faults and call counts.

It buffers the route's response (so a subclass can add headers), sets Content-Length, and can
close the socket instead of answering. A subclass says how a request is named and counted
(`handle`) and what a fault looks like on the wire (`fault_response`, `timeout_response`).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .faults import Decision, FaultInjector
from .stats import CallStats

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask

Headers = list[tuple[str, str]]
SIM_PREFIX = "/__sim/"


class Buffered:
    def __init__(self, status: str, headers: Headers, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


class FaultGate:
    def __init__(self, app: Flask, faults: FaultInjector, stats: CallStats, stopping: threading.Event) -> None:
        self.app = app
        self.wsgi: WSGIApplication = app.wsgi_app
        self.faults = faults
        self.stats = stats
        self.stopping = stopping

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(SIM_PREFIX):
            return self.wsgi(environ, start_response)
        out = self.handle(environ, path)
        # A known length keeps the connection alive (werkzeug would chunk and close otherwise).
        headers = [*out.headers, ("Content-Length", str(len(out.body)))]
        start_response(out.status, headers)
        return [out.body]

    def handle(self, environ: WSGIEnvironment, path: str) -> Buffered:
        """Count the request, then answer it (usually through `faulted`)."""
        raise NotImplementedError

    def fault_response(self, status: int) -> Buffered:
        return html_error(status)

    def timeout_response(self) -> Buffered:
        return html_error(504)

    def faulted(self, environ: WSGIEnvironment, decision: Decision,
                executed: list[bool] | None = None) -> Buffered:
        """Wait the latency, then run the route or fail as `decision` says (`executed` gets a
        True appended when the route ran)."""
        latency = self.faults.latency_s()
        if latency:
            self.stopping.wait(latency)  # requests in flight overlap: one thread each

        def run() -> Buffered:
            if executed is not None:
                executed.append(True)
            return self.run(environ)

        if decision.kind == "none":
            return run()
        self.stats.count_fault(fault_name(decision))
        out = run() if decision.after else None
        if decision.kind == "status":
            return self.fault_response(decision.status)
        if decision.kind == "timeout":
            self.stopping.wait(decision.sleep_s)
            return out or self.timeout_response()
        drop_connection(environ)
        raise ConnectionResetError("simulated dropped connection")

    def run(self, environ: WSGIEnvironment) -> Buffered:
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
        return Buffered(captured["status"], headers, body)


def fault_name(decision: Decision) -> str:
    return f"status_{decision.status}" if decision.kind == "status" else decision.kind


_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def html_error(status: int) -> Buffered:
    """What a web server or proxy in front of the LMS answers: a small HTML page."""
    text = f"{status} {_REASONS.get(status, 'Error')}"
    return Buffered(text, [("Content-Type", "text/html; charset=utf-8")],
                    f"<html><head><title>{text}</title></head><body><h1>{text}</h1></body></html>".encode())


def drop_connection(environ: WSGIEnvironment) -> None:
    """Shut the socket: the client sees a reset or "server disconnected", never a response."""
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
