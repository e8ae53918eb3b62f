"""mod_forum: forums by course, a forum's discussions, and a new discussion (lms_bridge's clarifications).

Shapes and checks as Moodle 4.5 has them (moodle/moodle, mod/forum/externallib.php on the 4.2+
branch with `core_external`; mod/forum/db/services.php; mod/forum/classes/local/managers/capability.php
`can_create_discussions()`; mod/forum/classes/local/vaults/discussion_list.php sort orders):

- `mod_forum_get_forums_by_courses(courseids[] = [])` answers a *bare list* of forums (its
  return description is an external_multiple_structure, so the warnings of
  external_util::validate_courses() are dropped: a course the token cannot reach just adds no
  forum). A forum whose module the token may not see (hidden, no viewhiddenactivities) or without
  mod/forum:viewdiscussion is left out. No courseids: the token user's enrolled courses.
- `mod_forum_get_forum_discussions(forumid, sortorder = -1, page = -1, perpage = 0, groupid = 0)`
  answers `{discussions[], warnings[]}`; each item is the first post (`id`) with its discussion
  (`discussion`), `name` and `subject` through format_string(). sortorder -1 is 1 (last post
  first); outside 1..6 is invalid_parameter_exception. An unknown forum is
  `moodle_exception("Unable to find forum with id N")`; no mod/forum:viewdiscussion is
  `moodle_exception('noviewdiscussionspermission', 'forum')`. Pinned discussions come first.
- `mod_forum_add_discussion(forumid, subject, message, groupid = 0, options[] = [])` answers
  `{discussionid, warnings[]}`. `subject` is PARAM_TEXT (a tag in it is invalid), `message` raw
  HTML stored with messageformat 1 (FORMAT_HTML, forced: the function has no format parameter).
  Options: discussionsubscribe, discussionpinned (bool), inlineattachmentsid, attachmentsid (int);
  any other name is `moodle_exception('errorinvalidparam', 'webservice')`. Who may post is
  can_create_discussions(): a news forum needs mod/forum:addnews, a Q and A forum
  mod/forum:addquestion, any other mod/forum:startdiscussion (services.php declares only that
  one; the news-forum rule is in the capability manager); without it the call fails with
  `moodle_exception('cannotcreatediscussion', 'forum')`, not a required_capability_exception.
  An "each user" forum takes one discussion per user. A subject over the 255 characters of
  forum_posts.subject is the database's write error. Not modelled: groups (every forum here is
  without group mode, so the discussion's groupid is -1), attachments, posting thresholds,
  replies, subscriptions and mail.
"""

from __future__ import annotations

import re
from typing import Any

from .config import (
    CAP_FORUM_ADD_NEWS,
    CAP_FORUM_ADD_QUESTION,
    CAP_FORUM_PIN,
    CAP_FORUM_START_DISCUSSION,
    CAP_FORUM_VIEW_DISCUSSION,
    CAP_MANAGE_ACTIVITIES,
    CAP_VIEW_HIDDEN_ACTIVITIES,
)
from .context import Call
from .errors import MoodleError, invalid_parameter, moodle_exception, require_login
from .records import CourseModule, Forum, ForumDiscussion
from .registry import ExternalFunction, register
from .schema import (
    ALPHANUM,
    BOOL,
    DEFAULT,
    INT,
    OPTIONAL,
    RAW,
    TEXT,
    URL,
    Multiple,
    Single,
    clean_scalar,
    dflt,
    opt,
    req,
    warnings_desc,
)

FUNCTIONS = ("mod_forum_get_forums_by_courses", "mod_forum_get_forum_discussions", "mod_forum_add_discussion")

# discussion_list vault: SORTORDER_LASTPOST_DESC = 1 … SORTORDER_REPLIES_ASC = 6 (the only ones the WS allows)
LASTPOST_DESC, LASTPOST_ASC, CREATED_DESC, CREATED_ASC, REPLIES_DESC, REPLIES_ASC = range(1, 7)
SUBJECT_MAX = 255  # forum_posts.subject and forum_discussions.name are char(255)
_AMPERSAND = re.compile(r"&(?![a-zA-Z0-9#]{1,8};)")  # replace_ampersands_not_followed_by_entity()

