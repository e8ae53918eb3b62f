"""Tables of the job system: the scheduler's leader lease and the work queue."""

from __future__ import annotations
