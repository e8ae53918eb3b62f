"""Shared doubles for the Moodle client and adapter tests: recorded fixtures, a fake Moodle
endpoint that answers by `wsfunction`, and a sleep that does not wait."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

BASE = "https://moodle.test"
REST = f"{BASE}/webservice/rest/server.php"
TOKEN = "tok-5f0e-SECRET"
FIXTURES = Path(__file__).parent / "fixtures"


def fixture(prefix: str) -> dict[str, Any]:
    """A recorded call by its number ("19") or file stem."""
    (path,) = [p for p in FIXTURES.glob(f"{prefix}*.json") if p.stem == prefix or p.stem.startswith(prefix + "_")]
    return json.loads(path.read_text(encoding="utf-8"))


def body_of(prefix: str) -> Any:
    return fixture(prefix)["body"]


def recorded_form(prefix: str) -> list[tuple[str, str]]:
    """The fixture's form without the reserved wstoken/wsfunction/moodlewsrestformat."""
    return [(k, v) for k, v in fixture(prefix)["request"]["form"]
            if k not in ("wstoken", "wsfunction", "moodlewsrestformat")]


class FakeSleep:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)


Answer = Any | Callable[[list[tuple[str, str]]], Any]


class FakeMoodle:
    """A Moodle REST endpoint for httpx.MockTransport: answers each `wsfunction` from a table
    (a JSON body, an `httpx.Response`, an exception to raise, or a callable taking the form),
    and records every call's form (token included, for the tests that check where it goes)."""

    def __init__(self, answers: dict[str, Answer] | None = None) -> None:
        self.answers: dict[str, Answer] = dict(answers or {})
        self.calls: list[tuple[str, list[tuple[str, str]]]] = []
        self.requests: list[httpx.Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = 0.0

    def functions(self) -> list[str]:
        return [f for f, _ in self.calls]

    def forms(self, function: str) -> list[list[tuple[str, str]]]:
        return [form for f, form in self.calls if f == function]

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        content = request.content.decode()
        if request.url.path.endswith("/webservice/upload.php"):
            function, form = "webservice/upload.php", []
        else:
            form = parse_qsl(content, keep_blank_values=True)
            function = dict(form).get("wsfunction", "")
        self.calls.append((function, form))
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            answer = self.answers.get(function)
            if isinstance(answer, list) and answer and all(isinstance(a, _Seq) for a in answer[:1]):
                answer = answer[0].next()
            if callable(answer) and not isinstance(answer, httpx.Response):
                answer = answer([(k, v) for k, v in form if k not in ("wstoken", "wsfunction", "moodlewsrestformat")])
            if isinstance(answer, BaseException):
                raise answer
            if isinstance(answer, httpx.Response):
                return answer
            if answer is None and function not in self.answers:
                answer = {"exception": "dml_missing_record_exception", "errorcode": "invalidrecord",
                          "message": "Can't find data record in database table external_functions."}
            return httpx.Response(200, json=answer, headers={"Content-Type": "application/json"})
        finally:
            self.in_flight -= 1


class _Seq:
    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)

    def next(self) -> Any:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def seq(*answers: Any) -> list:
    """Answers in turn (the last one repeats)."""
    return [_Seq(*answers)]
