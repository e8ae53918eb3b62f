"""Who may use the exams office's pages: through real signed launches only. The listed officer
and a course Administrator get every page; a course Instructor who is not exams office and a
Learner get the 403 page with no data, for reads and for forms alike; no launch is a 401."""

from __future__ import annotations

import pytest

from lms_bridge.store.job_models import ClarificationRow
from lms_bridge.store.models import AuditRow, ExamRow
from lms_bridge.web import office
from lms_bridge.web.office import access

from .conftest import Office, seed_store, text_of

PAGES = ("/office/", "/office/upload", "/office/period", "/office/audit", "/office/incidents",
         "/office/clarifications")
FORMS = (("/office/upload", {}), ("/office/period/stagger", {"digest": "x"}),
         ("/office/incidents/preview", {"exam": "E1", "from": "2026-12-01T10:00", "to": "2026-12-01T10:30"}),
         ("/office/incidents", {"exam": "E1", "from": "2026-12-01T10:00", "to": "2026-12-01T10:30"}),
         ("/office/clarifications", {"exam": "E1", "subject": "Q4", "message": "Read litres as millilitres."}),
         ("/office/alerts/1/acknowledge", {}))


def test_the_listed_officer_and_a_course_administrator_get_every_page(tool: Office, files) -> None:
    seed_store(tool.app, files)
    for launch_id in (tool.officer(), tool.administrator(), tool.moodle_officer()):
        for path in PAGES:
            page = tool.get(path, launch_id)
            assert page.status_code == 200, (path, page.status_code)
            assert page.headers["Cache-Control"] == "no-store"
        home = tool.get("/office/", launch_id).get_data(as_text=True)
        assert "Anatomy" in home and 'aria-label="Exams office"' in home


@pytest.mark.parametrize("who", ["instructor", "learner"])
def test_an_instructor_who_is_not_office_and_a_learner_get_403_and_no_data(tool: Office, files, who: str) -> None:
    seed_store(tool.app, files)
    launch_id = tool.instructor() if who == "instructor" else tool.learner()
    for path in (*PAGES, "/office/incidents/1", "/office/incidents/1/affected.csv"):
        page = tool.get(path, launch_id)
        assert page.status_code == 403, (path, page.status_code)
        body = text_of(page.get_data(as_text=True))
        assert "for the exams office only" in body
        for leak in ("Anatomy", "Ethics", "s1", "37.5"):
            assert leak not in body, (path, leak)
    audit_before = tool.count(AuditRow)
    for path, data in FORMS:
        # even with a valid CSRF token of their own launch: refused for who they are
        from lms_bridge.web.csrf import token_for

        token = token_for(launch_id, tool.app.config["SECRET_KEY"])
        page = tool.post(path, {**data, "launch": launch_id, "csrf_token": token}, launch_id)
        assert page.status_code == 403, (path, page.status_code)
    assert tool.count(AuditRow) == audit_before
    assert tool.count(ClarificationRow) == 0


def test_without_a_launch_the_pages_ask_for_one(tool: Office) -> None:
    for path in PAGES:
        assert tool.get(path, None).status_code == 401
    assert tool.get("/office/", "not-a-launch-id").status_code == 401


def test_the_administrator_role_can_be_switched_off(tool: Office, files) -> None:
    seed_store(tool.app, files)
    admin, officer = tool.administrator(), tool.officer()
    tool.app.config["EXAMS_OFFICE_ADMINISTRATORS"] = False
    assert tool.get("/office/", admin).status_code == 403
    assert tool.get("/office/", officer).status_code == 200  # listed by identity: unaffected


def test_a_moodle_instructor_is_not_office_unless_listed(tool: Office, files) -> None:
    from tests.lti.platforms import INSTRUCTOR, launch

    other = launch(tool.client, tool.moodle, roles=INSTRUCTOR, user_id="teacher-m", course_id="7")
    assert tool.get("/office/", other).status_code == 403
    assert tool.get("/office/", tool.moodle_officer()).status_code == 200


def test_the_listing_may_come_as_text_and_from_the_environment(monkeypatch) -> None:
    assert access.members({"EXAMS_OFFICE": "https://a|1, https://b|2 ,"}) == {"https://a|1", "https://b|2"}
    monkeypatch.setenv("LMS_BRIDGE_EXAMS_OFFICE", "https://c|3")
    assert access.members({}) == {"https://c|3"}
    assert access.members({"EXAMS_OFFICE": []}) == frozenset()  # the config wins over the environment


def test_register_attaches_the_blueprint_once(tool: Office) -> None:
    office.register(tool.app)  # a second call (say the app factory and a test both call it)
    assert "office" in tool.app.blueprints
    assert tool.app.jinja_env.globals["may_use_office"] is office.may_use_office
    # the app has no stray course data on the office pages before an import
    page = tool.get("/office/", tool.officer())
    assert page.status_code == 200 and "Nothing has been imported yet" in text_of(page.get_data(as_text=True))
    assert tool.count(ExamRow) == 0
