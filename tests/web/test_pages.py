"""Every page through a real launch, as Canvas and Moodle staff and learners: what each sees,
what a Learner can never reach, CSRF, and the exam form's validation."""

from __future__ import annotations

import re

import pytest

from lms_bridge.store.audit import audit_entries
from lms_bridge.store.exams import course_exam
from lms_bridge.web import csrf
from tests.lti.platforms import LEARNER, TOOL, run_launch

from .conftest import Tool, hidden_fields, text_of

# --- landing after the launch -------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "course", "role", "path"), [
    ("canvas", "101", "instructor", "/course/"),
    ("canvas", "101", "learner", "/me/"),
    ("moodle", "7", "instructor", "/course/"),
    ("moodle", "7", "learner", "/me/"),
])
def test_the_launch_lands_staff_on_the_course_and_learners_on_their_own_page(tool: Tool, kind, course, role, path):  # noqa: ANN001
    result = run_launch(tool.client, tool.platform(kind), roles=role, user_id="p1", student_id="s1", course_id=course)
    assert result.status == 303
    assert result.response.headers["Location"].split("?")[0].endswith(path)
    page = tool.client.get(result.response.headers["Location"], base_url=TOOL)
    assert page.status_code == 200


def test_canvas_staff_see_their_course_exams_only(tool: Tool) -> None:
    launch_id = tool.staff("canvas", "101")
    page = tool.get("/course/", launch_id)
    assert page.status_code == 200
    text = text_of(page.get_data(as_text=True))
    assert "Anatomy Drop-box" in text and "Statistics Quiz" in text
    assert "Law New Quiz" not in text and "Moodle Essay" not in text  # other courses
    assert "Tue 1 Dec 2026, 09:30" in text  # local time
    assert "Queen Margaret University" in text
    html = page.get_data(as_text=True)
    assert f"launch={launch_id}" in html  # every link keeps the launch (no cookies needed)


def test_moodle_staff_see_the_moodle_course(tool: Tool) -> None:
    launch_id = tool.staff("moodle", "7")
    text = text_of(tool.get("/course/", launch_id).get_data(as_text=True))
    assert "Moodle Essay" in text and "Anatomy Drop-box" not in text
    detail = text_of(tool.get("/course/exams/M1/", launch_id).get_data(as_text=True))
    assert "s1" in detail and "s4" in detail and "s2" not in detail
    plan = tool.get("/course/plan", launch_id)
    assert plan.status_code == 200
    assert "no moodle connection is configured" in text_of(plan.get_data(as_text=True))


def test_exam_page_shows_every_candidate_with_rules_in_words_and_a_timeline(tool: Tool) -> None:
    launch_id = tool.staff()
    page = tool.get("/course/exams/E1/", launch_id)
    html = page.get_data(as_text=True)
    text = text_of(html)
    for student in ("s1", "s2", "s3"):
        assert re.search(rf'<th scope="row">{student}</th>', html)
    # s1: W = 125, ceil(125 x 1.25) = 157, + (10/2) x ceil(120/30) = 20 -> 177 min -> 12:27
    assert "Tue 1 Dec 2026, 12:27" in text
    assert "Rest-break time added on top of extra time (qmu.rest_breaks)" in text
    assert "25% extra time, rest breaks 10 min an hour" in text  # staff see plan numbers
    assert '<svg id="timeline"' in html and 'role="img"' in html
    assert "Standard: 1 candidate: opens Tue 01 Dec 2026 09:30 GMT, due Tue 01 Dec 2026 11:35 GMT." in text
    assert "the timetable's candidates list" in text
    assert "s5" not in text and "s6" not in text


def test_another_courses_exam_is_not_found(tool: Tool) -> None:
    launch_id = tool.staff("canvas", "101")
    for path in ("/course/exams/E3/", "/course/exams/E3/edit", "/course/exams/M1/"):
        page = tool.get(path, launch_id)
        assert page.status_code == 404
        assert "Law New Quiz" not in page.get_data(as_text=True)


