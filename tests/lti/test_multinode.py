"""Several web nodes on one store: a nonce is used once across all of them, a launch made on one
node is known on the others. On SQLite (a shared file), PostgreSQL and Redis."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from lms_bridge.web.launch_context import Role

from .platforms import INSTRUCTOR, LEARNER, TA, TOOL, FakePlatform, _spec, launch, make_app, register, run_launch

Nodes = Callable[[], tuple[Flask, Flask]]


def two_nodes(database_url: str, **config: Any) -> tuple[Flask, Flask]:
    first = make_app(database_url=database_url, **config)
    second = make_app(database_url=database_url, **config)
    return first, second


def _prepared_form(node: Flask, platform: FakePlatform) -> tuple[dict[str, str], dict[str, str]]:
    """Log in on `node` and get the LMS's id_token form, without posting it: (form, cookies)."""
    from urllib.parse import parse_qsl, urlsplit

    client = node.test_client()
    client.set_cookie("lms_bridge_cc", "1", domain="tool.test")
    params = platform.initiate_login(_spec(platform, roles=LEARNER, user_id="5", course_id="2", student_id="s1"))
    login = client.post(platform.login_url, data=params)
    assert login.status_code == 302, login.get_data(as_text=True)
    form = platform.authorize(dict(parse_qsl(urlsplit(login.headers["Location"]).query)))
    state_cookie = next(h for h in login.headers.getlist("Set-Cookie") if h.startswith("lti1p3-state-"))
    name, value = state_cookie.split(";", 1)[0].split("=", 1)
    return form, {name: value}


def _post(node: Flask, form: dict[str, str], cookies: dict[str, str]) -> int:
    client = node.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value, domain="tool.test")
    return client.post(form["launch_url"], data={"id_token": form["id_token"], "state": form["state"]}).status_code


def check_launch_made_on_one_node_is_known_on_the_other(first: Flask, second: Flask, moodle: FakePlatform) -> None:
    launch_id = launch(first.test_client(), moodle, roles=LEARNER, student_id="s1", course_id="2")
    page = second.test_client().get(f"{TOOL}/lti/launched?launch={launch_id}")
    assert page.status_code == 200


