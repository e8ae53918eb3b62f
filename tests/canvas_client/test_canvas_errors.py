"""Canvas's answers mapped onto the error hierarchy."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from adapters.canvas.errors import (
    CanvasBadRequest,
    CanvasError,
    CanvasForbidden,
    CanvasNotFound,
    CanvasServerError,
    CanvasThrottled,
    CanvasTransportError,
    CanvasUnauthenticated,
    CanvasUncertainWrite,
    CanvasUnprocessable,
)

from ._support import API, TOKEN

NOT_AUTHORIZED = {
    "status": "unauthorized",
    "errors": [{"message": "user not authorized to perform that action"}],
}
UNAUTHENTICATED = {"status": "unauthenticated", "errors": [{"message": "user authorization required"}]}


@pytest.mark.parametrize(
    ("response", "error", "detail"),
    [
        (
            httpx.Response(400, json={"errors": ['unknown student ids: ["123"]']}),
            CanvasBadRequest,
            'unknown student ids: ["123"]',
        ),
        (
            httpx.Response(
                401, json=UNAUTHENTICATED, headers={"WWW-Authenticate": 'Bearer realm="canvas-lms"'}
            ),
            CanvasUnauthenticated,
            "user authorization required",
        ),
        (
            httpx.Response(401, json=NOT_AUTHORIZED),
            CanvasForbidden,
            "user not authorized to perform that action",
        ),
        (
            httpx.Response(403, json=NOT_AUTHORIZED),
            CanvasForbidden,
            "user not authorized to perform that action",
        ),
        (
            httpx.Response(404, json={"errors": [{"message": "The specified resource does not exist."}]}),
            CanvasNotFound,
            "The specified resource does not exist.",
        ),
        (
            httpx.Response(422, json={"errors": [{"message": "Assignment is not a New Quiz"}]}),
            CanvasUnprocessable,
            "Assignment is not a New Quiz",
        ),
        (httpx.Response(409, json={"message": "conflict"}), CanvasError, "conflict"),
        (
            httpx.Response(500, json={"errors": [{"message": "An error occurred."}], "error_report_id": 9}),
            CanvasServerError,
            "An error occurred.",
        ),
        (
            httpx.Response(
                502, text="<html><body>Bad gateway</body></html>", headers={"Content-Type": "text/html"}
            ),
            CanvasServerError,
            "",
        ),
    ],
)
def test_status_maps_to_error(router, make_client, response, error, detail):
    route = router.get(f"{API}/courses/5/assignments/9").mock(return_value=response)

    async def main():
        async with make_client() as canvas:
            await canvas.get("/courses/5/assignments/9")

    with pytest.raises(CanvasError) as caught:
        asyncio.run(main())
    assert type(caught.value) is error
    assert (caught.value.status, caught.value.method, caught.value.path) == (
        response.status_code,
        "GET",
        "/courses/5/assignments/9",
    )
    assert caught.value.detail == detail
    # Only 5xx is retried (for an idempotent GET); every 4xx is final at once.
    assert route.call_count == (4 if response.status_code >= 500 else 1)


def test_message_names_status_method_path_and_canvas_message(router, make_client):
    router.get(f"{API}/courses/5/assignments/9").respond(
        404, json={"errors": [{"message": "The specified resource does not exist."}]}
    )

    async def main():
        async with make_client() as canvas:
            await canvas.get("/courses/5/assignments/9", {"include[]": ["overrides"]})

    with pytest.raises(CanvasNotFound) as caught:
        asyncio.run(main())
    assert (
        str(caught.value)
        == "Canvas answered 404 to GET /courses/5/assignments/9: The specified resource does not exist."
    )


def test_bad_request_carries_the_parsed_errors(router, make_client):
    positional = [None, ["must specify an assignment id"], ["assignment not found"]]
    router.post(f"{API}/courses/5/assignments/overrides").respond(400, json={"errors": positional})
    model_errors = {
        "errors": {
            "assignment_override_students": [
                {
                    "attribute": "user_id",
                    "type": "taken",
                    "message": "already belongs to an assignment override",
                }
            ]
        }
    }
    router.post(f"{API}/courses/5/assignments/9/overrides").respond(400, json=model_errors)
    router.post(f"{API}/courses/5/modules").respond(400, json={"message": "missing module name"})

    async def main():
        caught = []
        async with make_client() as canvas:
            for path in [
                "/courses/5/assignments/overrides",
                "/courses/5/assignments/9/overrides",
                "/courses/5/modules",
            ]:
                with pytest.raises(CanvasBadRequest) as error:
                    await canvas.post(path, json={})
                caught.append(error.value)
        return caught

    batch, model, module = asyncio.run(main())
    assert batch.errors == positional and batch.detail == "must specify an assignment id"
    assert model.errors == model_errors["errors"]
    assert model.detail == "assignment_override_students: already belongs to an assignment override"
    assert module.errors == {"message": "missing module name"} and module.detail == "missing module name"


def test_plain_403_is_forbidden_not_throttling(router, make_client):
    route = router.put(f"{API}/courses/5/quizzes/7").respond(
        403, text="Forbidden", headers={"Content-Type": "text/plain"}
    )

    async def main():
        async with make_client() as canvas:
            await canvas.put("/courses/5/quizzes/7", json={"quiz": {"published": True}})

    with pytest.raises(CanvasForbidden):
        asyncio.run(main())
    assert route.call_count == 1


def test_errors_never_carry_request_body_or_token(router, make_client):
    router.post(f"{API}/courses/5/quizzes/7/extensions").respond(
        404, json={"errors": [{"message": "The specified resource does not exist."}]}
    )
    router.post(f"{API}/courses/5/assignments/overrides").respond(
        503, json={"errors": [{"message": "try later"}]}
    )

    async def main():
        caught = []
        async with make_client() as canvas:
            for path in ["/courses/5/quizzes/7/extensions", "/courses/5/assignments/overrides"]:
                with pytest.raises(CanvasError) as error:
                    await canvas.post(
                        path, json={"quiz_extensions": [{"user_id": 31337, "extra_time": 4242}]}
                    )
                caught.append(error.value)
        return caught

    for error in asyncio.run(main()):
        text = f"{error!s} {error!r} {vars(error)}"
        assert "4242" not in text and "31337" not in text and TOKEN not in text


def test_long_canvas_messages_are_cut(router, make_client):
    router.get(f"{API}/courses/5").respond(404, json={"message": "x" * 5000})

    async def main():
        async with make_client() as canvas:
            await canvas.get("/courses/5")

    with pytest.raises(CanvasNotFound) as caught:
        asyncio.run(main())
    assert len(caught.value.detail) == 200


def test_hierarchy():
    for cls in (
        CanvasBadRequest,
        CanvasUnauthenticated,
        CanvasForbidden,
        CanvasNotFound,
        CanvasUnprocessable,
        CanvasServerError,
        CanvasThrottled,
        CanvasTransportError,
        CanvasUncertainWrite,
    ):
        assert issubclass(cls, CanvasError) and issubclass(cls, Exception)
    assert str(CanvasTransportError("GET", "/courses/5", None, "ReadTimeout after 4 attempt(s)")) == (
        "GET /courses/5 failed: ReadTimeout after 4 attempt(s)"
    )
