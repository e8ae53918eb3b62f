"""WSGI middleware in front of the Flask routes: latency, faults and per-function stats.

It learns the called function from the query string and the form body (then hands the body on
untouched), buffers the route's answer, and can close the socket instead of answering. Moodle has
no request throttle, so nothing is refused here.
"""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from adapters.simkit.gate import Buffered, FaultGate

from .faults import FaultInjector
from .rest import function_type
from .stats import Stats

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment
    from flask import Flask

    from .state import MoodleSimulator

REST_PATH = "/webservice/rest/server.php"
UPLOAD_PATH = "/webservice/upload.php"


class Gate(FaultGate):
    """Faults answer as the web server in front of PHP would: a small HTML page (simkit's default)."""

    faults: FaultInjector
    stats: Stats

    def __init__(self, app: Flask, sim: MoodleSimulator, faults: FaultInjector, stats: Stats,
                 stopping: threading.Event) -> None:
        super().__init__(app, faults, stats, stopping)
        self.sim = sim

    def handle(self, environ: WSGIEnvironment, path: str) -> Buffered:
        label, write = self._label(environ, path)
        self.stats.begin(label, write)
        try:
            return self.faulted(environ, self.faults.decide(label, write))
        finally:
            self.stats.end()

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
