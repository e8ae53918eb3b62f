"""The tool's pages: exam setters' and exams officers' views, and students' own times."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the page blueprints to the app (called by the app factory)."""
