"""`lms-bridge serve` and the app factory's configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from lms_bridge.cli import main
from lms_bridge.web.app import create_app


def test_serve_migrates_makes_a_key_and_runs_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: dict[str, Any] = {}

    def fake_run(self: Flask, host: str, port: int, **kwargs: Any) -> None:
        ran.update(app=self, host=host, port=port, **kwargs)

    monkeypatch.setattr(Flask, "run", fake_run)
    database = f"sqlite:///{tmp_path}/serve.db"
    result = CliRunner().invoke(main, ["serve", "--port", "5055", "--database", database])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5055/lti/setup" in result.output
    assert (ran["host"], ran["port"]) == ("127.0.0.1", 5055)
    app = ran["app"]
    assert app.test_client().get("/healthz").status_code == 200
    assert len(app.test_client().get("/lti/jwks").get_json()["keys"]) == 1
    keys = CliRunner().invoke(main, ["lti", "keys", "list", "--database", database]).output
    assert "active" in keys


def test_config_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_BRIDGE_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("LMS_BRIDGE_SECRET_KEY", "from-env")
    monkeypatch.setenv("LMS_BRIDGE_BASE_URL", "https://exams.example.edu")
    app = create_app({"AUTO_MIGRATE": True})
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["DATABASE_URL"].endswith("env.db")
    assert app.extensions["lms_bridge.lti"].settings.base_url == "https://exams.example.edu"
    assert app.config["SESSION_COOKIE_PARTITIONED"] is True
    for key in ("lms_bridge.sessions", "lms_bridge.engine", "lms_bridge.launch_store", "lms_bridge.lti"):
        assert key in app.extensions
    data = app.test_client().get("/lti/config/canvas.json").get_json()
    assert data["oidc_initiation_url"] == "https://exams.example.edu/lti/login"


def test_a_bad_setting_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="LTI_DYNAMIC_REGISTRATION"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "k",
                    "LTI_DYNAMIC_REGISTRATION": "maybe"})