FILES = Multiple(Single({"filename": opt(TEXT), "filepath": opt(TEXT), "filesize": opt(INT), "fileurl": opt(URL),
                         "timemodified": opt(INT), "mimetype": opt(RAW), "isexternalfile": opt(BOOL),
                         "repositorytype": opt(TEXT)}), OPTIONAL)


def format_string(text: str) -> str:
    """format_string() with formatstringstriptags on: lone "&" escaped, tags stripped, < > escaped."""
    return clean_scalar(_AMPERSAND.sub("&amp;", text), TEXT).replace("<", "&lt;").replace(">", "&gt;")


def _module(call: Call, forum: Forum) -> CourseModule:
    """validate_context() on the forum's module context: course access, then a visible module."""
    sim = call.sim
    course = sim.course(forum.course)
    cm = sim.cm_of("forum", forum.id)
    call.validate_course(course)
    if not cm.visible and not call.can(CAP_VIEW_HIDDEN_ACTIVITIES):
        raise require_login("Activity is hidden")
    return cm


def can_create_discussions(call: Call, forum: Forum) -> bool:
    """capability manager can_create_discussions(): the capability by forum type, one per user in
    an "each user" forum (no group mode here, so no group check)."""
    capability = {"news": CAP_FORUM_ADD_NEWS, "qanda": CAP_FORUM_ADD_QUESTION}.get(forum.type,
                                                                                  CAP_FORUM_START_DISCUSSION)
    if not call.can(capability):
        return False
    if forum.type == "eachuser":
        return not any(d.userid == call.account.userid for d in call.sim.discussions(forum.id))
    return True


# -- mod_forum_get_forums_by_courses --------------------------------------------------------------------

FORUM = Single({
    "id": req(INT), "course": req(INT), "type": req(TEXT), "name": req(RAW), "intro": req(RAW),
    "introformat": req(INT), "introfiles": FILES, "lang": opt("safedir"), "duedate": opt(INT),
    "cutoffdate": opt(INT), "assessed": req(INT), "assesstimestart": req(INT), "assesstimefinish": req(INT),
    "scale": req(INT), "grade_forum": req(INT), "grade_forum_notify": req(INT), "maxbytes": req(INT),
    "maxattachments": req(INT), "forcesubscribe": req(INT), "trackingtype": req(INT), "rsstype": req(INT),
    "rssarticles": req(INT), "timemodified": req(INT), "warnafter": req(INT), "blockafter": req(INT),
    "blockperiod": req(INT), "completiondiscussions": req(INT), "completionreplies": req(INT),
    "completionposts": req(INT), "cmid": req(INT), "numdiscussions": opt(INT), "cancreatediscussions": opt(BOOL),
    "lockdiscussionafter": opt(INT), "istracked": opt(BOOL), "unreadpostscount": opt(INT),
})
_FORUM_COLUMNS = ("id", "course", "type", "intro", "introformat", "duedate", "cutoffdate", "assessed",
                  "assesstimestart", "assesstimefinish", "scale", "grade_forum", "grade_forum_notify", "maxbytes",
                  "maxattachments", "forcesubscribe", "trackingtype", "rsstype", "rssarticles", "timemodified",
                  "warnafter", "blockafter", "blockperiod", "completiondiscussions", "completionreplies",
                  "completionposts", "lockdiscussionafter")


def _forum(call: Call, forum: Forum, cm: CourseModule) -> dict[str, Any]:
    out: dict[str, Any] = {k: getattr(forum, k) for k in _FORUM_COLUMNS}
    out.update(name=format_string(forum.name), introfiles=[], lang="", cmid=cm.id,
               numdiscussions=len(call.sim.discussions(forum.id)),
               cancreatediscussions=can_create_discussions(call, forum),
               istracked=False)  # the service user does not track forums (user.trackforums 0): no unreadpostscount
    return out


