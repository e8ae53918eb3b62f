"""Canvas's JSON shapes for each record (lib/api/v1/*.rb, quiz and New Quizzes docs).

`base` is the server root (e.g. "http://127.0.0.1:5000"); call under `sim.lock`.
"""

from __future__ import annotations

from typing import Any

from . import dates
from .records import (
    ADHOC,
    DATE_FIELDS,
    Accommodation,
    Assignment,
    AssignmentGroup,
    Course,
    DiscussionTopic,
    Enrollment,
    File,
    Module,
    ModuleItem,
    Override,
    Page,
    Quiz,
    QuizSubmission,
    Section,
    User,
)
from .state import CanvasSimulator, DateDetails

Json = dict[str, Any]
_ROLES = {"StudentEnrollment": "student", "TeacherEnrollment": "teacher", "TaEnrollment": "ta",
          "ObserverEnrollment": "observer", "DesignerEnrollment": "designer"}


def course(c: Course) -> Json:
    return {
        "id": c.id, "name": c.name, "course_code": c.course_code, "sis_course_id": c.sis_course_id,
        "uuid": f"course-{c.id}", "time_zone": c.time_zone, "workflow_state": "available", "account_id": 1,
        "root_account_id": 1, "enrollment_term_id": 1, "start_at": None, "end_at": None,
        "default_view": "modules", "is_public": False, "blueprint": False, "created_at": dates.fmt(c.created_at),
    }


def section(s: Section) -> Json:
    return {"id": s.id, "name": s.name, "course_id": s.course_id, "sis_section_id": s.sis_section_id,
            "integration_id": None, "start_at": None, "end_at": None, "nonxlist_course_id": None}


def user(u: User) -> Json:
    sortable = ", ".join(reversed(u.name.rsplit(" ", 1))) if " " in u.name else u.name
    return {"id": u.id, "name": u.name, "sortable_name": sortable, "short_name": u.name,
            "sis_user_id": u.sis_user_id, "integration_id": None, "login_id": u.login_id}


def enrollment(sim: CanvasSimulator, e: Enrollment) -> Json:
    u = sim.users[e.user_id]
    return {
        "id": e.id, "course_id": e.course_id, "course_section_id": e.section_id, "user_id": e.user_id,
        "type": e.type, "role": e.type, "role_id": list(_ROLES).index(e.type) + 1, "enrollment_state": e.state,
        "sis_user_id": u.sis_user_id, "limit_privileges_to_course_section": False, "root_account_id": 1,
        "user": {k: v for k, v in user(u).items() if k in ("id", "name", "sortable_name", "short_name", "sis_user_id", "login_id")},
    }


def assignment_group(sim: CanvasSimulator, g: AssignmentGroup, include_assignments: bool, base: str) -> Json:
    out: Json = {"id": g.id, "name": g.name, "position": g.position, "group_weight": g.group_weight,
                 "sis_source_id": None, "integration_data": {}, "rules": {}}
    if include_assignments:
        out["assignments"] = [assignment(sim, a, base) for a in sim.course_assignments(g.course_id)
                              if a.assignment_group_id == g.id]
    return out


def override(sim: CanvasSimulator, o: Override, *, names: bool = False) -> Json:
    """Dates appear only when overridden; `all_day` travels with an overridden due_at."""
    out: Json = {"id": o.id, "assignment_id": o.assignment_id, "title": o.title}
    if o.quiz_id is not None:
        out["quiz_id"] = o.quiz_id
    if o.set_type == ADHOC:
        out["student_ids"] = list(o.student_ids)
        if names:
            out["students"] = [{"id": uid, "name": sim.users[uid].name} for uid in o.student_ids]
    else:
        out["course_section_id"] = o.section_id
    tz = sim.courses[o.course_id].time_zone
    if "due_at" in o.overridden:
        out["due_at"] = dates.fmt(o.due_at)
        out["all_day"], out["all_day_date"] = dates.all_day(o.due_at, tz)
    for name in ("unlock_at", "lock_at"):
        if name in o.overridden:
            out[name] = dates.fmt(getattr(o, name))
    return out


