"""Sync: the desired state of every course (pure), the operations that converge the LMS to it
(pure), and the engine that applies them through an adapter and records each in the audit log."""
