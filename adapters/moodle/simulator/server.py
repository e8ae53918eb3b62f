"""SimulatorServer: the app on 127.0.0.1 in a background thread (werkzeug, threaded)."""

from __future__ import annotations

from adapters.simkit.server import ThreadedServer

from .app import Runtime, create_app, runtime_of
from .config import SimulatorConfig
from .faults import FaultInjector
from .state import MoodleSimulator
from .stats import Stats


class SimulatorServer(ThreadedServer):
    """Usage: `with SimulatorServer(SimulatorConfig(version="5.3")) as server: server.base_url`.

    `.sim` is the live state (arrange data, inspect it, or make drift by hand), `.faults` injects
    failures, `.stats` counts calls per web-service function (also GET /__sim/stats).
    """

    thread_name = "moodle-sim"
    runtime: Runtime

    def __init__(self, config: SimulatorConfig | None = None, *, sim: MoodleSimulator | None = None,
                 port: int = 0, host: str = "127.0.0.1") -> None:
        self.sim = sim or MoodleSimulator(config)
        self.config = self.sim.config
        app = create_app(self.sim, Runtime(FaultInjector(self.config)))
        super().__init__(app, runtime_of(app), port=port, host=host)

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
    def base_url(self) -> str:
        """Moodle's wwwroot: the web services are under /webservice/."""
        return super().base_url

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}/webservice/rest/server.php"

    @property
    def upload_url(self) -> str:
        return f"{self.base_url}/webservice/upload.php"
