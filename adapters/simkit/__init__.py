"""An LMS-neutral toolkit for the HTTP simulators (Canvas, Moodle): the threaded werkzeug server,
fault injection, the latency/fault gate, call counters, and the `simulate` CLI's serve loop.

What an LMS does (its routes, auth, throttle, error bodies, how a request is named) stays in that
LMS's simulator; these pieces only know "a request with a label that is a read or a write".
"""

from .faults import Decision, FaultInjector, FaultKind, FaultRule, FaultSettings
from .gate import Buffered, FaultGate, drop_connection, html_error
from .seed import SeedResult, courses_of_candidates
from .server import ThreadedServer, serve_until_interrupted
from .stats import CallStats

__all__ = [
    "Buffered",
    "CallStats",
    "Decision",
    "FaultGate",
    "FaultInjector",
    "FaultKind",
    "FaultRule",
    "FaultSettings",
    "SeedResult",
    "ThreadedServer",
    "courses_of_candidates",
    "drop_connection",
    "html_error",
    "serve_until_interrupted",
]
