"""Throttled requests are always retried; faults only for idempotent requests."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from adapters.canvas.errors import (
    CanvasServerError,
    CanvasThrottled,
    CanvasTransportError,
    CanvasUncertainWrite,
)
from adapters.canvas.throttle import RetryPolicy

from ._support import API

RATE_LIMIT_403 = httpx.Response(
    403,
    text="403 Forbidden (Rate Limit Exceeded)\n",
    headers={"Content-Type": "text/plain; charset=utf-8", "X-Rate-Limit-Remaining": "0.0"},
)
RATE_LIMIT_429 = httpx.Response(
    429, text="429 Too Many Requests (Rate Limit Exceeded)", headers={"X-Rate-Limit-Remaining": "0.0"}
)
OK = httpx.Response(200, json={"id": 1}, headers={"X-Rate-Limit-Remaining": "600.0", "X-Request-Cost": "0.5"})


@pytest.mark.parametrize("throttled", [RATE_LIMIT_429, RATE_LIMIT_403], ids=["429", "403-rate-limit"])
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_throttled_request_is_retried_for_any_method(router, make_client, clock, throttled, method):
    route = router.route(method=method, url=f"{API}/courses/5/modules").mock(
        side_effect=[throttled, throttled, OK]
    )

    async def main():
        async with make_client() as canvas:
            result = await canvas.request(method, "/courses/5/modules")
            return result, canvas.metrics

    result, metrics = asyncio.run(main())
    assert result == {"id": 1}
    assert route.call_count == 3
    assert (metrics.throttled, metrics.retries, metrics.calls) == (2, 2, 3)
    assert metrics.writes == (0 if method == "GET" else 1)  # throttled attempts were not executed
    # Backoff starts near 1 s and doubles (jitter ±25 %); the pacer also waits for the bucket to
    # drain before a lone request goes out after a report of 0 remaining.
    backoffs = [s for s in clock.sleeps if s < 5]
    assert 0.75 <= backoffs[0] <= 1.25 and 1.5 <= backoffs[1] <= 2.5


def test_throttle_budget_exhausted_raises_canvas_throttled(router, make_client):
    route = router.get(f"{API}/courses/5").mock(return_value=RATE_LIMIT_429)

    async def main():
        async with make_client(retry=RetryPolicy(max_throttle_retries=3)) as canvas:
            try:
                await canvas.get("/courses/5")
            finally:
                assert canvas.metrics.throttled == 4 and canvas.metrics.retries == 3

    with pytest.raises(CanvasThrottled) as caught:
        asyncio.run(main())
    assert route.call_count == 4
    assert caught.value.attempts == 4 and caught.value.status == 429
    assert str(caught.value) == "Canvas answered 429 to GET /courses/5: still rate-limited after 4 attempts"


def test_backoff_doubles_up_to_the_cap(router, make_client, clock):
    router.get(f"{API}/courses/5").mock(return_value=httpx.Response(429))  # no rate headers: no drain waits
    policy = RetryPolicy(max_throttle_retries=7, backoff_base=1.0, backoff_cap=20.0, jitter=0.0)

    async def main():
        async with make_client(retry=policy) as canvas:
            await canvas.get("/courses/5")

    with pytest.raises(CanvasThrottled):
        asyncio.run(main())
    assert clock.sleeps == [1, 2, 4, 8, 16, 20, 20]


def test_retry_after_is_honoured_when_sent(router, make_client, clock):
    router.get(f"{API}/courses/5").mock(side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), OK])

    async def main():
        async with make_client(retry=RetryPolicy(jitter=0.0)) as canvas:
            await canvas.get("/courses/5")

    asyncio.run(main())
    assert clock.sleeps == [7]


@pytest.mark.parametrize(
    "fault",
    [
        httpx.Response(503, json={}),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
    ],
    ids=["503", "connect-error", "read-timeout", "connection-dropped"],
)
def test_get_is_retried_on_faults(router, make_client, fault):
    route = router.get(f"{API}/courses/5").mock(side_effect=[fault, fault, OK])

    async def main():
        async with make_client() as canvas:
            return await canvas.get("/courses/5"), canvas.metrics

    result, metrics = asyncio.run(main())
    assert result == {"id": 1}
    assert route.call_count == 3 and metrics.retries == 2


def test_put_and_delete_are_retried_on_faults(router, make_client):
    put = router.put(f"{API}/courses/5/assignments/9").mock(side_effect=[httpx.ReadTimeout("slow"), OK])
    delete = router.delete(f"{API}/courses/5/modules/1").mock(side_effect=[httpx.Response(502), OK])

    async def main():
        async with make_client() as canvas:
            await canvas.put(
                "/courses/5/assignments/9", json={"assignment": {"due_at": "2026-06-01T10:00:00Z"}}
            )
            await canvas.delete("/courses/5/modules/1")

    asyncio.run(main())
    assert put.call_count == 2 and delete.call_count == 2


def test_get_gives_up_after_the_fault_budget(router, make_client):
    errors = router.get(f"{API}/courses/5").mock(return_value=httpx.Response(503, json={}))
    drops = router.get(f"{API}/courses/6").mock(side_effect=httpx.ConnectError("refused"))

    async def main():
        async with make_client(retry=RetryPolicy(max_fault_retries=2)) as canvas:
            with pytest.raises(CanvasServerError):
                await canvas.get("/courses/5")
            with pytest.raises(CanvasTransportError) as caught:
                await canvas.get("/courses/6")
            return caught.value

    error = asyncio.run(main())
    assert errors.call_count == 3 and drops.call_count == 3
    assert error.status is None and str(error) == "GET /courses/6 failed: ConnectError after 3 attempt(s)"


@pytest.mark.parametrize(
    "fault",
    [
        httpx.Response(503, json={"errors": [{"message": "busy"}]}),
        httpx.Response(500, json={}),
        httpx.ReadTimeout("slow"),
        httpx.WriteTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
    ids=["503", "500", "read-timeout", "write-timeout", "connection-dropped"],
)
def test_post_is_not_retried_after_it_may_have_run(router, make_client, fault):
    route = router.post(f"{API}/courses/5/quizzes").mock(side_effect=[fault, OK])

    async def main():
        async with make_client() as canvas:
            await canvas.post("/courses/5/quizzes", json={"quiz": {"title": "Exam"}})

    with pytest.raises(CanvasUncertainWrite) as caught:
        asyncio.run(main())
    assert route.call_count == 1
    error = caught.value
    assert (error.method, error.path) == ("POST", "/courses/5/quizzes")
    assert error.status == (fault.status_code if isinstance(fault, httpx.Response) else None)
    assert "Exam" not in str(error)


def test_post_is_retried_when_the_request_never_left(router, make_client):
    route = router.post(f"{API}/courses/5/quizzes").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), OK]
    )

    async def main():
        async with make_client() as canvas:
            return await canvas.post("/courses/5/quizzes", json={"quiz": {"title": "Exam"}})

    assert asyncio.run(main()) == {"id": 1}
    assert route.call_count == 3


@pytest.mark.parametrize(
    "fault", [httpx.Response(503, json={}), httpx.ReadTimeout("slow")], ids=["503", "read-timeout"]
)
def test_post_marked_idempotent_is_retried(router, make_client, fault):
    route = router.post(f"{API}/courses/5/quizzes/7/extensions").mock(side_effect=[fault, OK])

    async def main():
        async with make_client() as canvas:
            return await canvas.post(
                "/courses/5/quizzes/7/extensions",
                json={"quiz_extensions": [{"user_id": 3, "extra_time": 30}]},
                idempotent=True,
            )

    assert asyncio.run(main()) == {"id": 1}
    assert route.call_count == 2


def test_patch_follows_the_post_rules(router, make_client):
    route = router.patch("https://canvas.test/api/quiz/v1/courses/5/quizzes/9").mock(
        side_effect=[httpx.Response(502), httpx.Response(502), OK]
    )

    async def main():
        async with make_client() as canvas:
            with pytest.raises(CanvasUncertainWrite):
                await canvas.patch("/api/quiz/v1/courses/5/quizzes/9", json={"quiz": {"title": "Exam"}})
            await canvas.patch(
                "/api/quiz/v1/courses/5/quizzes/9", json={"quiz": {"title": "Exam"}}, idempotent=True
            )

    asyncio.run(main())
    assert route.call_count == 3
