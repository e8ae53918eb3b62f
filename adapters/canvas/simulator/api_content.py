"""Modules and items, pages, files (with the out-of-Canvas upload step) and discussion topics."""

from __future__ import annotations

import re

from flask import Blueprint, Response, request

from . import render
from .errors import not_found
from .params import to_bool
from .web import base, course_id, include, json_response, nested, paged, params, sim

bp = Blueprint("content", __name__, url_prefix="/api/v1/courses/<course_ref>")
files = Blueprint("files", __name__)


# -- modules ------------------------------------------------------------------------------------------


@bp.get("/modules")
def list_modules(course_ref: str) -> Response:
    s = sim()
    wanted = include()
    with s.lock:
        return paged(s.course_modules(course_id(course_ref)), lambda m: render.module(s, m, base(), wanted))


@bp.post("/modules")
def create_module(course_ref: str) -> Response:
    s = sim()
    with s.lock:
        return json_response(render.module(s, s.create_module(course_id(course_ref), nested("module")), base(), set()))


@bp.route("/modules/<module_id>", methods=["GET", "PUT", "DELETE"])
def one_module(course_ref: str, module_id: str) -> Response:
    s = sim()
    cid = course_id(course_ref)
    with s.lock:
        if request.method == "GET":
            module = s.get_module(cid, module_id)
        elif request.method == "PUT":
            module = s.update_module(cid, module_id, nested("module"))
        else:
            module = s.delete_module(cid, module_id)
        return json_response(render.module(s, module, base(), include()))


@bp.get("/modules/<module_id>/items")
def list_items(course_ref: str, module_id: str) -> Response:
    s = sim()
    wanted = include()
    with s.lock:
        module = s.get_module(course_id(course_ref), module_id)
        return paged(s.module_items_of(module.id), lambda i: render.module_item(s, i, base(), wanted))


@bp.post("/modules/<module_id>/items")
def create_item(course_ref: str, module_id: str) -> Response:
    s = sim()
    with s.lock:
        item = s.create_module_item(course_id(course_ref), module_id, nested("module_item"))
        return json_response(render.module_item(s, item, base()))


@bp.route("/modules/<module_id>/items/<item_id>", methods=["GET", "PUT", "DELETE"])
def one_item(course_ref: str, module_id: str, item_id: str) -> Response:
    s = sim()
    cid = course_id(course_ref)
    with s.lock:
        if request.method == "GET":
            item = s.get_module_item(cid, module_id, item_id)
        elif request.method == "PUT":
            item = s.update_module_item(cid, module_id, item_id, nested("module_item"))
        else:
            item = s.delete_module_item(cid, module_id, item_id)
        return json_response(render.module_item(s, item, base(), include()))


# -- pages --------------------------------------------------------------------------------------------


@bp.get("/pages")
def list_pages(course_ref: str) -> Response:
    s = sim()
    term = str(params().get("search_term") or "").lower()
    with s.lock:
        rows = [p for p in s.course_pages(course_id(course_ref)) if term in p.title.lower()]
        return paged(rows, lambda p: render.page(p, base(), body=False))


@bp.post("/pages")
def create_page(course_ref: str) -> Response:
    s = sim()
    with s.lock:
        return json_response(render.page(s.create_page(course_id(course_ref), nested("wiki_page")), base(), body=True))


@bp.route("/pages/<url_or_id>", methods=["GET", "PUT", "DELETE"])
def one_page(course_ref: str, url_or_id: str) -> Response:
    s = sim()
    cid = course_id(course_ref)
    with s.lock:
        if request.method == "GET":
            page = s.get_page(cid, url_or_id)
        elif request.method == "PUT":
            page = s.update_page(cid, url_or_id, nested("wiki_page"))
        else:
            page = s.delete_page(cid, url_or_id)
        return json_response(render.page(page, base(), body=request.method != "DELETE"))


# -- files --------------------------------------------------------------------------------------------


@bp.post("/files")
def start_upload(course_ref: str) -> Response:
    """Step 1: the pending file's upload URL and the params to copy unchanged."""
    s = sim()
    with s.lock:
        file = s.start_upload(course_id(course_ref), params())
        upload_params = {"filename": file.display_name, "content_type": file.content_type,
                         "x-sim-signature": f"sig-{file.upload_token}"}
        return json_response({"upload_url": f"{base()}/files_api/upload/{file.upload_token}",
                              "upload_params": upload_params, "file_param": "file", "progress": None})


