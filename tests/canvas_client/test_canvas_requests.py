"""Requests as sent: URLs, authentication, bodies, pagination, redirects, logging."""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import parse_qsl

import httpx
import pytest

from adapters.canvas.errors import CanvasError

from ._support import API, BASE, TOKEN


def test_paths_are_under_api_v1_unless_they_start_with_api(router, make_client):
    course = router.get(f"{API}/courses/5").respond(json={"id": 5})
    new_quizzes = router.get(f"{BASE}/api/quiz/v1/courses/5/quizzes/9").respond(json={"id": "9"})

    async def main():
        async with make_client() as canvas:
            assert await canvas.get("/courses/5") == {"id": 5}
            assert await canvas.get("courses/5") == {"id": 5}
            assert await canvas.get("/api/quiz/v1/courses/5/quizzes/9") == {"id": "9"}

    asyncio.run(main())
    assert course.call_count == 2 and new_quizzes.call_count == 1


def test_base_url_may_carry_api_v1(router, clock):
    from adapters.canvas.client import CanvasClient

    route = router.get(f"{API}/courses/5").respond(json={})

    async def main():
        transport = httpx.MockTransport(router.async_handler)
        async with CanvasClient(f"{API}/", TOKEN, transport=transport, sleep=clock.sleep) as canvas:
            await canvas.get("/courses/5")

    asyncio.run(main())
    assert route.called


def test_token_only_in_the_authorization_header(router, make_client):
    router.get(f"{API}/courses/5").respond(json={})
    router.post(f"{API}/courses/5/modules").respond(json={"id": 1})
    router.put(f"{API}/courses/5/modules/1").respond(json={"id": 1})
    router.delete(f"{API}/courses/5/modules/1").respond(json={"id": 1})

    async def main():
        async with make_client() as canvas:
            await canvas.get("/courses/5", {"include[]": ["term"]})
            await canvas.post("/courses/5/modules", data={"module[name]": "Exam"})
            await canvas.put("/courses/5/modules/1", json={"module": {"published": True}})
            await canvas.delete("/courses/5/modules/1")

    asyncio.run(main())
    assert len(router.calls) == 4
    for request, _ in router.calls:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert TOKEN not in str(request.url)
        assert TOKEN not in request.content.decode()
        assert "cookie" not in request.headers


def test_token_not_in_repr_or_logs(router, make_client, caplog):
    router.get(f"{API}/courses/5/assignments/91").respond(json={})
    router.get(f"{API}/courses/sis_course_id:MATH101/users").respond(status_code=404, json={})
    caplog.set_level(logging.DEBUG)

    async def main():
        async with make_client() as canvas:
            assert TOKEN not in repr(canvas) and TOKEN not in str(vars(canvas.metrics))
            await canvas.get("/courses/5/assignments/91", {"student_ids[]": ["12345"]})
            with pytest.raises(CanvasError):
                await canvas.get("/courses/sis_course_id:MATH101/users")

    asyncio.run(main())
    ours = [r.getMessage() for r in caplog.records if r.name == "lms_bridge.canvas"]
    # Method, path template and status: no ids, no query string.
    assert ours == ["GET /courses/:id/assignments/:id -> 200", "GET /courses/:id/users -> 404"]
    assert all(TOKEN not in record.getMessage() for record in caplog.records)


