"""CSRF tokens: bound to one launch, made only with the server's key, same as the LTI layer's."""

from __future__ import annotations

from flask import Flask

from lms_bridge.web import csrf, session


def test_token_is_bound_to_the_launch_and_the_key() -> None:
    t = csrf.token_for("launch-1", "key")
    assert csrf.is_valid(t, "launch-1", "key")
    assert not csrf.is_valid(t, "launch-2", "key")
    assert not csrf.is_valid(t, "launch-1", "other key")
    assert not csrf.is_valid("", "launch-1", "key")
    assert not csrf.is_valid(t, None, "key")


def test_same_token_as_the_lti_layer() -> None:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "s3cret"
    with app.app_context():
        assert session.csrf_token_for("abc") == csrf.token_for("abc", "s3cret")
