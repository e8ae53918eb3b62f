"""SimulatorServer: the app on 127.0.0.1 in a background thread (werkzeug, threaded)."""

from __future__ import annotations

from adapters.simkit.server import ThreadedServer

from .app import Runtime, create_app, runtime_of
from .config import SimulatorConfig
from .faults import FaultInjector
from .state import CanvasSimulator
from .stats import Stats
from .throttle import Throttle


class SimulatorServer(ThreadedServer):
    """Usage: `with SimulatorServer(SimulatorConfig(latency_ms=20)) as server: server.base_url`.

    `.sim` is the live state (inspect it, or make drift by hand), `.faults` injects failures,
    `.stats` counts calls, `.throttle` holds the buckets.
    """

    thread_name = "canvas-sim"
    runtime: Runtime

    def __init__(self, config: SimulatorConfig | None = None, *, sim: CanvasSimulator | None = None,
                 port: int = 0, host: str = "127.0.0.1") -> None:
        self.sim = sim or CanvasSimulator(config)
        self.config = self.sim.config
        app = create_app(self.sim, Runtime(Throttle(self.config), FaultInjector(self.config)))
        super().__init__(app, runtime_of(app), port=port, host=host)

    @property
    def faults(self) -> FaultInjector:
        return self.runtime.faults

    @property
    def stats(self) -> Stats:
        return self.runtime.stats

    @property
    def throttle(self) -> Throttle:
        return self.runtime.throttle

    @property
    def token(self) -> str:
        return self.config.token

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v1"