def test_json_and_form_bodies(router, make_client):
    route = router.post(f"{API}/courses/5/quizzes/7/extensions").respond(json={"quiz_extensions": []})

    async def main():
        async with make_client() as canvas:
            await canvas.post(
                "/courses/5/quizzes/7/extensions",
                json={"quiz_extensions": [{"user_id": 3, "extra_time": 30}]},
            )
            # Pairs keep the order Rails needs to build an array of hashes from x[][k] keys.
            await canvas.post(
                "/courses/5/quizzes/7/extensions",
                data=[
                    ("quiz_extensions[][user_id]", 3),
                    ("quiz_extensions[][extra_time]", 30),
                    ("quiz_extensions[][user_id]", 4),
                    ("quiz_extensions[][manually_unlocked]", True),
                ],
            )
            await canvas.post("/courses/5/quizzes/7/extensions", data={"a[]": [1, 2], "b": None, "c": False})

    asyncio.run(main())
    first, second, third = (call.request for call in route.calls)
    assert first.headers["Content-Type"] == "application/json"
    assert json.loads(first.content) == {"quiz_extensions": [{"user_id": 3, "extra_time": 30}]}
    assert second.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(second.content.decode(), keep_blank_values=True) == [
        ("quiz_extensions[][user_id]", "3"),
        ("quiz_extensions[][extra_time]", "30"),
        ("quiz_extensions[][user_id]", "4"),
        ("quiz_extensions[][manually_unlocked]", "true"),
    ]
    assert parse_qsl(third.content.decode(), keep_blank_values=True) == [
        ("a[]", "1"),
        ("a[]", "2"),
        ("b", ""),
        ("c", "false"),
    ]


def test_json_and_data_together_is_a_programming_error(make_client):
    async def main():
        async with make_client() as canvas:
            with pytest.raises(ValueError):
                await canvas.post("/courses/5/modules", json={}, data={})

    asyncio.run(main())


def test_empty_and_204_bodies_are_none(router, make_client):
    router.put(f"{API}/courses/5/assignments/9/date_details").respond(status_code=204)
    router.delete(f"{API}/courses/5/modules/1").respond(status_code=200, content=b"")

    async def main():
        async with make_client() as canvas:
            assert (
                await canvas.put("/courses/5/assignments/9/date_details", json={"assignment_overrides": []})
                is None
            )
            assert await canvas.delete("/courses/5/modules/1") is None

    asyncio.run(main())


def _link(url: str, rel: str) -> str:
    return f'<{url}>; rel="{rel}"'


def test_get_all_follows_link_next_across_three_pages(router, make_client):
    page2 = f"{API}/courses/5/assignments?include%5B%5D=overrides&page=bookmark:WzEwMF0&per_page=100"
    page3 = f"{API}/courses/5/assignments?include%5B%5D=overrides&page=bookmark:WzIwMF0&per_page=100"
    first = f"{API}/courses/5/assignments?include%5B%5D=overrides&per_page=100"

    def pages(request: httpx.Request) -> httpx.Response:
        page = request.url.params.get("page")
        if page is None:
            links = ", ".join([_link(first, "current"), _link(page2, "next"), _link(first, "first")])
            return httpx.Response(200, json=[{"id": i} for i in range(100)], headers={"Link": links})
        if page == "bookmark:WzEwMF0":
            links = ", ".join([_link(page2, "current"), _link(page3, "next"), _link(first, "first")])
            return httpx.Response(200, json=[{"id": i} for i in range(100, 200)], headers={"Link": links})
        # The last page has no rel="next".
        links = ", ".join([_link(page3, "current"), _link(first, "first"), _link(page3, "last")])
        return httpx.Response(200, json=[{"id": 200}, {"id": 201}], headers={"Link": links})

    route = router.get(f"{API}/courses/5/assignments").mock(side_effect=pages)

    async def main():
        async with make_client() as canvas:
            return await canvas.get_all("/courses/5/assignments", {"include[]": ["overrides"]})

    items = asyncio.run(main())
    assert [item["id"] for item in items] == list(range(202))
    assert route.call_count == 3
    first_request = route.calls[0].request
    assert first_request.url.params.get_list("include[]") == ["overrides"]
    assert first_request.url.params["per_page"] == "100"
    # Later pages use the Link URL exactly as given.
    assert str(route.calls[1].request.url) == page2
    assert str(route.calls[2].request.url) == page3


