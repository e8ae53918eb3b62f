"""The three-step file upload, in its redirect and 201 forms."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import parse_qsl

import httpx
import pytest

from adapters.canvas.errors import CanvasForbidden, CanvasUncertainWrite

from ._support import API, TOKEN

UPLOAD_URL = "https://files.test/upload/abc"
PARAMS = {
    "key": "account_1/attachments/77/paper.pdf",
    "acl": "private",
    "Policy": "eyJ…",
    "x-amz-signature": "f00",
    "success_action_redirect": f"{API}/files/77/create_success?uuid=u1",
}
FILE = {"id": 77, "display_name": "paper.pdf", "size": 11, "content-type": "application/pdf", "hidden": False}


def _preflight(router):
    return router.post(f"{API}/courses/5/files").respond(
        json={"upload_url": UPLOAD_URL, "upload_params": PARAMS}
    )


def _part_names(request: httpx.Request) -> list[str]:
    return re.findall(r'; name="([^"]+)"', request.content.decode("utf-8", "replace"))


def _upload(make_client, **kwargs):
    async def main():
        async with make_client() as canvas:
            file = await canvas.upload_file(
                "/courses/5/files", "paper.pdf", "application/pdf", b"%PDF-1.7 ok", **kwargs
            )
            return file, canvas.metrics

    return asyncio.run(main())


@pytest.mark.parametrize("status", [301, 302, 303])
def test_redirect_mode_confirms_with_an_authorized_get(router, make_client, status):
    preflight = _preflight(router)
    upload = router.post(UPLOAD_URL).respond(
        status_code=status, headers={"Location": f"{API}/files/77/create_success?uuid=u1"}
    )
    confirm = router.get(f"{API}/files/77/create_success").respond(json=FILE)

    file, metrics = _upload(make_client, parent_folder_path="exams/2026")
    assert file == FILE

    step1 = preflight.calls[0].request
    assert step1.headers["Authorization"] == f"Bearer {TOKEN}"
    assert dict(parse_qsl(step1.content.decode())) == {
        "name": "paper.pdf",
        "size": "11",
        "content_type": "application/pdf",
        "parent_folder_path": "exams/2026",
    }

    step2 = upload.calls[0].request
    assert "Authorization" not in step2.headers
    assert step2.headers["Content-Type"].startswith("multipart/form-data")
    assert _part_names(step2) == [*PARAMS, "file"]  # every parameter, in order, the file last
    body = step2.content.decode("utf-8", "replace")
    assert 'filename="paper.pdf"' in body and "%PDF-1.7 ok" in body
    for value in PARAMS.values():
        assert value in body

    step3 = confirm.calls[0].request
    assert step3.method == "GET" and step3.headers["Authorization"] == f"Bearer {TOKEN}"
    assert step3.url.params["uuid"] == "u1"
    assert (metrics.calls, metrics.writes) == (3, 2)


def test_created_mode_with_location_reads_the_file(router, make_client):
    _preflight(router)
    upload = router.post(UPLOAD_URL).respond(201, json={"id": 77}, headers={"Location": f"{API}/files/77"})
    read = router.get(f"{API}/files/77").respond(json=FILE)

    file, metrics = _upload(make_client)
    assert file == FILE
    assert "Authorization" not in upload.calls[0].request.headers
    assert read.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert metrics.calls == 3


def test_created_mode_without_location_uses_the_body(router, make_client):
    preflight = _preflight(router)
    router.post(UPLOAD_URL).respond(201, json=FILE)

    file, metrics = _upload(make_client)
    assert file == FILE
    assert "parent_folder_path" not in preflight.calls[0].request.content.decode()
    assert metrics.calls == 2


def test_location_on_another_host_is_read_without_the_token(router, make_client):
    _preflight(router)
    router.post(UPLOAD_URL).respond(201, headers={"Location": "https://files.test/done/77"})
    done = router.get("https://files.test/done/77").respond(json=FILE)

    assert _upload(make_client)[0] == FILE
    assert "Authorization" not in done.calls[0].request.headers


def test_null_upload_params_are_left_out(router, make_client):
    router.post(f"{API}/courses/5/files").respond(
        json={"upload_url": UPLOAD_URL, "upload_params": {"filename": "paper.pdf", "content_type": None}}
    )
    upload = router.post(UPLOAD_URL).respond(201, json=FILE)

    _upload(make_client)
    assert _part_names(upload.calls[0].request) == ["filename", "file"]


def test_storage_refusal_and_storage_faults(router, make_client):
    _preflight(router)
    router.post(UPLOAD_URL).mock(
        side_effect=[
            httpx.Response(
                403,
                text="<Error><Code>AccessDenied</Code></Error>",
                headers={"Content-Type": "application/xml"},
            ),
            httpx.Response(503),
        ]
    )

    async def main():
        async with make_client() as canvas:
            with pytest.raises(CanvasForbidden) as refused:
                await canvas.upload_file("/courses/5/files", "paper.pdf", "application/pdf", b"x")
            with pytest.raises(CanvasUncertainWrite) as uncertain:
                await canvas.upload_file("/courses/5/files", "paper.pdf", "application/pdf", b"x")
            return refused.value, uncertain.value

    refused, uncertain = asyncio.run(main())
    assert refused.path == "//files.test/upload/abc"
    assert uncertain.path == "//files.test/upload/abc" and uncertain.status == 503


def test_preflight_is_retried_after_a_fault(router, make_client):
    preflight = router.post(f"{API}/courses/5/files").mock(
        side_effect=[
            httpx.ReadTimeout("slow"),
            httpx.Response(200, json={"upload_url": UPLOAD_URL, "upload_params": {}}),
        ]
    )
    router.post(UPLOAD_URL).respond(201, json=FILE)

    assert _upload(make_client)[0] == FILE
    assert preflight.call_count == 2
