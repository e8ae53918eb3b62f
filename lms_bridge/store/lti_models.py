"""Tables of the LTI tool: tool key pairs and used nonces (registrations live in models.py)."""

from __future__ import annotations
