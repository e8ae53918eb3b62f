"""The store: what the LMS cannot hold (timetable, plans, policy, registrations, audit).

SQLite by default, PostgreSQL for an institution. `database` makes engines and runs the
migrations; `repositories` reads and writes; `models` are the tables.
"""

from .database import DEFAULT_URL, database_url, downgrade, make_engine, session_factory, upgrade

__all__ = ["DEFAULT_URL", "database_url", "downgrade", "make_engine", "session_factory", "upgrade"]
