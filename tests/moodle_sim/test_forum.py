"""mod_forum as lms_bridge's clarifications use it: the course's Announcements forum, its
discussions, posting one (shapes from mod/forum/externallib.php, Moodle 4.2+; who may post from
the forum capability manager's can_create_discussions())."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.moodle.simulator import READ_CAPABILITIES, SimulatorConfig, SimulatorServer, seed_reference_site
from adapters.moodle.simulator.config import (
    CAP_FORUM_ADD_NEWS,
    CAP_FORUM_START_DISCUSSION,
    CAP_FORUM_VIEW_DISCUSSION,
    CAP_VIEW_HIDDEN_ACTIVITIES,
    DEFAULT_CAPABILITIES,
)
from adapters.moodle.simulator.registry import PLUGIN_SERVICE_CORE

from .conftest import NOW, Rest, Site, is_error

FORUM_KEYS = ["id", "course", "type", "name", "intro", "introformat", "introfiles", "lang", "duedate", "cutoffdate",
              "assessed", "assesstimestart", "assesstimefinish", "scale", "grade_forum", "grade_forum_notify",
              "maxbytes", "maxattachments", "forcesubscribe", "trackingtype", "rsstype", "rssarticles",
              "timemodified", "warnafter", "blockafter", "blockperiod", "completiondiscussions", "completionreplies",
              "completionposts", "cmid", "numdiscussions", "cancreatediscussions", "lockdiscussionafter", "istracked"]
DISCUSSION_KEYS = ["id", "name", "groupid", "timemodified", "usermodified", "timestart", "timeend", "discussion",
                   "parent", "userid", "created", "modified", "mailed", "subject", "message", "messageformat",
                   "messagetrust", "attachment", "totalscore", "mailnow", "userfullname", "usermodifiedfullname",
                   "userpictureurl", "usermodifiedpictureurl", "numreplies", "numunread", "pinned", "locked",
                   "starred", "canreply", "canlock", "canfavourite"]
CANNOT = {"exception": "core\\exception\\moodle_exception", "errorcode": "cannotcreatediscussion",
          "message": "Could not create new discussion"}


def post(site: Site, forumid: int = 1, subject: str = "Question 4 (Anatomy) [E1/7]", message: str = "<p>Read mg as g.</p>",
         **extra: Any) -> Any:
    return site.rest("mod_forum_add_discussion", forumid=forumid, subject=subject, message=message, **extra)


def listing(site: Site, forumid: int = 1, **extra: Any) -> list[dict[str, Any]]:
    body = site.rest("mod_forum_get_forum_discussions", forumid=forumid, **extra)
    assert body["warnings"] == []
    return body["discussions"]


def limited(site: Site, *capabilities: str, without: tuple[str, ...] = ()) -> Rest:
    """A second token (its own service user) with these capabilities."""
    caps = (set(capabilities) or set(DEFAULT_CAPABILITIES)) - set(without)
    site.sim.add_token("limited", frozenset(caps))
    return Rest(site.server, token="limited")


# -- mod_forum_get_forums_by_courses ----------------------------------------------------------------------


def test_the_course_news_forum_as_moodle_lists_it(site: Site) -> None:
    (forum,) = site.rest("mod_forum_get_forums_by_courses", courseids=[2])  # a bare list: no warnings key
    assert list(forum) == FORUM_KEYS  # no unreadpostscount: the service user does not track forums
    assert (forum["id"], forum["course"], forum["type"], forum["name"], forum["cmid"]) == (1, 2, "news",
                                                                                         "Announcements", 1)
    assert (forum["forcesubscribe"], forum["numdiscussions"], forum["cancreatediscussions"]) == (1, 0, True)
    assert forum["introfiles"] == [] and forum["lang"] == "" and forum["istracked"] is False


def test_forums_by_courses_leaves_out_what_the_token_cannot_reach(site: Site) -> None:
    assert site.rest("mod_forum_get_forums_by_courses") == []  # no courseids: the (non-)enrolled service user's
    assert site.rest("mod_forum_get_forums_by_courses", courseids=[999]) == []  # unknown course: no error
    assert site.rest("mod_forum_get_forums_by_courses", courseids=[999, 2])[0]["id"] == 1
    reader = limited(site, *READ_CAPABILITIES, without=(CAP_FORUM_VIEW_DISCUSSION,))
    assert reader("mod_forum_get_forums_by_courses", courseids=[2]) == []  # no mod/forum:viewdiscussion
    reader.close()
    site.sim.hide_module(1)
    blind = limited(site, without=(CAP_VIEW_HIDDEN_ACTIVITIES,))
    assert blind("mod_forum_get_forums_by_courses", courseids=[2]) == []
    blind.close()
    assert site.rest("mod_forum_get_forums_by_courses", courseids=[2])[0]["id"] == 1


def test_every_new_course_has_its_news_forum_unless_nobody_opened_it(site: Site) -> None:
    opened = site.sim.create_course("Course 7", "C7")
    unopened = site.sim.create_course("Course 8", "C8", news_forum=False)
    site.sim.create_forum(unopened.id, "Questions", section=1, type="general")
    forums = site.rest("mod_forum_get_forums_by_courses", courseids=[opened.id, unopened.id])
    assert [(f["course"], f["type"], f["name"]) for f in forums] == [(opened.id, "news", "Announcements"),
                                                                    (unopened.id, "general", "Questions")]
    assert forums[0]["intro"] == "General news and announcements" and forums[1]["forcesubscribe"] == 0


# -- mod_forum_add_discussion -----------------------------------------------------------------------------


def test_post_in_the_news_forum(site: Site) -> None:
    assert post(site, options=[{"name": "discussionsubscribe", "value": 0}]) == {"discussionid": 1, "warnings": []}
    (stored,) = site.sim.discussions(1)
    assert (stored.name, stored.subject, stored.message) == ("Question 4 (Anatomy) [E1/7]",
                                                            "Question 4 (Anatomy) [E1/7]", "<p>Read mg as g.</p>")
    assert (stored.messageformat, stored.userid, stored.groupid, stored.created) == (1, 3, -1, NOW)
    assert site.rest("mod_forum_get_forums_by_courses", courseids=[2])[0]["numdiscussions"] == 1


def test_posting_needs_the_capability_of_the_forum_type(site: Site) -> None:
    # a news forum takes mod/forum:addnews; startdiscussion is not enough there
    starter = limited(site, without=(CAP_FORUM_ADD_NEWS,))
    assert CAP_FORUM_START_DISCUSSION in site.sim.accounts["limited"].capabilities
    assert starter("mod_forum_add_discussion", forumid=1, subject="s", message="m") == CANNOT
    assert starter("mod_forum_get_forums_by_courses", courseids=[2])[0]["cancreatediscussions"] is False
    starter.close()
    assert site.sim.discussions(1) == []
    # any other forum takes mod/forum:startdiscussion; addnews is not enough there
    general = site.sim.create_forum(2, "Questions", section=1, type="general").instance
    newsman = limited(site, without=(CAP_FORUM_START_DISCUSSION,))
    assert newsman("mod_forum_add_discussion", forumid=general, subject="s", message="m") == CANNOT
    assert newsman("mod_forum_add_discussion", forumid=1, subject="s", message="m")["discussionid"]
    newsman.close()
    assert post(site, forumid=general)["discussionid"]


def test_each_user_forum_takes_one_discussion_per_user(site: Site) -> None:
    forum = site.sim.create_forum(2, "Introduce yourself", section=1, type="eachuser").instance
    assert post(site, forumid=forum)["discussionid"]
    assert post(site, forumid=forum) == CANNOT


def test_add_discussion_refusals(site: Site) -> None:
    site.sim.config.debug = True
    body = post(site, subject="Question <b>4</b> [E1/7]")  # PARAM_TEXT: a tag is not cleaned away, it is refused
    assert is_error(body, "invalidparameter") and body["debuginfo"].startswith("subject => Invalid parameter")
    assert post(site, options=[{"name": "notify", "value": 1}]) == {
        "exception": "core\\exception\\moodle_exception", "errorcode": "errorinvalidparam",
        "message": 'The param "notify" is invalid.'}
    body = post(site, forumid=99)
    assert (body["exception"], body["errorcode"], body["message"]) == (
        "dml_missing_record_exception", "invalidrecord", "Can't find data record in database table forum.")
    body = post(site, subject="x" * 256)
    assert (body["exception"], body["errorcode"]) == ("dml_write_exception", "dmlwriteexception")
    assert is_error(post(site, messageformat=1), "invalidparameter")  # add_discussion has no format parameter
    nobody = limited(site, CAP_FORUM_ADD_NEWS)  # no course access at all
    assert is_error(nobody("mod_forum_add_discussion", forumid=1, subject="s", message="m"), "requireloginerror")
    nobody.close()
    assert site.sim.discussions(1) == []


# -- mod_forum_get_forum_discussions ----------------------------------------------------------------------


def test_discussions_listing_shape(site: Site) -> None:
    post(site, subject="Law & Ethics: question 2 [E3/1]")
    (row,) = listing(site)
    assert list(row) == DISCUSSION_KEYS
    (stored,) = site.sim.discussions(1)
    assert (row["discussion"], row["id"], row["parent"]) == (stored.id, stored.firstpost, 0)
    assert row["subject"] == row["name"] == "Law &amp; Ethics: question 2 [E3/1]"  # format_string()
    assert (row["message"], row["messageformat"], row["userid"], row["userfullname"]) == (
        "<p>Read mg as g.</p>", 1, 3, "Integration Service")
    assert (row["pinned"], row["locked"], row["canreply"], row["canlock"]) == (False, False, False, True)
    assert row["userpictureurl"].endswith("/u/f2")


def test_discussion_and_post_ids_differ(server: SimulatorServer, rest: Rest) -> None:
    course = server.sim.create_course("Course 7", "C7")  # distinct id bases: a discussion id is no post id
    forum = server.sim.news_forum(course.id)
    assert forum is not None
    new = rest("mod_forum_add_discussion", forumid=forum.id, subject="s", message="m")["discussionid"]
    (row,) = rest("mod_forum_get_forum_discussions", forumid=forum.id)["discussions"]
    assert row["discussion"] == new != row["id"]


def test_discussions_order_and_pages(site: Site) -> None:
    for n in range(5):
        site.sim.config.clock = lambda n=n: NOW + 10 * n
        post(site, subject=f"Clarification {n} [E1/{n}]")
    site.sim.discussions(1)[1].timemodified = NOW + 100  # a reply bumps it (replies are not modelled)
    site.sim.discussions(1)[3].pinned = 1

    def names(**extra: Any) -> list[str]:
        return [d["name"][-6:] for d in listing(site, **extra)]

    assert names() == ["[E1/3]", "[E1/1]", "[E1/4]", "[E1/2]", "[E1/0]"]  # pinned, then last post first
    assert names(sortorder=3) == ["[E1/3]", "[E1/4]", "[E1/2]", "[E1/1]", "[E1/0]"]  # created, newest first
    assert names(sortorder=4) == ["[E1/3]", "[E1/0]", "[E1/1]", "[E1/2]", "[E1/4]"]
    assert names(sortorder=3, page=0, perpage=2) == ["[E1/3]", "[E1/4]"]
    assert names(sortorder=3, page=2, perpage=2) == ["[E1/0]"]
    assert names(sortorder=3, page=3, perpage=2) == []
    assert len(names(perpage=0, page=4)) == 5  # perpage 0: everything


def test_discussions_refusals(site: Site) -> None:
    site.sim.config.debug = True
    body = site.rest("mod_forum_get_forum_discussions", forumid=1, sortorder=9)
    assert is_error(body, "invalidparameter")
    assert body["debuginfo"] == "Invalid value for sortorder parameter (value: 9), allowed values are: 1,2,3,4,5,6"
    site.sim.config.debug = False
    assert site.rest("mod_forum_get_forum_discussions", forumid=99) == {
        "exception": "core\\exception\\moodle_exception", "errorcode": "Unable to find forum with id 99",
        "message": "error/Unable to find forum with id 99"}
    reader = limited(site, *READ_CAPABILITIES, without=(CAP_FORUM_VIEW_DISCUSSION,))
    assert reader("mod_forum_get_forum_discussions", forumid=1) == {
        "exception": "core\\exception\\moodle_exception", "errorcode": "noviewdiscussionspermission",
        "message": "You do not have the permission to view discussions in this forum"}
    reader.close()
    site.sim.hide_module(1)
    blind = limited(site, without=(CAP_VIEW_HIDDEN_ACTIVITIES,))
    assert blind("mod_forum_get_forum_discussions", forumid=1)["message"] == (
        "Course or activity not accessible. (Activity is hidden)")
    blind.close()


def test_a_hand_made_post_is_listed_too(site: Site) -> None:
    site.sim.post_discussion(1, "Room change", "<p>Room 2</p>", userid=site.ids["teacher"])
    (row,) = listing(site)
    assert (row["userid"], row["userfullname"], row["canlock"]) == (4, "Terry Teacher", True)


def test_deleting_the_forum_deletes_its_discussions(site: Site) -> None:
    post(site)
    site.sim.delete_module(1)
    assert site.sim.forum_discussions == {} and site.sim.write_count_state()["discussions"] == 0


def test_answers_render_as_xml_too(site: Site) -> None:
    post(site)
    pairs = [("wstoken", site.rest.token), ("wsfunction", "mod_forum_get_forums_by_courses"), ("courseids[0]", 2)]
    text = site.rest.raw(pairs).text
    assert text.startswith('<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n<MULTIPLE>\n<SINGLE>')
    assert '<KEY name="type"><VALUE>news</VALUE>' in text and "unreadpostscount" in text


# -- the service ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["4.5", "5.3"])
def test_the_plugin_service_offers_them_a_core_service_only_when_added(version: str) -> None:
    def names(config: SimulatorConfig) -> tuple[list[str], Any]:
        with SimulatorServer(config) as server:
            seed_reference_site(server.sim)
            rest = Rest(server)
            try:
                listed = [f["name"] for f in rest("core_webservice_get_site_info")["functions"]]
                return listed, rest("mod_forum_get_forums_by_courses", courseids=[2])
            finally:
                rest.close()

    listed, answer = names(SimulatorConfig(version=version, plugin=True, clock=lambda: NOW))
    assert listed[-3:] == list(PLUGIN_SERVICE_CORE) and answer[0]["type"] == "news"
    listed, answer = names(SimulatorConfig(version=version, plugin=False, clock=lambda: NOW))
    assert not set(PLUGIN_SERVICE_CORE) & set(listed) and is_error(answer, "accessexception")
    listed, answer = names(SimulatorConfig(version=version, plugin=False, clock=lambda: NOW,
                                           extra_functions=PLUGIN_SERVICE_CORE))
    assert listed[-3:] == list(PLUGIN_SERVICE_CORE) and answer[0]["id"] == 1