def test_no_launch_gets_a_clear_401_page(tool: Tool) -> None:
    for path in ("/course/", "/me/", "/course/plan"):
        page = tool.get(path, None)
        assert page.status_code == 401
        assert "opened from your course" in text_of(page.get_data(as_text=True))
    assert tool.get("/course/", "not-a-launch").status_code == 401


# --- a Learner never reaches a staff page -------------------------------------------------------

STAFF_GETS = ["/course/", "/course/exams/new", "/course/exams/E1/", "/course/exams/E1/edit", "/course/plan",
              "/course/apply/some-run", "/course/apply/some-run/progress.json"]
STAFF_POSTS = ["/course/exams/new", "/course/exams/E1/edit", "/course/apply"]


@pytest.mark.parametrize("kind", ["canvas", "moodle"])
def test_a_learner_gets_403_on_every_staff_route_and_no_staff_data(tool: Tool, kind: str) -> None:
    course = "101" if kind == "canvas" else "7"
    launch_id = tool.learner("s1", kind, course)
    secret = tool.app.config["SECRET_KEY"]
    routes = {r.rule for r in tool.app.url_map.iter_rules() if r.endpoint.startswith("staff.")}
    assert routes == {"/course/", "/course/exams/new", "/course/exams/<path:exam_id>/",
                      "/course/exams/<path:exam_id>/edit", "/course/plan", "/course/apply",
                      "/course/apply/<run_id>", "/course/apply/<run_id>/progress.json"}, "a new staff route needs a test"
    for path in STAFF_GETS:
        page = tool.get(path, launch_id)
        assert page.status_code == 403, path
        body = page.get_data(as_text=True)
        assert "teaching staff only" in body
        for leak in ("s2", "s3", "Support plan", "Anatomy", "Moodle Essay", "extra time"):
            assert leak not in text_of(body), (path, leak)
    for path in STAFF_POSTS:
        data = {"launch": launch_id, "csrf_token": csrf.token_for(launch_id, secret),
                "exam_id": "X1", "title": "Hijack", "delivery": "quiz", "start": "2026-12-01T09:00",
                "duration_minutes": "60"}
        page = tool.post(path, data, launch_id)
        assert page.status_code == 403, path
    with tool.sessions() as session:
        assert course_exam(session, f"{kind}:{course}", "X1") is None
        assert not [e for e in audit_entries(session, limit=500) if e.actor.startswith("lti:")]
    assert "lms_bridge.apply_runner" not in tool.app.extensions or not tool.app.extensions["lms_bridge.apply_runner"]._runs


# --- the student's own page ---------------------------------------------------------------------


def test_student_sees_their_own_times_and_adjustments_in_plain_words(tool: Tool) -> None:
    page = tool.get("/me/", tool.learner("s1"))
    assert page.status_code == 200
    text = text_of(page.get_data(as_text=True))
    assert "Anatomy Drop-box" in text and "Statistics Quiz" in text
    assert "Opens: Tuesday 1 December 2026, 09:30 GMT" in text
    assert ("You have 52 min extra time: 2 h 57 min to complete and upload your work instead of the "
            "standard 2 h 5 min.") in text
    assert "The drop-box closes at 12:27." in text
    assert "You have 38 min extra time: your time limit is 2 h 8 min instead of the standard 1 h 30 min." in text
    assert "Support-plan extra time on the working time" in text
    assert "Law New Quiz" not in text and "Moodle Essay" not in text


