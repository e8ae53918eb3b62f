"""Quiz overrides as override_manager keeps them (moodle-ws.md §1.6, fixtures 19–33)."""

from __future__ import annotations

from typing import Any

from .conftest import Site, is_error


def save(site: Site, *overrides: dict[str, Any]) -> Any:
    return site.rest("mod_quiz_save_overrides", data={"quizid": 1, "overrides": list(overrides)})


def rows(site: Site) -> list[dict[str, Any]]:
    return site.rest("mod_quiz_get_overrides", quizid=1)["overrides"]


def reason(site: Site, *overrides: dict[str, Any]) -> str:
    site.sim.config.debug = True
    body = save(site, *overrides)
    assert is_error(body, "invalidparameter") and body["message"] == "Invalid parameter value detected"
    return body["debuginfo"]


def test_one_override_per_user_and_id_required_to_update(site: Site) -> None:
    first = save(site, {"userid": 5, "timelimit": 5400})["ids"][0]
    assert reason(site, {"userid": 5, "timelimit": 6000}) == "Multiple overrides cannot be made for the same user/group."
    assert save(site, {"id": first, "userid": 5, "timelimit": 6000}) == {"ids": [first]}
    assert [(r["id"], r["timelimit"]) for r in rows(site)] == [(first, 6000)]


def test_an_update_replaces_the_whole_override(site: Site) -> None:
    oid = save(site, {"userid": 5, "timeclose": 1796081303, "timelimit": 5400, "password": "pw"})["ids"][0]
    save(site, {"id": oid, "userid": 5, "timelimit": 6000})
    row = rows(site)[0]
    assert (row["timeclose"], row["timelimit"], row["password"]) == (None, 6000, None)


def test_an_update_needs_the_user_or_group_again(site: Site) -> None:
    oid = save(site, {"userid": 5, "timelimit": 5400})["ids"][0]
    assert reason(site, {"id": oid, "timelimit": 6000}) == "A user or group must be set."
    assert reason(site, {"id": oid, "userid": 6, "timelimit": 6000}) == (
        "The user or group cannot be changed after an override is created.")
    assert reason(site, {"id": 999, "userid": 5, "timelimit": 6000}) == "Existing override doesn't exist."


def test_values_equal_to_the_quiz_are_stored_null(site: Site) -> None:
    # the quiz: timeopen 1795217303, timeclose 1795908503, timelimit 3600, attempts 0
    save(site, {"userid": 5, "timeopen": 1795217303, "timeclose": 1795908503, "timelimit": 5400, "attempts": 0})
    row = rows(site)[0]
    assert (row["timeopen"], row["timeclose"], row["timelimit"], row["attempts"]) == (None, None, 5400, None)


def test_nothing_left_to_override(site: Site) -> None:
    assert reason(site, {"userid": 6, "timeclose": 1795908503, "timelimit": 3600}) == (
        "You must override at least one of the quiz settings.")
    assert reason(site, {"userid": 6}) == "You must override at least one of the quiz settings."
    assert reason(site, {"userid": 6, "timelimit": 0, "timeclose": 0, "password": ""}) == (
        "You must override at least one of the quiz settings.")  # empty values are null too


def test_zero_attempts_means_unlimited_and_is_kept(site: Site) -> None:
    site.sim.update_quiz(1, attempts=1)
    save(site, {"userid": 5, "attempts": 0})
    assert rows(site)[0]["attempts"] == 0


def test_validation_reasons(site: Site) -> None:
    assert reason(site, {"userid": 8, "groupid": 1, "timelimit": 5400}) == (
        "Both group and user cannot be set at the same time.")
    assert reason(site, {"userid": 8, "timeopen": 1795908503, "timeclose": 1795822103}) == (
        "You have specified a close date before the open date.")
    assert reason(site, {"userid": 8, "timelimit": -60}) == "Time limit must be greater than zero."
    assert reason(site, {"userid": 8, "attempts": -1}) == "Attempts value must be greater than zero."
    assert reason(site, {"groupid": 999, "timelimit": 5400}) == "Group given doesn't exist."
    assert reason(site, {"userid": 999, "timelimit": 5400}) == "User given doesn't exist."
    assert reason(site, {"timelimit": 5400}) == "A user or group must be set."
    # several reasons are joined with commas, in Moodle's order
    assert reason(site, {"userid": 999, "timeclose": 1795908503}) == (
        "You must override at least one of the quiz settings.,User given doesn't exist.")


def test_a_user_who_is_not_enrolled_is_accepted(site: Site) -> None:
    assert save(site, {"userid": 10, "timeclose": 1795994903})["ids"]


def test_a_batch_is_not_atomic(site: Site) -> None:
    save(site, {"userid": 5, "timelimit": 5400})
    body = save(site, {"userid": 7, "timeclose": 1795994903}, {"userid": 5, "timeclose": 1795994903})
    assert is_error(body, "invalidparameter")
    assert [r["userid"] for r in rows(site)] == [5, 7]  # the first item stayed saved


def test_group_and_user_overrides_side_by_side(site: Site) -> None:
    ids = save(site, {"groupid": 1, "timeclose": 1795994903}, {"userid": 5, "timelimit": 7200})["ids"]
    got = rows(site)
    assert [(r["id"], r["userid"], r["groupid"]) for r in got] == [(ids[0], None, 1), (ids[1], 5, None)]
    assert reason(site, {"groupid": 1, "timelimit": 60}) == "Multiple overrides cannot be made for the same user/group."


def test_delete_overrides(site: Site) -> None:
    ids = save(site, {"userid": 5, "timelimit": 5400}, {"userid": 6, "timelimit": 5400})["ids"]
    assert site.rest("mod_quiz_delete_overrides", data={"quizid": 1, "ids": [ids[0]]}) == {"ids": [ids[0]]}
    site.sim.config.debug = True
    body = site.rest("mod_quiz_delete_overrides", data={"quizid": 1, "ids": [ids[1], 999, 998]})
    assert body["debuginfo"] == ("Override ID(s) 999,998 couldn't be deleted because they don't exist or are not a "
                                 "part of the given quiz.")
    assert [r["id"] for r in rows(site)] == [ids[1]]  # nothing deleted when one id is missing
    # an empty list cannot be sent over REST: the key is simply missing
    body = site.rest("mod_quiz_delete_overrides", data={"quizid": 1, "ids": []})
    assert body["debuginfo"] == "data => Invalid parameter value detected: Missing required key in single structure: ids"


def test_unknown_quiz(site: Site) -> None:
    assert site.rest("mod_quiz_get_overrides", quizid=3)["message"] == "Can't find data record in database table quiz."


def test_quizzes_by_courses(site: Site) -> None:
    body = site.rest("mod_quiz_get_quizzes_by_courses", courseids=[2, 999])
    assert [q["id"] for q in body["quizzes"]] == [1]
    assert body["warnings"] == [{"item": "course", "itemid": 999, "warningcode": "1",
                                 "message": "No access rights in course context"}]
    site.sim.hide_module(3)
    assert site.rest("mod_quiz_get_quizzes_by_courses", courseids=[2])["quizzes"][0]["visible"] is False
    site.sim.update_quiz(1, timeclose=1796000000)
    assert site.rest("mod_quiz_get_quizzes_by_courses", courseids=[2])["quizzes"][0]["timeclose"] == 1796000000
