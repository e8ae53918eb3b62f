"""Fixtures and helpers shared by several test folders (imported by their conftest.py files):
PostgreSQL databases, the fake-LMS app, reading pages, job workers, a browser."""