def test_student_a_page_holds_nothing_of_student_b(tool: Tool) -> None:
    a = tool.get("/me/", tool.learner("s1")).get_data(as_text=True)
    b = tool.get("/me/", tool.learner("s2")).get_data(as_text=True)
    # s2 (50%): E1 W 125 -> 188 min, due 12:38, 1 h 3 min extra; E2 90 -> 135, 45 min extra
    assert "1 h 3 min extra time" in text_of(b) and "12:38" in text_of(b)
    for of_b in ("s2", "12:38", "1 h 3 min", "45 min extra", "50"):
        assert of_b not in text_of(a), of_b
    for of_a in ("s1", "12:27", "52 min", "38 min", "25"):
        assert of_a not in text_of(b), of_a
    # nobody's plan numbers as such, and no other candidate at all
    for page in (a, b):
        assert "%" not in text_of(page)
        assert "s3" not in page and "Support plan" not in page and "candidate" not in page


def test_student_without_a_plan_and_moodle_student(tool: Tool) -> None:
    text = text_of(tool.get("/me/", tool.learner("s3")).get_data(as_text=True))
    assert "You have 2 h 5 min to complete and upload your work." in text
    assert "None: you have the standard time for this exam." in text
    text = text_of(tool.get("/me/", tool.learner("s4", "moodle", "7")).get_data(as_text=True))
    assert "Moodle Essay" in text and "Opens: Thursday 3 December 2026, 09:30 GMT" in text


def test_student_without_a_student_number_is_told_these_are_standard_times(tool: Tool) -> None:
    launch_id = tool.launch("canvas", role=LEARNER, user="anon", student_id=None)
    text = text_of(tool.get("/me/", launch_id).get_data(as_text=True))
    assert "these are the standard times" in text
    assert "You have 2 h 5 min to complete and upload your work." in text
    assert "extra time" not in text


# --- the exam form: validation, audit, CSRF -----------------------------------------------------


def _edit_form(tool: Tool, launch_id: str, exam_id: str = "E1") -> dict[str, str]:
    page = tool.get(f"/course/exams/{exam_id}/edit", launch_id)
    assert page.status_code == 200
    return hidden_fields(page.get_data(as_text=True))


GOOD_EDIT = {"title": "Anatomy (resit)", "delivery": "quiz", "start": "2026-12-01T10:00",
             "duration_minutes": "90", "reading_minutes": "10", "upload_minutes": ""}


def test_editing_an_exam_saves_it_audited_with_the_launch_user(tool: Tool) -> None:
    launch_id = tool.staff(user="teacher-7")
    fields = _edit_form(tool, launch_id)
    assert set(fields) == {"launch", "csrf_token"}
    page = tool.post("/course/exams/E1/edit", fields | GOOD_EDIT, launch_id)
    assert page.status_code == 303
    assert "/course/exams/E1/" in page.headers["Location"] and f"launch={launch_id}" in page.headers["Location"]
    with tool.sessions() as session:
        exam = course_exam(session, "canvas:101", "E1")
        assert (exam.title, exam.delivery.value, exam.duration_minutes, exam.reading_minutes) == \
            ("Anatomy (resit)", "quiz", 90, 10)
        (entry,) = audit_entries(session, entity="exam", entity_id="E1", actor="lti:canvas:teacher-7")
        assert entry.action == "exam.updated" and entry.before["title"] == "Anatomy Drop-box"
    shown = text_of(tool.client.get(page.headers["Location"], base_url=TOOL).get_data(as_text=True))
    assert "The exam was saved." in shown and "Tuesday 1 December 2026, 10:00 GMT" in shown


def test_creating_an_exam_in_the_launch_course(tool: Tool) -> None:
    launch_id = tool.staff()
    fields = hidden_fields(tool.get("/course/exams/new", launch_id).get_data(as_text=True))
    page = tool.post("/course/exams/new", fields | GOOD_EDIT | {"exam_id": "E9", "title": "Botany"}, launch_id)
    assert page.status_code == 303
    with tool.sessions() as session:
        assert course_exam(session, "canvas:101", "E9").title == "Botany"
    # an id already used by another course is refused, and that exam is untouched
    page = tool.post("/course/exams/new", fields | GOOD_EDIT | {"exam_id": "E3"}, launch_id)
    assert page.status_code == 400
    assert "This exam id is already in use" in text_of(page.get_data(as_text=True))
    with tool.sessions() as session:
        assert course_exam(session, "canvas:202", "E3").title == "Law New Quiz"


