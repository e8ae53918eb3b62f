"""A test whose service is missing skips with the reason, or fails under
LMS_BRIDGE_REQUIRE_SERVICES=1 (CI), where every service must be there."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIRE_SERVICES_ENV = "LMS_BRIDGE_REQUIRE_SERVICES"


def unavailable(reason: str) -> NoReturn:
    if os.environ.get(REQUIRE_SERVICES_ENV) == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)
