"""The tool's keys (rotation, retirement, JWKS) and the platforms' keys (cache, refetch on a new kid)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask import Flask

from lms_bridge.cli import main
from lms_bridge.lti.platform_keys import PlatformKeys

from .platforms import TOOL, FakePlatform, launch, new_rsa_keypair, run_launch


def database_of(app: Flask) -> str:
    return app.config["DATABASE_URL"]


def jwks(app: Flask) -> list[dict[str, Any]]:
    app.extensions["lms_bridge.lti"].tool_keys.invalidate()  # another process would see it within 30 s
    response = app.test_client().get("/lti/jwks")
    assert response.status_code == 200
    return response.get_json()["keys"]


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_jwks_publishes_the_first_key_made_on_demand(app: Flask) -> None:
    keys = jwks(app)
    assert len(keys) == 1
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["use"] == "sig"
    assert set(keys[0]) == {"kty", "n", "e", "kid", "alg", "use"}  # public parts only


def test_rotate_keeps_the_old_key_published_until_retired(app: Flask) -> None:
    first = jwks(app)[0]["kid"]
    result = cli("lti", "keys", "rotate", "--database", database_of(app))
    assert result.exit_code == 0, result.output
    published = [k["kid"] for k in jwks(app)]
    assert len(published) == 2 and published[1] == first  # new active key first, old one kept
    new = published[0]
    listing = cli("lti", "keys", "list", "--database", database_of(app)).output
    assert f"{new}  active" in listing and f"{first}  previous" in listing

    # The tool signs (service tokens, deep links) with the new key.
    tool = app.extensions["lms_bridge.lti"]
    registration = tool.conf().find_registration_by_params("https://moodle.test", "PuZD1eGeqazM2Yy")
    assert registration.get_kid() == new

    refused = CliRunner().invoke(main, ["lti", "keys", "retire", new, "--database", database_of(app)])
    assert refused.exit_code == 2 and "active signing key" in refused.output
    assert cli("lti", "keys", "retire", first, "--database", database_of(app)).exit_code == 0
    assert [k["kid"] for k in jwks(app)] == [new]
    again = CliRunner().invoke(main, ["lti", "keys", "retire", first, "--database", database_of(app)])
    assert again.exit_code == 2 and "already retired" in again.output
    assert f"{first}  retired" in cli("lti", "keys", "list", "--database", database_of(app)).output


def test_retire_an_unknown_kid(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["lti", "keys", "retire", "nope", "--database", f"sqlite:///{tmp_path}/x.db"])
    assert result.exit_code == 2
    assert "no tool key with kid 'nope'" in result.output


def test_platform_jwks_is_cached_between_launches(app: Flask, moodle: FakePlatform) -> None:
    launch(app.test_client(), moodle)
    launch(app.test_client(), moodle)
    assert moodle.jwks_requests == 1


def test_platform_key_rotation_triggers_one_refetch(app: Flask, moodle: FakePlatform) -> None:
    launch(app.test_client(), moodle)
    moodle.rotate_key(key_index=5)  # the LMS now signs with a new kid and publishes only it
    launch(app.test_client(), moodle)
    assert moodle.jwks_requests == 2


def test_forged_kids_cost_at_most_one_refetch_per_interval(app: Flask, moodle: FakePlatform) -> None:
    launch(app.test_client(), moodle)
    forger, _ = new_rsa_keypair()
    for _ in range(3):
        result = run_launch(app.test_client(), moodle, sign_with=forger, kid="kid-nobody-publishes")
        assert result.status == 401
    assert moodle.jwks_requests == 2


def test_platform_keys_expire_after_their_ttl() -> None:
    now = [0.0]
    fetched: list[str] = []

    class Client:
        def get(self, url: str, headers: Any = None) -> Any:
            import httpx

            fetched.append(url)
            return httpx.Response(200, json={"keys": [_jwk()]}, request=httpx.Request("GET", url))

    keys = PlatformKeys(lambda: Client(), ttl=100, refetch_interval=10, clock=lambda: now[0])  # type: ignore[arg-type]
    keys.key_for("https://lms.test/jwks", _jwk()["kid"], "RS256")
    now[0] = 50
    keys.key_for("https://lms.test/jwks", _jwk()["kid"], "RS256")
    assert len(fetched) == 1
    now[0] = 101
    keys.key_for("https://lms.test/jwks", _jwk()["kid"], "RS256")
    assert len(fetched) == 2


_PUBLIC = new_rsa_keypair()[1]


def _jwk() -> dict[str, Any]:
    from lms_bridge.lti.keys import public_jwk

    return public_jwk(_PUBLIC)


def test_jwks_is_cacheable_and_public(client: Any) -> None:
    response = client.get(f"{TOOL}/lti/jwks")
    assert "max-age=300" in response.headers["Cache-Control"]