@bp.get("/files")
def list_files(course_ref: str) -> Response:
    s = sim()
    with s.lock:
        rows = s.course_files(course_id(course_ref), params().get("search_term"))
        return paged(rows, lambda f: render.file(f, base()))


@bp.get("/files/<file_id>")
def course_file(course_ref: str, file_id: str) -> Response:
    s = sim()
    cid = course_id(course_ref)
    with s.lock:
        file = s.get_file(file_id)
        if file.course_id != cid:
            raise not_found()
        return json_response(render.file(file, base()))


@files.route("/api/v1/files/<file_id>", methods=["GET", "PUT", "DELETE"])
def one_file(file_id: str) -> Response:
    s = sim()
    with s.lock:
        if request.method == "GET":
            file = s.get_file(file_id)
        elif request.method == "PUT":
            file = s.update_file(file_id, params())
        else:
            file = s.delete_file(file_id)
        return json_response(render.file(file, base()))


@files.route("/api/v1/files/<file_id>/create_success", methods=["GET", "POST"])
def create_success(file_id: str) -> Response:
    """Step 3 after a 3xx: GET (POST deprecated but accepted) with the token finishes the upload."""
    s = sim()
    with s.lock:
        file = s.complete_upload(file_id, request.args.get("uuid"))
        return json_response(render.file(file, base()))


@files.post("/files_api/upload/<token>")
def receive_upload(token: str) -> Response:
    """Step 2, the storage service: every upload param unchanged, `file` last, no Authorization."""
    s = sim()
    if s.config.upload_rejects_auth and request.headers.get("Authorization"):
        return Response("<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed"
                        "</Message></Error>", status=400, mimetype="application/xml")
    raw = request.get_data(cache=True)
    upload = request.files.get("file")
    with s.lock:
        pending = next((f for f in s.files.values() if f.upload_token == token and f.state == "pending"), None)
        if pending is None:
            raise not_found()
        expected = {"filename": pending.display_name, "content_type": pending.content_type,
                    "x-sim-signature": f"sig-{token}"}
    problem = _upload_problem(raw, expected, upload is not None)
    if problem:
        return Response(f"<Error><Code>InvalidArgument</Code><Message>{problem}</Message></Error>",
                        status=400, mimetype="application/xml")
    assert upload is not None
    with s.lock:
        file = s.receive_upload(token, upload.read(), upload.filename, upload.mimetype)
        if s.config.upload_redirect:
            location = f"{base()}/api/v1/files/{file.id}/create_success?uuid={file.uuid}"
            return Response(status=301, headers={"Location": location})
        return json_response(render.file(file, base()), status=201,
                             headers={"Location": f"{base()}/api/v1/files/{file.id}"})


def _upload_problem(raw: bytes, expected: dict[str, str], has_file: bool) -> str | None:
    if not has_file:
        return "missing file part"
    names = [m.decode() for m in re.findall(rb'Content-Disposition: form-data; name="([^"]+)"', raw, re.IGNORECASE)]
    if names and names[-1] != "file":
        return "the file must be the last part (fields after it are ignored)"
    for key, value in expected.items():
        if request.form.get(key) != value:
            return f"upload param {key} missing or changed"
    return None


@files.get("/files/<file_id>/download")
def download(file_id: str) -> Response:
    s = sim()
    with s.lock:
        file = s.get_file(file_id)
        return Response(file.data or b"", mimetype=file.content_type)


# -- discussion topics and announcements --------------------------------------------------------------


@bp.get("/discussion_topics")
def list_topics(course_ref: str) -> Response:
    s = sim()
    only = to_bool(params().get("only_announcements"))
    with s.lock:
        return paged(s.course_topics(course_id(course_ref), only), lambda t: render.topic(t, base()))


@bp.post("/discussion_topics")
def create_topic(course_ref: str) -> Response:
    s = sim()
    with s.lock:
        return json_response(render.topic(s.create_topic(course_id(course_ref), params()), base()))


@bp.route("/discussion_topics/<topic_id>", methods=["GET", "PUT", "DELETE"])
def one_topic(course_ref: str, topic_id: str) -> Response:
    s = sim()
    cid = course_id(course_ref)
    with s.lock:
        if request.method == "GET":
            topic = s.get_topic(cid, topic_id)
        elif request.method == "PUT":
            topic = s.update_topic(cid, topic_id, params())
        else:
            topic = s.delete_topic(cid, topic_id)
        return json_response(render.topic(topic, base()))

