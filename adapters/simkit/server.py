"""A WSGI app on 127.0.0.1 in a background thread (werkzeug, threaded), and the CLI's serve loop."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Protocol, Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .faults import FaultInjector
from .seed import SeedResult
from .stats import CallStats


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log(self, *args: Any, **kwargs: Any) -> None:
        pass


class _Runtime(Protocol):
    faults: Any
    stats: Any
    stopping: threading.Event


class ThreadedServer:
    """Serves `app` from a daemon thread; `runtime.stopping` wakes requests sleeping in latency
    or timeout faults when the server stops. Subclasses add the LMS's URLs and state."""

    thread_name = "lms-sim"

    def __init__(self, app: Any, runtime: _Runtime, *, port: int = 0, host: str = "127.0.0.1") -> None:
        self.app = app
        self.runtime = runtime
        self._host, self._port = host, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def faults(self) -> FaultInjector:
        return self.runtime.faults

    @property
    def stats(self) -> CallStats:
        return self.runtime.stats

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.server_port)

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def stats_snapshot(self) -> dict[str, Any]:
        return self.stats.snapshot()

    def reset_stats(self) -> None:
        self.stats.reset()

    def start(self) -> Self:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.runtime.stopping.clear()
        self._server = make_server(self._host, self._port, self.app, threaded=True, request_handler=_QuietHandler)
        # A short poll keeps shutdown (and so each test's teardown) quick.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=self.thread_name, daemon=True)
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class _Serving(Protocol):
    @property
    def base_url(self) -> str: ...

    @property
    def token(self) -> str: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: Any) -> None: ...


def serve_until_interrupted(server: _Serving, banner: Callable[[], Iterable[str]],
                            seeded: SeedResult | None) -> None:
    """`lms-bridge simulate …`: start, print `banner()` (it may read the URL), the token, what was
    seeded and the stats URL, then serve until Ctrl-C."""
    with server:
        for line in banner():
            print(line, flush=True)
        print(f"token: {server.token}", flush=True)
        if seeded:
            ids = [str(c) for c in seeded.courses.values()]
            shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
            print(f"courses: {shown or 'none'}; {len(seeded.students)} students, "
                  f"{seeded.enrollments} enrolments", flush=True)
        print(f"stats: {server.base_url}/__sim/stats", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