def assignment(
    sim: CanvasSimulator, a: Assignment, base: str, *, include: set[str] | frozenset[str] = frozenset(), override_dates: bool = True
) -> Json:
    tz = sim.courses[a.course_id].time_zone
    shown = sim.teacher_view_dates(a) if override_dates else {n: getattr(a, n) for n in DATE_FIELDS}
    overrides = sim.owner_overrides(sim.owner_of_assignment(a))
    all_day, all_day_date = dates.all_day(shown["due_at"], tz)
    out: Json = {
        "id": a.id, "name": a.name, "description": a.description, "course_id": a.course_id,
        "assignment_group_id": a.assignment_group_id, "position": a.position,
        "due_at": dates.fmt(shown["due_at"]), "unlock_at": dates.fmt(shown["unlock_at"]),
        "lock_at": dates.fmt(shown["lock_at"]), "all_day": all_day, "all_day_date": all_day_date,
        "points_possible": a.points_possible, "grading_type": a.grading_type,
        "submission_types": list(a.submission_types), "allowed_extensions": list(a.allowed_extensions),
        "allowed_attempts": a.allowed_attempts, "published": a.published, "unpublishable": True,
        "workflow_state": "published" if a.published else "unpublished",
        "only_visible_to_overrides": a.only_visible_to_overrides, "has_overrides": bool(overrides),
        "time_zone_edited": a.time_zone_edited, "created_at": dates.fmt(a.created_at),
        "updated_at": dates.fmt(a.updated_at), "html_url": f"{base}/courses/{a.course_id}/assignments/{a.id}",
        "is_quiz_assignment": a.quiz_id is not None, "is_quiz_lti_assignment": a.is_quiz_lti,
        "quiz_lti": a.is_quiz_lti, "moderated_grading": False, "anonymous_grading": False,
        "omit_from_final_grade": False, "peer_reviews": False, "locked_for_user": False,
    }
    if a.quiz_id is not None:
        out["quiz_id"] = a.quiz_id
    if "overrides" in include:
        out["overrides"] = [override(sim, o) for o in overrides]
    if "all_dates" in include:
        out.update(_all_dates(sim, a, overrides))
    return out


def _all_dates(sim: CanvasSimulator, a: Assignment, overrides: list[Override]) -> Json:
    """Truncated to [] with a count once there are ALL_DATES_LIMIT (25) or more dates."""
    tz = sim.courses[a.course_id].time_zone
    rows: list[Json] = []
    if not a.only_visible_to_overrides:
        rows.append({"base": True, "title": "Everyone", **_dated(a.due_at, a.unlock_at, a.lock_at, tz)})
    for o in overrides:
        due = o.due_at if "due_at" in o.overridden else a.due_at
        unlock = o.unlock_at if "unlock_at" in o.overridden else a.unlock_at
        lock = o.lock_at if "lock_at" in o.overridden else a.lock_at
        row = {"id": o.id, "title": o.title, "set_type": o.set_type, **_dated(due, unlock, lock, tz)}
        if o.section_id is not None:
            row["set_id"] = o.section_id
        rows.append(row)
    if len(rows) >= sim.config.all_dates_limit:
        return {"all_dates": [], "all_dates_count": len(rows)}
    return {"all_dates": rows}


def _dated(due: Any, unlock: Any, lock: Any, tz: str) -> Json:
    all_day, all_day_date = dates.all_day(due, tz)
    return {"due_at": dates.fmt(due), "unlock_at": dates.fmt(unlock), "lock_at": dates.fmt(lock),
            "all_day": all_day, "all_day_date": all_day_date}


def quiz(sim: CanvasSimulator, q: Quiz, base: str) -> Json:
    return {
        "id": q.id, "title": q.title, "html_url": f"{base}/courses/{q.course_id}/quizzes/{q.id}",
        "mobile_url": f"{base}/courses/{q.course_id}/quizzes/{q.id}?force_user=1&persist_headless=1",
        "description": q.description, "quiz_type": q.quiz_type, "assignment_group_id": q.assignment_group_id,
        "time_limit": q.time_limit, "shuffle_answers": q.shuffle_answers, "hide_results": q.hide_results,
        "show_correct_answers": q.show_correct_answers,
        "show_correct_answers_last_attempt": q.show_correct_answers_last_attempt,
        "show_correct_answers_at": dates.fmt(q.show_correct_answers_at),
        "hide_correct_answers_at": dates.fmt(q.hide_correct_answers_at),
        "allowed_attempts": q.allowed_attempts, "scoring_policy": q.scoring_policy,
        "one_question_at_a_time": q.one_question_at_a_time, "cant_go_back": q.cant_go_back,
        "access_code": q.access_code, "ip_filter": q.ip_filter, "due_at": dates.fmt(q.due_at),
        "lock_at": dates.fmt(q.lock_at), "unlock_at": dates.fmt(q.unlock_at), "published": q.published,
        "unpublishable": True, "locked_for_user": False, "one_time_results": q.one_time_results,
        "only_visible_to_overrides": q.only_visible_to_overrides, "assignment_id": q.assignment_id,
        "points_possible": q.points_possible, "question_count": 0,
        "quiz_extensions_url": f"/api/v1/courses/{q.course_id}/quizzes/{q.id}/extensions",
    }


