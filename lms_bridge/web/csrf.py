"""CSRF protection that works inside an LMS iframe, where cookies may be blocked.

The tool keeps no cookie session: a page knows its launch from the `launch` id that travels in
the URL and in every form. A form's token is an HMAC (SHA-256, keyed by the app's SECRET_KEY)
of that launch id, so it cannot be made without the server's key, it is good for exactly one
launch, and checking it needs no stored state (any web node can check any token).

Every state-changing request (POST, PUT, PATCH, DELETE) to a protected blueprint must carry
`csrf_token` (form field) or `X-CSRF-Token` (header) matching the launch id it names; otherwise
it is refused before the view runs: 400 when the token or launch is missing, 403 when the token
does not match. The LTI launch itself is not protected this way (the platform posts it; OIDC
state and nonce protect it), so protection is per blueprint, not app-wide.

    csrf.init_app(app)          # template global csrf_token(), the error page
    csrf.protect(blueprint)     # check every unsafe request to it
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, Flask, current_app, render_template, request
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
LAUNCH_FIELD = "launch"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The same derivation as `session.csrf_token_for` (the LTI layer's copy), so a token made by
# either is accepted by both checks.
_PURPOSE = b"csrf:"


class CSRFMissing(BadRequest):
    description = (
        "This form did not carry its security token, so nothing was changed. "
        "Go back to the page, reload it, and submit the form again."
    )


class CSRFInvalid(Forbidden):
    description = (
        "This form's security token does not match this launch of the tool (it may come from "
        "another page or an earlier launch), so nothing was changed. Open the tool again from "
        "your course and try once more."
    )


def _key(secret: str | bytes) -> bytes:
    if not secret:
        raise RuntimeError("SECRET_KEY is not set: CSRF tokens cannot be made")
    return str(secret).encode()  # as session.csrf_token_for keys it


def token_for(launch_id: str, secret: str | bytes) -> str:
    """The token for forms of this launch (hex; safe in HTML attributes and headers)."""
    return hmac.new(_key(secret), _PURPOSE + launch_id.encode("utf-8"), hashlib.sha256).hexdigest()


def is_valid(token: str | None, launch_id: str | None, secret: str | bytes) -> bool:
    if not token or not launch_id:
        return False
    return hmac.compare_digest(token.encode("utf-8", "replace"), token_for(launch_id, secret).encode("ascii"))


def _launch_id_of_request() -> str | None:
    """The launch the request names. Query and form must agree when both name one."""
    named = {v for v in (request.args.get(LAUNCH_FIELD), request.form.get(LAUNCH_FIELD)) if v}
    if len(named) != 1:
        return None
    return named.pop()


def check_request() -> None:
    """Refuse an unsafe request without a valid token (a `before_request` hook)."""
    if request.method not in UNSAFE_METHODS:
        return
    token = request.form.get(FIELD) or request.headers.get(HEADER)
    launch_id = _launch_id_of_request()
    if not token or not launch_id:
        raise CSRFMissing()
    if not is_valid(token, launch_id, current_app.config["SECRET_KEY"]):
        raise CSRFInvalid()


def protect(blueprint: Blueprint) -> None:
    """Check the token on every unsafe request the blueprint handles, before its views."""
    blueprint.before_request(check_request)


def current_token() -> str:
    """The token for the launch in use (template global `csrf_token()`)."""
    from .session import current_launch

    return token_for(current_launch().launch_id, current_app.config["SECRET_KEY"])


def _refused(error: HTTPException):  # noqa: ANN202 - a Flask response tuple
    heading = "The form could not be accepted"
    return render_template("pages/error.html", heading=heading, message=error.description,
                           status=error.code), error.code


def init_app(app: Flask) -> None:
    """The `csrf_token()` template global and the page shown when a token is refused."""
    _key(app.config.get("SECRET_KEY") or b"")  # fail at start-up, not on the first form
    app.jinja_env.globals.setdefault("csrf_token", current_token)
    app.register_error_handler(CSRFMissing, _refused)
    app.register_error_handler(CSRFInvalid, _refused)