def test_get_all_unwraps_keyed_lists(router, make_client):
    url = f"{API}/courses/5/quizzes/7/submissions"
    responses = [
        httpx.Response(
            200,
            json={"quiz_submissions": [{"user_id": 1}]},
            headers={"Link": _link(url + "?page=2&per_page=100", "next")},
        ),
        httpx.Response(
            200,
            json={"quiz_submissions": [{"user_id": 2}]},
            headers={"Link": _link(url + "?page=3&per_page=100", "next")},
        ),
        httpx.Response(200, json={"quiz_submissions": [{"user_id": 3}], "quizzes": []}),
    ]
    route = router.get(url).mock(side_effect=responses)

    async def main():
        async with make_client() as canvas:
            return await canvas.get_all("/courses/5/quizzes/7/submissions", key="quiz_submissions")

    assert asyncio.run(main()) == [{"user_id": 1}, {"user_id": 2}, {"user_id": 3}]
    assert route.call_count == 3


def test_get_all_clamps_per_page_and_rejects_unexpected_shapes(router, make_client):
    lists = router.get(f"{API}/courses/5/modules").respond(json=[])
    router.get(f"{API}/courses/5/quizzes/7/submissions").respond(json=[{"user_id": 1}])

    async def main():
        async with make_client() as canvas:
            assert await canvas.get_all("/courses/5/modules", {"per_page": 500}) == []
            with pytest.raises(CanvasError, match="expected a list under 'quiz_submissions'"):
                await canvas.get_all("/courses/5/quizzes/7/submissions", key="quiz_submissions")

    asyncio.run(main())
    assert lists.calls[0].request.url.params["per_page"] == "100"


def test_get_all_follows_new_quizzes_meta_pagination(router, make_client):
    url = f"{BASE}/api/quiz/v1/courses/5/quizzes"
    route = router.get(url).mock(
        side_effect=[
            httpx.Response(
                200, json={"quizzes": [{"id": "1"}], "meta": {"pagination": {"next": url + "?page=2"}}}
            ),
            httpx.Response(200, json={"quizzes": [{"id": "2"}], "meta": {"pagination": {"next": None}}}),
        ]
    )

    async def main():
        async with make_client() as canvas:
            return await canvas.get_all("/api/quiz/v1/courses/5/quizzes", key="quizzes")

    assert asyncio.run(main()) == [{"id": "1"}, {"id": "2"}]
    assert route.call_count == 2


def test_get_follows_redirects_with_the_token_only_on_canvas(router, make_client):
    router.get(f"{API}/sections/3/assignments/9/override").respond(
        status_code=302, headers={"Location": f"{API}/courses/5/assignments/9/overrides/44"}
    )
    target = router.get(f"{API}/courses/5/assignments/9/overrides/44").respond(json={"id": 44})
    router.get(f"{API}/files/8/download").respond(
        status_code=302, headers={"Location": "https://cdn.test/f/8"}
    )
    foreign = router.get("https://cdn.test/f/8").respond(json={"ok": True})

    async def main():
        async with make_client() as canvas:
            assert await canvas.get("/sections/3/assignments/9/override") == {"id": 44}
            assert await canvas.get("/files/8/download") == {"ok": True}

    asyncio.run(main())
    assert target.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Authorization" not in foreign.calls[0].request.headers


def test_absolute_urls_to_other_hosts_never_get_the_token(router, make_client):
    route = router.get("https://evil.test/api/v1/courses/5").respond(json={})

    async def main():
        async with make_client() as canvas:
            await canvas.get("https://evil.test/api/v1/courses/5")

    asyncio.run(main())
    assert "Authorization" not in route.calls[0].request.headers


def test_cookies_are_not_kept(router, make_client):
    router.get(f"{API}/courses/5").respond(json={}, headers={"Set-Cookie": "canvas_session=abc; path=/"})

    async def main():
        async with make_client() as canvas:
            await canvas.get("/courses/5")
            await canvas.get("/courses/5")

    asyncio.run(main())
    assert "cookie" not in router.calls[1].request.headers


def test_while_1_prefix_is_stripped(router, make_client):
    router.get(f"{API}/courses/5").respond(
        content=b'while(1);{"id": 5}', headers={"Content-Type": "application/json"}
    )

    async def main():
        async with make_client() as canvas:
            return await canvas.get("/courses/5")

    assert asyncio.run(main()) == {"id": 5}
