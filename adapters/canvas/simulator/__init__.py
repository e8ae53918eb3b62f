"""A Canvas LMS simulator: the REST surface lms_bridge uses, over real HTTP.

    with SimulatorServer(SimulatorConfig(latency_ms=30)) as server:
        seed_from_files(server.sim, "timetable.csv", "candidates.csv")
        ...  # point the Canvas adapter at server.base_url with server.token
        server.stats.snapshot()
"""

from __future__ import annotations

from pathlib import Path

from adapters.simkit.server import serve_until_interrupted

from .app import create_app
from .config import SimulatorConfig
from .errors import CanvasError
from .faults import FaultInjector
from .seed import SeedResult, seed_from_files
from .server import SimulatorServer
from .state import CanvasSimulator
from .throttle import LeakyBucket, Throttle

__all__ = [
    "CanvasError",
    "CanvasSimulator",
    "FaultInjector",
    "LeakyBucket",
    "SeedResult",
    "SimulatorConfig",
    "SimulatorServer",
    "Throttle",
    "create_app",
    "seed_from_files",
    "serve_forever",
]


def serve_forever(
    port: int,
    token: str | None = None,
    timetable: str | Path | None = None,
    candidates: str | Path | None = None,
    latency_ms: float = 0.0,
    fault_rate: float = 0.0,
) -> None:
    """`lms-bridge simulate canvas`: serve on 127.0.0.1:port until Ctrl-C."""
    config = SimulatorConfig(token=token or SimulatorConfig().token, latency_ms=latency_ms,
                             fault_rate=fault_rate, seed=None)
    server = SimulatorServer(config, port=port)
    if (timetable is None) != (candidates is None):
        raise ValueError("--timetable and --candidates go together")
    seeded = seed_from_files(server.sim, timetable, candidates) if timetable and candidates else None
    serve_until_interrupted(server, lambda: [f"Canvas simulator at {server.base_url}  (API {server.api_url})"],
                            seeded)
