"""lms_bridge: exam windows computed from policy, written to Canvas and Moodle."""

__version__ = "0.1.0"
