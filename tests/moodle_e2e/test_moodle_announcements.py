"""Clarifications in Moodle end to end, over real HTTP against the simulator: the Moodle adapter as
the jobs' AnnouncementPort posts once into the course's Announcements forum, a rerun finds that
post instead of posting again, and what the site lacks (the functions in the service, the forum,
the capability) is a clear error; an uncertain post is looked for before it is sent again."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest

from adapters.moodle.adapter import MoodleAdapter
from adapters.moodle.client import MoodleClient, RetryPolicy
from adapters.moodle.errors import MoodleConfigurationError, MoodleMissingFunction, MoodlePermissionError
from adapters.moodle.simulator import SimulatorConfig, SimulatorServer
from adapters.moodle.simulator.config import CAP_FORUM_ADD_NEWS
from adapters.moodle.simulator.registry import PLUGIN_SERVICE_CORE
from lms_bridge.domain.model import Delivery, Exam
from lms_bridge.jobs.clarify import announcement_port, message_html, post_clarification
from lms_bridge.lms import CourseRef

T = TypeVar("T")
COURSE = CourseRef("moodle", "201")
EXAM = Exam(exam_id="E1", title="Anatomy & Physiology", delivery=Delivery.DROPBOX,
            start=datetime(2026, 12, 1, 9, 30, tzinfo=UTC), duration_minutes=90, course=str(COURSE))


async def _no_sleep(_: float) -> None:
    return None


def with_adapter(server: SimulatorServer, work: Callable[[MoodleAdapter], Awaitable[T]]) -> tuple[T, MoodleClient]:
    """Run `work` with a fresh adapter (a job run opens its own connections)."""
    async def run() -> tuple[T, MoodleClient]:
        async with MoodleClient(server.base_url, server.token, retry=RetryPolicy(max_retries=1),
                                sleep=_no_sleep) as client:
            adapter = MoodleAdapter(client, ZoneInfo("Europe/London"))
            port = announcement_port({"moodle": adapter}, "moodle")
            assert port is adapter
            return await work(adapter), client
    return asyncio.run(run())


def clarify(server: SimulatorServer, number: int = 7, subject: str = "Question 4",
            body: str = "In question 4, read 'mg' as 'g'.\n\nTime is unchanged.") -> tuple[str, bool]:
    result, _ = with_adapter(server, lambda a: post_clarification(a, COURSE, EXAM, number, subject, body))
    return result


def discussions(server: SimulatorServer) -> list[Any]:
    forum = server.sim.news_forum(201)
    assert forum is not None
    return server.sim.discussions(forum.id)


@pytest.fixture
def moodle() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorConfig(version="4.5", plugin=True)) as server:
        server.sim.create_course("Anatomy", "ANAT", id=201)
        yield server


def test_posted_once_and_found_on_a_rerun(moodle: SimulatorServer) -> None:
    ident, new = clarify(moodle)
    assert new is True
    (stored,) = discussions(moodle)
    assert ident == str(stored.id)
    assert stored.subject == "Question 4 (Anatomy &amp; Physiology) [E1/7]"  # reads as typed in Moodle
    assert html.unescape(stored.subject) == "Question 4 (Anatomy & Physiology) [E1/7]"
    assert stored.message == message_html("In question 4, read 'mg' as 'g'.\n\nTime is unchanged.")
    assert stored.messageformat == 1 and stored.userid == 3
    # the rerun (a retried job, a new adapter) finds it and posts nothing
    moodle.stats.reset()
    assert clarify(moodle) == (ident, False)
    assert len(discussions(moodle)) == 1
    assert moodle.stats.snapshot()["writes"] == 0
    # another clarification of the same exam is another post
    other, new = clarify(moodle, number=8, subject="Question 5")
    assert new is True and other != ident and len(discussions(moodle)) == 2


def test_the_news_forum_is_looked_up_once_per_adapter(moodle: SimulatorServer) -> None:
    async def work(adapter: MoodleAdapter) -> list[Any]:
        first = await adapter.find_announcement(COURSE, "[E1/1]")
        posted = await adapter.post_announcement(COURSE, "Q (Anatomy) [E1/1]", "<p>a</p>")
        again = await adapter.find_announcement(COURSE, "[E1/1]")
        return [first, posted, again]

    (first, posted, again), client = with_adapter(moodle, work)
    assert first is None and again == posted
    assert client.metrics.calls_by_function["mod_forum_get_forums_by_courses"] == 1
    assert client.metrics.calls_by_function["core_webservice_get_site_info"] == 1


def test_a_tag_and_html_characters_in_the_subject(moodle: SimulatorServer) -> None:
    ident, new = clarify(moodle, subject="Use <= not < in Q3 & Q4")
    assert new is True
    (stored,) = discussions(moodle)
    assert html.unescape(stored.subject) == "Use <= not < in Q3 & Q4 (Anatomy & Physiology) [E1/7]"
    assert clarify(moodle, subject="Use <= not < in Q3 & Q4") == (ident, False)


def test_a_long_subject_keeps_its_tag(moodle: SimulatorServer) -> None:
    ident, _ = clarify(moodle, subject="Question 4 " * 40)
    (stored,) = discussions(moodle)
    assert len(stored.subject) == 255 and stored.subject.endswith("… [E1/7]")
    assert clarify(moodle, subject="Question 4 " * 40) == (ident, False)


def test_a_post_whose_answer_was_lost_is_not_posted_twice(moodle: SimulatorServer) -> None:
    moodle.faults.drop_next("mod_forum_add_discussion", after=True)  # posted, then the connection dropped
    ident, new = clarify(moodle)
    assert new is True and [str(d.id) for d in discussions(moodle)] == [ident]
    moodle.faults.drop_next("mod_forum_add_discussion", after=False)  # dropped before Moodle did anything
    other, new = clarify(moodle, number=8)
    assert new is True and len(discussions(moodle)) == 2 and other != ident


def test_a_service_without_the_forum_functions_names_the_missing_one() -> None:
    with SimulatorServer(SimulatorConfig(version="4.5", plugin=False)) as server:  # the recorded core service
        server.sim.create_course("Anatomy", "ANAT", id=201)
        with pytest.raises(MoodleMissingFunction) as caught:
            clarify(server)
        assert caught.value.function == "mod_forum_get_forums_by_courses"
        assert "add it to the external service the token belongs to" in str(caught.value)
        assert server.stats.snapshot()["by_function"] == {"core_webservice_get_site_info": 1}  # asked nothing else
    reads = PLUGIN_SERVICE_CORE[:2]
    with SimulatorServer(SimulatorConfig(version="4.5", plugin=False, extra_functions=reads)) as server:
        server.sim.create_course("Anatomy", "ANAT", id=201)
        with pytest.raises(MoodleMissingFunction) as caught:
            clarify(server)
        assert caught.value.function == "mod_forum_add_discussion"
        assert "post clarifications" in str(caught.value)
    with SimulatorServer(SimulatorConfig(version="5.3", plugin=False, extra_functions=PLUGIN_SERVICE_CORE)) as server:
        server.sim.create_course("Anatomy", "ANAT", id=201)
        assert clarify(server)[1] is True  # core only works once they are in the service


def test_a_course_without_an_announcements_forum() -> None:
    with SimulatorServer(SimulatorConfig()) as server:
        server.sim.create_course("Anatomy", "ANAT", id=201, news_forum=False)  # nobody opened it yet
        server.sim.create_forum(201, "Questions", section=1, type="general")
        with pytest.raises(MoodleConfigurationError, match="course 201 has no Announcements forum"):
            clarify(server)
        assert server.sim.forum_discussions == {}


def test_a_service_account_that_may_not_post_announcements(moodle: SimulatorServer) -> None:
    moodle.sim.revoke(moodle.token, CAP_FORUM_ADD_NEWS)
    with pytest.raises(MoodlePermissionError, match="mod/forum:addnews") as caught:
        clarify(moodle)
    assert caught.value.errorcode == "cannotcreatediscussion"
    assert discussions(moodle) == []