def quiz_extension(row: QuizSubmission) -> Json:
    return {"quiz_id": row.quiz_id, "user_id": row.user_id, "extra_attempts": row.extra_attempts,
            "extra_time": row.extra_time, "manually_unlocked": row.manually_unlocked, "end_at": dates.fmt(row.end_at)}


def quiz_submission(row: QuizSubmission, base: str, course_id: int) -> Json:
    return {
        "id": row.id, "quiz_id": row.quiz_id, "user_id": row.user_id, "submission_id": None,
        "started_at": None, "finished_at": None, "end_at": dates.fmt(row.end_at), "attempt": row.attempt or None,
        "extra_attempts": row.extra_attempts, "extra_time": row.extra_time,
        "manually_unlocked": row.manually_unlocked, "time_spent": None, "score": None, "score_before_regrade": None,
        "kept_score": None, "fudge_points": None, "has_seen_results": None, "workflow_state": row.workflow_state,
        "overdue_and_needs_submission": False, "quiz_points_possible": 0.0,
        "html_url": f"{base}/courses/{course_id}/quizzes/{row.quiz_id}/submissions/{row.id}",
    }


def new_quiz(a: Assignment) -> Json:
    """The New Quizzes service answers with a string id (the assignment id)."""
    return {
        "id": str(a.id), "title": a.name, "instructions": a.nq_instructions,
        "assignment_group_id": a.assignment_group_id, "points_possible": a.points_possible,
        "due_at": dates.fmt(a.due_at), "lock_at": dates.fmt(a.lock_at), "unlock_at": dates.fmt(a.unlock_at),
        "published": a.published, "grading_type": a.grading_type, "quiz_settings": a.nq_settings,
    }


def accommodation(row: Accommodation) -> Json:
    return {"user_id": row.user_id, "extra_time": row.extra_time, "extra_attempts": row.extra_attempts,
            "reduce_choices_enabled": row.reduce_choices_enabled}


def date_details(sim: CanvasSimulator, d: DateDetails, overrides: list[Override]) -> Json:
    out: Json = {"id": d.id}
    if d.graded:
        out["due_at"] = dates.fmt(d.dates["due_at"])
    out.update(unlock_at=dates.fmt(d.dates["unlock_at"]), lock_at=dates.fmt(d.dates["lock_at"]),
               only_visible_to_overrides=d.only_visible_to_overrides, graded=d.graded,
               visible_to_everyone=not d.only_visible_to_overrides,
               overrides=[override(sim, o, names=True) for o in overrides])
    return out


def module(sim: CanvasSimulator, m: Module, base: str, include: set[str]) -> Json:
    items = sim.module_items_of(m.id)
    out: Json = {
        "id": m.id, "name": m.name, "position": m.position, "unlock_at": dates.fmt(m.unlock_at),
        "require_sequential_progress": m.require_sequential_progress,
        "prerequisite_module_ids": list(m.prerequisite_module_ids), "publish_final_grade": m.publish_final_grade,
        "published": m.published, "workflow_state": "active" if m.published else "unpublished",
        "items_count": len(items), "items_url": f"{base}/api/v1/courses/{m.course_id}/modules/{m.id}/items",
    }
    if "items" in include:
        out["items"] = [module_item(sim, i, base, include) for i in items]
    return out


