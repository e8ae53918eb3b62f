"""mod_quiz: quizzes by course and the override functions (4.4+)."""

from __future__ import annotations

from typing import Any

from . import overrides
from .config import (
    CAP_MANAGE_ACTIVITIES,
    CAP_QUIZ_MANAGE_OVERRIDES,
    CAP_QUIZ_VIEW,
    CAP_QUIZ_VIEW_OVERRIDES,
    CAP_VIEW_HIDDEN_ACTIVITIES,
    SimulatorConfig,
)
from .context import Call
from .errors import MoodleError, required_capability
from .records import Quiz
from .registry import ExternalFunction, register
from .schema import (
    BOOL,
    DEFAULT,
    FLOAT,
    INT,
    OPTIONAL,
    RAW,
    TEXT,
    Multiple,
    Single,
    dflt,
    opt,
    req,
    warnings_desc,
)

_PUBLIC = ("id", "coursemodule", "course", "name", "intro", "introformat", "introfiles", "section", "visible",
           "groupmode", "groupingid", "lang")
_VIEW = ("timeopen", "timeclose", "timelimit", "overduehandling", "graceperiod", "preferredbehaviour",
         "canredoquestions", "attempts", "attemptonlast", "grademethod", "decimalpoints", "questiondecimalpoints",
         "reviewattempt", "reviewcorrectness", "reviewmaxmarks", "reviewmarks", "reviewspecificfeedback",
         "reviewgeneralfeedback", "reviewrightanswer", "reviewoverallfeedback", "questionsperpage", "navmethod",
         "shuffleanswers", "sumgrades", "grade")
_MANAGE = ("timecreated", "timemodified", "password", "subnet", "browsersecurity", "delay1", "delay2",
           "showuserpicture", "showblocks", "completionattemptsexhausted", "completionpass", "allowofflineattempts",
           "autosaveperiod")
_TEXT_FIELDS = {"overduehandling", "preferredbehaviour", "navmethod", "password", "subnet", "browsersecurity",
                "lang", "name"}
QUIZ = Single({
    **{k: (opt(TEXT) if k in _TEXT_FIELDS else opt(INT)) for k in _PUBLIC + _VIEW + _MANAGE},
    "id": req(INT), "coursemodule": req(INT), "course": req(INT), "name": req(RAW), "intro": opt(RAW),
    "introformat": opt(INT), "introfiles": Multiple(Single({"filename": opt(TEXT)}), OPTIONAL),
    "visible": opt(BOOL), "sumgrades": opt(FLOAT), "grade": opt(FLOAT),
    "hasfeedback": opt(INT), "hasquestions": opt(INT),
})


def _quiz(call: Call, quiz: Quiz) -> dict[str, Any]:
    sim = call.sim
    cm = sim.cm_of("quiz", quiz.id)
    out: dict[str, Any] = {"id": quiz.id, "coursemodule": cm.id, "course": quiz.course, "name": quiz.name,
                           "intro": quiz.intro, "introformat": quiz.introformat, "introfiles": [],
                           "section": sim.section(cm.section).section, "visible": bool(cm.visible),
                           "groupmode": cm.groupmode, "groupingid": cm.groupingid, "lang": ""}
    if call.can(CAP_QUIZ_VIEW):
        out.update({k: getattr(quiz, k) for k in _VIEW})
    if call.can(CAP_MANAGE_ACTIVITIES):
        out.update({k: getattr(quiz, k) for k in _MANAGE})
    if call.can(CAP_QUIZ_VIEW):
        out.update(hasfeedback=quiz.hasfeedback, hasquestions=quiz.hasquestions)
    return out


