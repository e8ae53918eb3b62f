"""webservice/upload.php: files into the token user's draft area (moodle-ws.md §1.7).

An AJAX script: its errors are `{"error", "errorcode", "stacktrace", "debuginfo", "reproductionlink"}`.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from .config import CAP_MANAGE_OWN_FILES
from .encode import json_response, php_json
from .schema import clean_scalar
from .state import MoodleSimulator

MAX_BYTES = 2097152


def _ajax_error(message: str, errorcode: str) -> Response:
    body = {"error": message, "errorcode": errorcode, "stacktrace": None, "debuginfo": None, "reproductionlink": None}
    return Response(php_json(body), status=200, headers={"Content-Type": "application/json; charset=utf-8"})


def handle_upload(sim: MoodleSimulator) -> Response:
    token = request.values.get("token")
    if not token:
        return _ajax_error("A required parameter (token) was missing", "missingparam")
    account = sim.accounts.get(token)
    if account is None:
        return _ajax_error("Access control exception", "accessexception")
    if CAP_MANAGE_OWN_FILES not in account.capabilities:
        return _ajax_error("Sorry, but you do not currently have permissions to do that "
                           "(Manage files in private file areas).", "nopermissions")
    if not sim.config.upload_enabled:
        return _ajax_error("Access control exception", "accessexception")
    filepath = request.values.get("filepath", "/") or "/"
    itemid = clean_scalar(request.values.get("itemid", "0"), "int")
    files = list(request.files.items(multi=True))
    if not files:
        return _ajax_error("No files found", "nofile")
    with sim.lock:
        if not itemid:
            itemid = sim.new_draft_itemid()
        user = sim.users[account.userid]
        results: list[dict[str, Any]] = []
        for _field, storage in files:
            filename = clean_scalar(storage.filename or "", "file")
            content = storage.read()
            if len(content) > MAX_BYTES:
                results.append({"filename": filename, "errortype": "fileoversized",
                                "error": "A file that you tried to upload is too big."})
                continue
            if not sim.store_draft_file(account.userid, itemid, filename, content, filepath):
                results.append({"filename": filename, "errortype": "filenameexist",
                                "error": f"File name already exists: {filename}"})
                continue
            contextid = sim.user_contexts[account.userid]
            results.append({
                "component": "user", "contextid": str(contextid), "userid": str(user.id), "filearea": "draft",
                "filename": filename, "filepath": filepath, "itemid": itemid, "license": "unknown",
                "author": user.fullname,
                "source": f'O:8:"stdClass":1:{{s:6:"source";s:{len(filename.encode())}:"{filename}";}}',
                "filesize": len(content),
            })
    return json_response(results)


def handle_pluginfile(sim: MoodleSimulator, path: str) -> Response:
    """webservice/pluginfile.php/<ctx>/mod_resource/content/<rev>/<name>?token=…: a paper's bytes."""
    token = request.values.get("token")
    if not token or token not in sim.accounts:
        return Response("Invalid token", status=403)
    parts = path.strip("/").split("/")
    if len(parts) < 5 or parts[1:3] != ["mod_resource", "content"]:
        return Response("Not found", status=404)
    with sim.lock:
        for cm in sim.cms.values():
            if cm.modname == "resource" and str(cm.contextid) == parts[0]:
                for stored in sim.resources[cm.instance].files:
                    if stored.filename == parts[-1]:
                        return Response(stored.content, headers={"Content-Type": stored.mimetype})
    return Response("Not found", status=404)
