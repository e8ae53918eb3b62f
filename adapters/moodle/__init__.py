"""Moodle: the web-service client and adapter, the simulator, and the companion plugin."""
