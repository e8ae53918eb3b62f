"""The Flask app: Canvas REST paths under /api/v1 and /api/quiz/v1, behind the Gate."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from . import api_assignments, api_content, api_courses, api_quizzes
from .errors import NOT_FOUND_MESSAGE, CanvasError
from .faults import FaultInjector
from .gate import Gate
from .state import CanvasSimulator
from .stats import Stats
from .throttle import Throttle
from .web import json_response


@dataclass
class Runtime:
    """What surrounds the state: throttle buckets, fault plan, counters, the stop signal."""

    throttle: Throttle
    faults: FaultInjector
    stats: Stats = field(default_factory=Stats)
    stopping: threading.Event = field(default_factory=threading.Event)


def create_app(sim: CanvasSimulator, runtime: Runtime | None = None) -> Flask:
    runtime = runtime or Runtime(Throttle(sim.config), FaultInjector(sim.config))
    app = Flask(__name__)
    app.extensions["canvas_sim"] = sim
    app.extensions["canvas_sim_runtime"] = runtime
    app.url_map.strict_slashes = False
    for blueprint in (api_courses.bp, api_assignments.bp, api_quizzes.classic, api_quizzes.new,
                      api_content.bp, api_content.files):
        app.register_blueprint(blueprint)

    @app.errorhandler(CanvasError)
    def canvas_error(error: CanvasError) -> Response:
        return json_response(error.body, status=error.status)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        # Unknown paths and methods answer like a missing record, as Canvas's API does.
        if error.code in (404, 405):
            return json_response({"errors": [{"message": NOT_FOUND_MESSAGE}]}, status=404)
        return json_response({"errors": [{"message": error.description}]}, status=error.code or 500)

    @app.get("/__sim/stats")
    def stats() -> Response:
        return json_response(runtime.stats.snapshot())

    @app.post("/__sim/reset_stats")
    def reset_stats() -> Response:
        runtime.stats.reset()
        return json_response(runtime.stats.snapshot())

    app.wsgi_app = Gate(app, sim.config, runtime.throttle, runtime.faults, runtime.stats,  # type: ignore[method-assign]
                        runtime.stopping)
    return app


def runtime_of(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions["canvas_sim_runtime"]
    return runtime
