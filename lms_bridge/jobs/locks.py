"""What a one-off `lms-bridge apply` shares with the job system: its course locks, and the
incident extensions and staggered releases recorded in the store.

An apply from files must not converge a course while a worker converges it too (both would
see an object missing and both create it), and must not undo what the exams office applied
during an exam (an incident's extension) or moved on purpose (a staggered release).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from ..lms import CourseRef
from ..store.job_models import ReleaseShiftRow
from ..sync.desired import Extension
from . import lease
from .converge import stored_extensions
from .handlers import CourseBusy

# Renewed every third of it while the apply runs, so it only lapses when the process has died:
# short, so that a rerun after a killed apply waits seconds, not minutes.
LOCK_TTL_SECONDS = 15.0


@contextmanager
def course_locks(engine: Engine, courses: Iterable[CourseRef], holder: str, *, wait: float = 2 * LOCK_TTL_SECONDS,
                 ttl: float = LOCK_TTL_SECONDS) -> Iterator[None]:
    """Hold every course's lock for the block, renewing them; CourseBusy if a job keeps one
    longer than `wait` seconds."""
    names = lease.lock_names(courses)
    if not lease.wait_for_locks(engine, names, holder, ttl, wait):
        raise CourseBusy(f"{', '.join(n.removeprefix('course:') for n in names)} busy with a job; try again")
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(ttl / 3):
            lease.renew_locks(engine, names, holder, ttl)

    renewer = threading.Thread(target=renew, name="course-locks", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
        lease.unlock(engine, names, holder)


def stored_adjustments(engine: Engine) -> tuple[Mapping[str, tuple[datetime, datetime]], tuple[Extension, ...]]:
    """Release shifts (exam id → (original start, new start)) and applied incident extensions,
    or nothing when the database holds no job tables yet."""
    if not inspect(engine).has_table(ReleaseShiftRow.__tablename__):
        return {}, ()
    with Session(engine) as session:
        shifts = {r.exam_id: (r.original_start, r.new_start) for r in session.scalars(select(ReleaseShiftRow))}
        return shifts, stored_extensions(session)