def get_forums_by_courses(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    sim = call.sim
    with sim.lock:
        ids = params["courseids"] or sorted(e.course for e in sim.user_enrolments(call.account.userid)
                                            if e.status == "active")
        out = []
        for cid in dict.fromkeys(ids):
            course = sim.courses.get(cid)
            try:
                if course is None:
                    raise MoodleError("", "", "")
                call.validate_course(course)
            except MoodleError:
                continue  # a validate_courses() warning, which this function's answer has no room for
            for cm in sim.course_modules(cid):  # get_all_instances_in_courses(): the ones the user may see
                if cm.modname != "forum" or not (cm.visible or call.can(CAP_VIEW_HIDDEN_ACTIVITIES)):
                    continue
                if not call.can(CAP_FORUM_VIEW_DISCUSSION):
                    continue
                out.append(_forum(call, sim.forums[cm.instance], cm))
        return out


register(ExternalFunction(
    "mod_forum_get_forums_by_courses", "mod_forum", "read",
    Single({"courseids": Multiple(req(INT), DEFAULT, [])}), Multiple(FORUM), get_forums_by_courses,
    in_service=False))

# -- mod_forum_get_forum_discussions ------------------------------------------------------------------

DISCUSSION = Single({
    "id": req(INT), "name": req(RAW), "groupid": req(INT), "timemodified": req(INT), "usermodified": req(INT),
    "timestart": req(INT), "timeend": req(INT), "discussion": req(INT), "parent": req(INT), "userid": req(INT),
    "created": req(INT), "modified": req(INT), "mailed": req(INT), "subject": req(RAW), "message": req(RAW),
    "messageformat": req(INT), "messagetrust": req(INT), "messageinlinefiles": FILES, "attachment": req(RAW),
    "attachments": FILES, "totalscore": req(INT), "mailnow": req(INT), "userfullname": req(TEXT),
    "usermodifiedfullname": req(TEXT), "userpictureurl": req(URL), "usermodifiedpictureurl": req(URL),
    "numreplies": req(INT), "numunread": req(INT), "pinned": req(BOOL), "locked": req(BOOL), "starred": req(BOOL),
    "canreply": req(BOOL), "canlock": req(BOOL), "canfavourite": req(BOOL),
})


def _discussion(call: Call, d: ForumDiscussion) -> dict[str, Any]:
    sim = call.sim
    author = sim.users.get(d.userid)
    modifier = sim.users.get(d.usermodified)
    picture = f"{call.wwwroot}/theme/image.php/boost/core/{call.config.theme_rev}/u/f2"  # the default picture
    return {
        "id": d.firstpost, "name": format_string(d.name), "groupid": d.groupid, "timemodified": d.timemodified,
        "usermodified": d.usermodified, "timestart": d.timestart, "timeend": d.timeend, "discussion": d.id,
        "parent": 0, "userid": d.userid, "created": d.created, "modified": d.modified, "mailed": d.mailed,
        "subject": format_string(d.subject), "message": d.message, "messageformat": d.messageformat,
        "messagetrust": d.messagetrust, "attachment": "", "totalscore": 0, "mailnow": d.mailnow,
        "userfullname": author.fullname if author else "", "usermodifiedfullname": modifier.fullname if modifier else "",
        "userpictureurl": picture, "usermodifiedpictureurl": picture, "numreplies": 0, "numunread": 0,
        "pinned": bool(d.pinned), "locked": bool(d.timelocked), "starred": False,
        "canreply": False,  # mod/forum:replypost (replynews in a news forum): not a service-account capability
        "canlock": call.can(CAP_MANAGE_ACTIVITIES), "canfavourite": False,
    }


def _sorted(rows: list[ForumDiscussion], sortorder: int) -> list[ForumDiscussion]:
    """discussion_list::get_sort_order(): pinned first, then the key, then the id the same way."""
    def key(d: ForumDiscussion) -> tuple[int, int]:
        if sortorder in (LASTPOST_DESC, LASTPOST_ASC):
            return d.timemodified, d.id
        if sortorder in (CREATED_DESC, CREATED_ASC):
            return d.created, d.id
        return 0, d.id  # replies: none are modelled

    descending = sortorder in (LASTPOST_DESC, CREATED_DESC, REPLIES_DESC)
    ordered = sorted(rows, key=key, reverse=descending)
    return sorted(ordered, key=lambda d: -d.pinned)  # stable: the pinned ones first, each group in order


def get_forum_discussions(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    sortorder = params["sortorder"]
    if sortorder == -1:
        sortorder = LASTPOST_DESC
    if sortorder not in range(1, 7):
        raise invalid_parameter(f"Invalid value for sortorder parameter (value: {sortorder}), "
                                f"allowed values are: 1,2,3,4,5,6")
    sim = call.sim
    with sim.lock:
        forum = sim.forums.get(params["forumid"])
        if forum is None:
            raise moodle_exception(f"Unable to find forum with id {params['forumid']}",
                                   f"error/Unable to find forum with id {params['forumid']}")
        _module(call, forum)
        if not call.can(CAP_FORUM_VIEW_DISCUSSION):
            raise moodle_exception("noviewdiscussionspermission",
                                   "You do not have the permission to view discussions in this forum")
        rows = _sorted(sim.discussions(forum.id), sortorder)
        page, perpage = params["page"], params["perpage"]
        if perpage > 0:
            start = max(0, page * perpage)
            rows = rows[start:start + perpage]
        return {"discussions": [_discussion(call, d) for d in rows], "warnings": []}


register(ExternalFunction(
    "mod_forum_get_forum_discussions", "mod_forum", "read",
    Single({"forumid": req(INT), "sortorder": dflt(INT, -1), "page": dflt(INT, -1), "perpage": dflt(INT, 0),
            "groupid": dflt(INT, 0)}),
    Single({"discussions": Multiple(DISCUSSION), "warnings": warnings_desc()}), get_forum_discussions,
    in_service=False))

# -- mod_forum_add_discussion ----------------------------------------------------------------------------

_BOOL_OPTIONS = ("discussionsubscribe", "discussionpinned")
_INT_OPTIONS = ("inlineattachmentsid", "attachmentsid")


def add_discussion(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    sim = call.sim
    with sim.lock:
        forum = sim.forum(params["forumid"])  # $DB->get_record('forum', …, MUST_EXIST)
        _module(call, forum)
        options: dict[str, Any] = {"discussionsubscribe": True, "discussionpinned": False}
        for option in params["options"]:
            name = option["name"].strip()
            if name in _BOOL_OPTIONS:
                options[name] = bool(clean_scalar(str(option["value"]), BOOL))
            elif name in _INT_OPTIONS:
                options[name] = clean_scalar(str(option["value"]), INT)
            else:
                raise moodle_exception("errorinvalidparam", f'The param "{name}" is invalid.')
        if not can_create_discussions(call, forum):
            raise moodle_exception("cannotcreatediscussion", "Could not create new discussion")
        subject = params["subject"]
        if len(subject) > SUBJECT_MAX:
            raise MoodleError("dml_write_exception", "dmlwriteexception", "Error writing to database",
                              f"value too long for type character varying({SUBJECT_MAX})")
        pinned = options["discussionpinned"] and call.can(CAP_FORUM_PIN)
        discussion = sim.post_discussion(forum.id, subject, params["message"], userid=call.account.userid,
                                         pinned=pinned)
        return {"discussionid": discussion.id, "warnings": []}


register(ExternalFunction(
    "mod_forum_add_discussion", "mod_forum", "write",
    Single({"forumid": req(INT), "subject": req(TEXT), "message": req(RAW), "groupid": dflt(INT, 0),
            "options": Multiple(Single({"name": req(ALPHANUM), "value": req(RAW)}), DEFAULT, [])}),
    Single({"discussionid": req(INT), "warnings": warnings_desc()}), add_discussion, in_service=False))
