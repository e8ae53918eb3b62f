"""LMS connections from options or the environment, opened as adapters for one run."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .lms import LmsAdapter

# httpx logs whole URLs at INFO, query strings and all (`sis_user_id[]=...`): keep it quiet.
logging.getLogger("httpx").setLevel(logging.WARNING)


# Canvas admits about hwm 600 / up-front cost 50 - 1 = 11 requests in flight per token; the
# client's pacer stays below whatever X-Rate-Limit-Remaining says is left.
CANVAS_MAX_IN_FLIGHT = 11
# Moodle has no throttle, but a site has a limited pool of PHP workers: a polite client keeps
# few calls in flight ($LMS_BRIDGE_MOODLE_MAX_IN_FLIGHT, default 6; $LMS_BRIDGE_MOODLE_TIMEOUT s).
MOODLE_MAX_IN_FLIGHT = 6
MOODLE_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Connections:
    canvas_url: str | None = None
    canvas_token: str | None = None
    moodle_url: str | None = None
    moodle_token: str | None = None

    @classmethod
    def from_options(cls, **options: str | None) -> Connections:
        """Options win; LMS_BRIDGE_CANVAS_URL and friends fill the gaps."""
        values = {k: options.get(k) or os.environ.get(f"LMS_BRIDGE_{k.upper()}") for k in cls.__dataclass_fields__}
        return cls(**values)


@dataclass
class OpenConnections:
    adapters: dict[str, LmsAdapter]
    clients: list

    @property
    def reads(self) -> int:
        return sum(c.metrics.calls - c.metrics.writes for c in self.clients)

    @property
    def writes(self) -> int:
        return sum(c.metrics.writes for c in self.clients)

    def reset_metrics(self) -> None:
        for c in self.clients:
            c.metrics.reset()


@asynccontextmanager
async def open_connections(conn: Connections, zone: ZoneInfo) -> AsyncIterator[OpenConnections]:
    async with AsyncExitStack() as stack:
        adapters: dict[str, LmsAdapter] = {}
        clients = []
        if conn.canvas_url and conn.canvas_token:
            from adapters.canvas.adapter import CanvasAdapter
            from adapters.canvas.client import CanvasClient

            client = await stack.enter_async_context(
                CanvasClient(conn.canvas_url, conn.canvas_token, max_concurrency=CANVAS_MAX_IN_FLIGHT,
                             initial_concurrency=CANVAS_MAX_IN_FLIGHT // 2)
            )
            clients.append(client)
            adapters["canvas"] = CanvasAdapter(client, zone)
        if conn.moodle_url and conn.moodle_token:
            from adapters.moodle.adapter import MoodleAdapter
            from adapters.moodle.client import MoodleClient

            moodle = await stack.enter_async_context(
                MoodleClient(conn.moodle_url, conn.moodle_token,
                             max_concurrency=int(os.environ.get("LMS_BRIDGE_MOODLE_MAX_IN_FLIGHT") or MOODLE_MAX_IN_FLIGHT),
                             timeout=float(os.environ.get("LMS_BRIDGE_MOODLE_TIMEOUT") or MOODLE_TIMEOUT_S))
            )
            clients.append(moodle)
            adapters["moodle"] = MoodleAdapter(moodle, zone)
        yield OpenConnections(adapters, clients)
