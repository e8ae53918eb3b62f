"""SimulatorServer: the app on 127.0.0.1 in a background thread (werkzeug, threaded)."""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import Runtime, create_app, runtime_of
from .config import SimulatorConfig
from .faults import FaultInjector
from .state import MoodleSimulator
from .stats import Stats


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log(self, *args: Any, **kwargs: Any) -> None:
        pass


class SimulatorServer:
    """Usage: `with SimulatorServer(SimulatorConfig(version="5.3")) as server: server.base_url`.

    `.sim` is the live state (arrange data, inspect it, or make drift by hand), `.faults` injects
    failures, `.stats` counts calls per web-service function (also GET /__sim/stats).
    """

    def __init__(self, config: SimulatorConfig | None = None, *, sim: MoodleSimulator | None = None,
                 port: int = 0, host: str = "127.0.0.1") -> None:
        self.sim = sim or MoodleSimulator(config)
        self.config = self.sim.config
        self.app = create_app(self.sim, Runtime(FaultInjector(self.config)))
        self.runtime: Runtime = runtime_of(self.app)
        self._host, self._port = host, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def faults(self) -> FaultInjector:
        return self.runtime.faults

    @property
    def stats(self) -> Stats:
        return self.runtime.stats

    @property
    def token(self) -> str:
        return self.config.token

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.server_port)

    @property
    def base_url(self) -> str:
        """Moodle's wwwroot: the web services are under /webservice/."""
        return f"http://{self._host}:{self.port}"

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}/webservice/rest/server.php"

    @property
    def upload_url(self) -> str:
        return f"{self.base_url}/webservice/upload.php"

    def stats_snapshot(self) -> dict[str, Any]:
        return self.stats.snapshot()

    def reset_stats(self) -> None:
        self.stats.reset()

    def start(self) -> SimulatorServer:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.runtime.stopping.clear()
        self._server = make_server(self._host, self._port, self.app, threaded=True, request_handler=_QuietHandler)
        # A short poll keeps shutdown (and so each test's teardown) quick.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="moodle-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.runtime.stopping.set()  # wake requests sleeping in latency or timeout faults
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SimulatorServer:  # noqa: PYI034 - a final class in practice
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