def test_invalid_fields_get_clear_linked_errors_and_nothing_is_saved(tool: Tool) -> None:
    launch_id = tool.staff()
    fields = _edit_form(tool, launch_id)
    bad = {"title": "", "delivery": "essay", "start": "2026-03-29T01:30", "duration_minutes": "240",
           "reading_minutes": "-5", "upload_minutes": "lots"}
    page = tool.post("/course/exams/E1/edit", fields | bad, launch_id)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    text = text_of(html)
    assert "There are 5 problems; nothing was saved" in text
    assert "A title is required." in text
    assert "2026-03-29 01:30 does not exist in Europe/London" in text  # the CSV reader's own words
    assert "under the qmu policy an exam longer than 1439 minutes" not in text  # 240 is allowed by qmu
    assert "below the minimum of 0" in text
    assert "'lots' is not a whole number of minutes" in text
    # each error is tied to its field
    assert re.search(r'id="field-title"[^>]*aria-describedby="hint-title error-title"[^>]*aria-invalid="true"', html)
    assert '<a href="#field-start">' in html
    with tool.sessions() as session:
        exam = course_exam(session, "canvas:101", "E1")
        assert exam.title == "Anatomy Drop-box" and exam.duration_minutes == 120
        assert not audit_entries(session, entity="exam", entity_id="E1", actor="lti:canvas:t1")


def test_policy_duration_rules_apply_to_the_form(tool: Tool) -> None:
    launch_id = tool.staff()
    fields = _edit_form(tool, launch_id)
    page = tool.post("/course/exams/E1/edit", fields | GOOD_EDIT | {"duration_minutes": "1500"}, launch_id)
    assert "1500 minutes is longer than 24 hours: coursework, not an exam." in text_of(page.get_data(as_text=True))


@pytest.mark.parametrize("case", ["missing", "wrong launch", "forged", "no launch"])
def test_a_form_without_a_valid_csrf_token_is_refused_with_a_clear_page_and_changes_nothing(tool: Tool, case: str) -> None:
    launch_id = tool.staff()
    other = tool.staff(user="t2")
    fields = _edit_form(tool, launch_id)
    if case == "missing":
        del fields["csrf_token"]
    elif case == "wrong launch":
        fields["csrf_token"] = _edit_form(tool, other)["csrf_token"]
    elif case == "forged":
        fields["csrf_token"] = csrf.token_for(launch_id, "not the server's key")
    else:
        del fields["launch"]
    page = tool.post("/course/exams/E1/edit", fields | GOOD_EDIT, None if case == "no launch" else launch_id)
    assert page.status_code in (400, 403)
    text = text_of(page.get_data(as_text=True))
    assert "security token" in text
    with tool.sessions() as session:
        assert course_exam(session, "canvas:101", "E1").title == "Anatomy Drop-box"
        assert not audit_entries(session, entity="exam", entity_id="E1", actor="lti:canvas:t1")
    # Apply is refused the same way, and no run starts
    page = tool.post("/course/apply", {"launch": launch_id}, launch_id)
    assert page.status_code == 400
    assert not getattr(tool.app.extensions.get("lms_bridge.apply_runner"), "_runs", None)


def test_plan_without_an_lms_connection_says_what_to_do(tool: Tool) -> None:
    text = text_of(tool.get("/course/plan", tool.staff()).get_data(as_text=True))
    assert "The course could not be planned" in text
    assert "LMS_BRIDGE_CANVAS_URL" in text
    assert "Apply" not in re.sub(r"Plan and apply", "", text)


def test_progress_of_an_unknown_run_is_404(tool: Tool) -> None:
    launch_id = tool.staff()
    assert tool.get("/course/apply/nope", launch_id).status_code == 404
    assert tool.get("/course/apply/nope/progress.json", launch_id).status_code == 404