def get_quizzes_by_courses(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    sim = call.sim
    warnings: list[dict[str, Any]] = []
    with sim.lock:
        ids = params["courseids"] or sorted({e.course for e in sim.user_enrolments(call.account.userid)})
        quizzes = []
        for cid in dict.fromkeys(ids):
            course = sim.courses.get(cid)
            try:
                if course is None:
                    raise MoodleError("", "", "")
                call.validate_course(course)
            except MoodleError:
                warnings.append({"item": "course", "itemid": cid, "warningcode": "1",
                                 "message": "No access rights in course context"})
                continue
            for cm in sim.course_modules(cid):
                if cm.modname == "quiz" and (cm.visible or call.can(CAP_VIEW_HIDDEN_ACTIVITIES)):
                    quizzes.append(_quiz(call, sim.quizzes[cm.instance]))
        return {"quizzes": quizzes, "warnings": warnings}


register(ExternalFunction(
    "mod_quiz_get_quizzes_by_courses", "mod_quiz", "read", Single({"courseids": Multiple(req(INT), DEFAULT, [])}),
    Single({"quizzes": Multiple(QUIZ), "warnings": warnings_desc()}), get_quizzes_by_courses))

# -- overrides ---------------------------------------------------------------------------------------

OVERRIDE_IN = Single({
    "id": dflt(INT, None), "groupid": dflt(INT, None), "userid": dflt(INT, None), "timeopen": dflt(INT, None),
    "timeclose": opt(INT), "timelimit": dflt(INT, None), "attempts": dflt(INT, None), "password": dflt(TEXT, None),
})


def _override_out(config: SimulatorConfig) -> Single:
    """get_overrides' answer: 5.2+ adds the override reason (and the quiz due date)."""
    keys: dict[str, Any] = {"id": req(INT), "quiz": req(INT), "userid": dflt(INT, None), "groupid": dflt(INT, None),
                            "timeopen": dflt(INT, None), "timeclose": dflt(INT, None)}
    if config.at_least("5.3"):
        keys["duedate"] = dflt(INT, None)
    keys.update({"timelimit": dflt(INT, None), "attempts": dflt(INT, None), "password": dflt(TEXT, None)})
    if config.at_least("5.3"):
        keys.update(reason=dflt(RAW, None), reasonformat=dflt(INT, 0))
    return Single({"overrides": Multiple(Single(keys))})


def _quiz_context(call: Call, quizid: int) -> Quiz:
    sim = call.sim
    quiz = sim.quiz(quizid)
    call.validate_course(sim.course(quiz.course))
    return quiz


def save_overrides(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    data = params["data"]
    with call.sim.lock:
        quiz = _quiz_context(call, data["quizid"])
        call.require(CAP_QUIZ_MANAGE_OVERRIDES)
        ids = []
        for override in data["overrides"]:  # each saved on its own: a later failure keeps earlier ones
            ids.append(overrides.save_quiz_override(call.sim, quiz, override))
        return {"ids": ids}


def get_overrides(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    with call.sim.lock:
        quiz = _quiz_context(call, params["quizid"])
        if not (call.can(CAP_QUIZ_VIEW_OVERRIDES) or call.can(CAP_QUIZ_MANAGE_OVERRIDES)):
            raise required_capability(CAP_QUIZ_VIEW_OVERRIDES)
        return {"overrides": [{"id": o.id, "quiz": o.quiz, "userid": o.userid, "groupid": o.groupid,
                               "timeopen": o.timeopen, "timeclose": o.timeclose, "timelimit": o.timelimit,
                               "attempts": o.attempts, "password": o.password}
                              for o in call.sim.quiz_overrides(quiz.id)]}


def delete_overrides(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    data = params["data"]
    with call.sim.lock:
        quiz = _quiz_context(call, data["quizid"])
        call.require(CAP_QUIZ_MANAGE_OVERRIDES)
        return {"ids": overrides.delete_quiz_overrides(call.sim, quiz, data["ids"])}


register(ExternalFunction(
    "mod_quiz_save_overrides", "mod_quiz", "write",
    Single({"data": Single({"quizid": req(INT), "overrides": Multiple(OVERRIDE_IN)})}),
    Single({"ids": Multiple(req(INT))}), save_overrides))
register(ExternalFunction(
    "mod_quiz_get_overrides", "mod_quiz", "read", Single({"quizid": req(INT)}),
    _override_out, get_overrides))
register(ExternalFunction(
    "mod_quiz_delete_overrides", "mod_quiz", "write",
    Single({"data": Single({"quizid": req(INT), "ids": Multiple(req(INT))})}),
    Single({"ids": Multiple(req(INT))}), delete_overrides))
