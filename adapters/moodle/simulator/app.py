"""The Flask app: Moodle's web-service endpoints behind the Gate, plus /__sim/ for tests."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from flask import Flask, Response, request

from . import rest, upload
from .faults import FaultInjector
from .gate import Gate
from .state import MoodleSimulator
from .stats import Stats


@dataclass
class Runtime:
    """What surrounds the state: fault plan, counters, the stop signal."""

    faults: FaultInjector
    stats: Stats = field(default_factory=Stats)
    stopping: threading.Event = field(default_factory=threading.Event)


def create_app(sim: MoodleSimulator, runtime: Runtime | None = None) -> Flask:
    runtime = runtime or Runtime(FaultInjector(sim.config))
    app = Flask(__name__)
    app.extensions["moodle_sim"] = sim
    app.extensions["moodle_sim_runtime"] = runtime

    @app.route("/webservice/rest/server.php", methods=["GET", "POST"])
    def server() -> Response:
        parsed = rest.read_request(sim.config.max_input_vars)
        response, errorcode = rest.handle(sim, sim.config.wwwroot or request.host_url.rstrip("/"), parsed)
        if errorcode:
            runtime.stats.count_error(errorcode)
        return response

    @app.route("/webservice/upload.php", methods=["POST"])
    def upload_file() -> Response:
        return upload.handle_upload(sim)

    @app.get("/webservice/pluginfile.php/<path:path>")
    def pluginfile(path: str) -> Response:
        return upload.handle_pluginfile(sim, path)

    @app.get("/__sim/stats")
    def stats() -> Response:
        return Response(json.dumps(runtime.stats.snapshot()), content_type="application/json")

    @app.post("/__sim/reset_stats")
    def reset_stats() -> Response:
        runtime.stats.reset()
        return Response(json.dumps(runtime.stats.snapshot()), content_type="application/json")

    app.wsgi_app = Gate(app, sim, runtime.faults, runtime.stats, runtime.stopping)  # type: ignore[method-assign]
    return app


def runtime_of(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions["moodle_sim_runtime"]
    return runtime
