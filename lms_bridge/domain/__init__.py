"""The pure core: exams, plans, policies, calendars, windows, incidents, staggering.

Nothing here does I/O or reads the clock; every instant is passed in. This package
imports nothing from the rest of lms_bridge.
"""