def module_item(sim: CanvasSimulator, i: ModuleItem, base: str, include: set[str] | frozenset[str] = frozenset()) -> Json:
    cid = i.course_id
    out: Json = {
        "id": i.id, "module_id": i.module_id, "position": i.position, "title": i.title, "indent": i.indent,
        "type": i.type, "html_url": f"{base}/courses/{cid}/modules/items/{i.id}",
        "published": sim.item_published(i), "completion_requirement": i.completion_requirement,
    }
    if i.content_id is not None:
        out["content_id"] = i.content_id
    if i.type == "Page":
        # the item points at the page itself: a renamed page's new url shows through
        page = sim.pages.get(i.content_id) if i.content_id is not None else None
        url = page.url if page is not None else i.page_url
        out["page_url"] = url
        out["url"] = f"{base}/api/v1/courses/{cid}/pages/{url}"
    elif i.type == "Assignment":
        out["url"] = f"{base}/api/v1/courses/{cid}/assignments/{i.content_id}"
    elif i.type == "Quiz":
        out["url"] = f"{base}/api/v1/courses/{cid}/quizzes/{i.content_id}"
    elif i.type == "File":
        out["url"] = f"{base}/api/v1/courses/{cid}/files/{i.content_id}"
    elif i.type == "ExternalUrl":
        out["external_url"] = i.external_url
        out["new_tab"] = i.new_tab
    if "content_details" in include:
        out["content_details"] = _content_details(sim, i)
    return out


def _content_details(sim: CanvasSimulator, i: ModuleItem) -> Json:
    details: Json = {"locked_for_user": False}
    cid = i.content_id
    if i.type == "Assignment" and cid in sim.assignments:
        a = sim.assignments[cid]
        details.update(points_possible=a.points_possible, due_at=dates.fmt(a.due_at),
                       unlock_at=dates.fmt(a.unlock_at), lock_at=dates.fmt(a.lock_at))
    elif i.type == "Quiz" and cid in sim.quizzes:
        q = sim.quizzes[cid]
        details.update(points_possible=q.points_possible, due_at=dates.fmt(q.due_at),
                       unlock_at=dates.fmt(q.unlock_at), lock_at=dates.fmt(q.lock_at))
    elif i.type == "File" and cid in sim.files:
        f = sim.files[cid]
        details.update(unlock_at=dates.fmt(f.unlock_at), lock_at=dates.fmt(f.lock_at), hidden=f.hidden)
    return details


def page(p: Page, base: str, *, body: bool) -> Json:
    out: Json = {
        "page_id": p.id, "url": p.url, "title": p.title, "created_at": dates.fmt(p.created_at),
        "updated_at": dates.fmt(p.updated_at), "hide_from_students": not p.published,
        "editing_roles": p.editing_roles, "published": p.published, "front_page": p.front_page,
        "locked_for_user": False, "html_url": f"{base}/courses/{p.course_id}/pages/{p.url}",
        "todo_date": None, "publish_at": None,
    }
    if body:
        out["body"] = p.body
    return out


def file(f: File, base: str) -> Json:
    mime_class = f.content_type.split("/")[0] if "/" in f.content_type else "file"
    return {
        "id": f.id, "uuid": f.uuid, "folder_id": f.folder_id, "display_name": f.display_name,
        "filename": f.display_name.replace(" ", "+"), "content-type": f.content_type,
        "url": f"{base}/files/{f.id}/download?download_frd=1", "size": f.size,
        "created_at": dates.fmt(f.created_at), "updated_at": dates.fmt(f.updated_at),
        "modified_at": dates.fmt(f.updated_at), "unlock_at": dates.fmt(f.unlock_at), "lock_at": dates.fmt(f.lock_at),
        "locked": f.locked, "hidden": f.hidden, "hidden_for_user": False, "locked_for_user": False,
        "visibility_level": "inherit", "thumbnail_url": None, "mime_class": mime_class, "media_entry_id": None,
        "category": "uncategorized", "upload_status": "success",
    }


def topic(t: DiscussionTopic, base: str) -> Json:
    return {
        "id": t.id, "title": t.title, "message": t.message, "is_announcement": t.is_announcement,
        "published": t.published, "delayed_post_at": dates.fmt(t.delayed_post_at), "lock_at": dates.fmt(t.lock_at),
        "posted_at": dates.fmt(t.posted_at), "created_at": dates.fmt(t.created_at), "discussion_type": "side_comment",
        "html_url": f"{base}/courses/{t.course_id}/discussion_topics/{t.id}", "locked": False,
        "context_code": f"course_{t.course_id}",
    }