def check_the_same_token_posted_to_both_nodes_at_once_launches_once(
    first: Flask, second: Flask, moodle: FakePlatform, attempts: int = 6
) -> None:
    form, cookies = _prepared_form(first, moodle)
    barrier = threading.Barrier(attempts)
    statuses: list[int] = []

    def post(node: Flask) -> None:
        barrier.wait()
        statuses.append(_post(node, form, cookies))

    threads = [threading.Thread(target=post, args=(first if i % 2 else second,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [303] + [401] * (attempts - 1), statuses


def check_replayed_nonce_on_another_node(first: Flask, second: Flask, moodle: FakePlatform) -> None:
    form, cookies = _prepared_form(first, moodle)
    assert _post(first, form, cookies) == 303
    # The same browser's POST replayed against the other node: state and cookie still match,
    # only the shared used-nonce record stops it.
    client = second.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value, domain="tool.test")
    refused = client.post(form["launch_url"], data={"id_token": form["id_token"], "state": form["state"]})
    assert refused.status_code == 401
    assert "replay" in refused.get_data(as_text=True)


# --- SQLite file shared by two apps ----------------------------------------------------------------


@pytest.fixture
def sqlite_nodes(tmp_path: Path, moodle: FakePlatform) -> tuple[Flask, Flask]:
    first, second = two_nodes(f"sqlite:///{tmp_path}/shared.db")
    register(first, moodle)
    register(second, moodle)
    return first, second


def test_sqlite_launch_known_on_both_nodes(sqlite_nodes: tuple[Flask, Flask], moodle: FakePlatform) -> None:
    check_launch_made_on_one_node_is_known_on_the_other(*sqlite_nodes, moodle)


def test_sqlite_replayed_nonce_across_nodes(sqlite_nodes: tuple[Flask, Flask], moodle: FakePlatform) -> None:
    check_replayed_nonce_on_another_node(*sqlite_nodes, moodle)


def test_sqlite_concurrent_posts_launch_once(sqlite_nodes: tuple[Flask, Flask], moodle: FakePlatform) -> None:
    check_the_same_token_posted_to_both_nodes_at_once_launches_once(*sqlite_nodes, moodle)


# --- PostgreSQL --------------------------------------------------------------------------------------


@pytest.fixture
def postgres_nodes(postgres_url: str, moodle: FakePlatform, canvas: FakePlatform) -> Any:
    first, second = two_nodes(postgres_url)
    for node in (first, second):
        register(node, moodle)
        register(node, canvas)
    yield first, second
    for node in (first, second):
        node.extensions["lms_bridge.engine"].dispose()


@pytest.mark.postgres
def test_postgres_launch_suite(postgres_nodes: tuple[Flask, Flask], moodle: FakePlatform, canvas: FakePlatform) -> None:
    first, second = postgres_nodes
    store = first.extensions["lms_bridge.launch_store"]
    staff = store.get_launch(launch(first.test_client(), canvas, roles=INSTRUCTOR, course_id="1234"))
    assert staff.course == "canvas:1234" and staff.is_staff
    ta = store.get_launch(launch(first.test_client(), canvas, roles=TA))
    assert ta.roles == {Role.TEACHING_ASSISTANT}
    learner = store.get_launch(launch(second.test_client(), moodle, roles=LEARNER, student_id="s1", course_id="2"))
    assert learner.course == "moodle:2" and learner.student_id == "s1" and not learner.is_staff
    assert first.test_client().get(f"{TOOL}/course/?launch={learner.launch_id}").status_code == 403
    expired = run_launch(first.test_client(), moodle, mutate=lambda c: {**c, "exp": c["iat"] - 100})
    assert expired.status == 401
    moodle.deployment_id = "99"
    assert run_launch(first.test_client(), moodle).status == 403


@pytest.mark.postgres
def test_postgres_launch_known_on_both_nodes(postgres_nodes: tuple[Flask, Flask], moodle: FakePlatform) -> None:
    check_launch_made_on_one_node_is_known_on_the_other(*postgres_nodes, moodle)


@pytest.mark.postgres
def test_postgres_replayed_nonce_across_nodes(postgres_nodes: tuple[Flask, Flask], moodle: FakePlatform) -> None:
    check_replayed_nonce_on_another_node(*postgres_nodes, moodle)


@pytest.mark.postgres
def test_postgres_concurrent_posts_launch_once(postgres_nodes: tuple[Flask, Flask], moodle: FakePlatform) -> None:
    check_the_same_token_posted_to_both_nodes_at_once_launches_once(*postgres_nodes, moodle)


@pytest.mark.postgres
def test_postgres_new_deployment_recorded_once_under_concurrency(postgres_url: str) -> None:
    first, second = two_nodes(postgres_url)
    canvas = FakePlatform.canvas(deployment_id="5:new")
    register(first, canvas, deployments=[], accept_new_deployments=True)
    register(second, canvas, deployments=[], accept_new_deployments=True)
    results: list[int] = []

    def go(node: Flask) -> None:
        results.append(run_launch(node.test_client(), canvas, roles=INSTRUCTOR).status)

    threads = [threading.Thread(target=go, args=(n,)) for n in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [303] * 4
    from lms_bridge.store.registry import get_lti_platform

    with first.extensions["lms_bridge.sessions"]() as session:
        assert get_lti_platform(session, canvas.issuer, canvas.client_id).registration.deployment_ids == ("5:new",)
    for node in (first, second):
        node.extensions["lms_bridge.engine"].dispose()


# --- Redis ---------------------------------------------------------------------------------------------


@pytest.fixture
def redis_nodes(tmp_path: Path, redis_config: dict[str, str], moodle: FakePlatform) -> tuple[Flask, Flask]:
    first, second = two_nodes(f"sqlite:///{tmp_path}/shared.db", **redis_config)
    register(first, moodle)
    register(second, moodle)
    return first, second


@pytest.mark.redis
def test_redis_holds_the_launch_state(redis_nodes: tuple[Flask, Flask], moodle: FakePlatform) -> None:
    from lms_bridge.lti.state import RedisStateStore

    first, _ = redis_nodes
    assert isinstance(first.extensions["lms_bridge.launch_store"], RedisStateStore)
    launch_id = launch(first.test_client(), moodle, roles=LEARNER, student_id="s1", course_id="2")
    from lms_bridge.store.lti_models import LtiLaunchRow

    with first.extensions["lms_bridge.sessions"]() as session:
        assert session.query(LtiLaunchRow).count() == 0
    assert first.extensions["lms_bridge.launch_store"].get_launch(launch_id).student_id == "s1"


@pytest.mark.redis
def test_redis_launch_known_on_both_nodes(redis_nodes: tuple[Flask, Flask], moodle: FakePlatform) -> None:
    check_launch_made_on_one_node_is_known_on_the_other(*redis_nodes, moodle)


@pytest.mark.redis
def test_redis_replayed_nonce_across_nodes(redis_nodes: tuple[Flask, Flask], moodle: FakePlatform) -> None:
    check_replayed_nonce_on_another_node(*redis_nodes, moodle)


@pytest.mark.redis
def test_redis_concurrent_posts_launch_once(redis_nodes: tuple[Flask, Flask], moodle: FakePlatform) -> None:
    check_the_same_token_posted_to_both_nodes_at_once_launches_once(*redis_nodes, moodle)


@pytest.mark.redis
def test_redis_nonce_is_claimed_once_and_launches_expire(redis_config: dict[str, str]) -> None:
    import time

    import redis

    from lms_bridge.lti.claims import build_launch_context
    from lms_bridge.lti.state import RedisStateStore

    store = RedisStateStore(redis.Redis.from_url(redis_config["REDIS_URL"]), prefix=redis_config["REDIS_KEY_PREFIX"])
    assert store.use_nonce("n-1", 60) and not store.use_nonce("n-1", 60)
    context = build_launch_context(
        {"iss": "https://moodle.test", "sub": "5",
         "https://purl.imsglobal.org/spec/lti/claim/roles": ["Learner"],
         "https://purl.imsglobal.org/spec/lti/claim/context": {"id": "2"},
         "https://purl.imsglobal.org/spec/lti/claim/tool_platform": {"product_family_code": "moodle"}},
        launch_id="L1", client_id="c", configured_platform=None,
    )
    assert store.finish_launch(nonce="n-2", nonce_ttl=60, context=context, ttl=1)
    assert not store.finish_launch(nonce="n-2", nonce_ttl=60, context=context, ttl=1)
    assert store.get_launch("L1") == context
    time.sleep(1.2)
    assert store.get_launch("L1") is None
