"""Classic Quizzes (with their assignments and extensions) and New Quizzes (with accommodations)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .assignments import AssignmentOps
from .errors import CanvasError, bad_request, invalid, not_found, rejected
from .params import as_list, to_bool, to_float, to_int
from .records import DATE_FIELDS, Accommodation, Assignment, Quiz, QuizSubmission

MAX_EXTRA_TIME = 10080  # minutes: one week
MAX_EXTRA_ATTEMPTS = 1000
QUIZ_TYPES = ("practice_quiz", "assignment", "graded_survey", "survey")

_QUIZ_BOOLS = ("shuffle_answers", "show_correct_answers", "show_correct_answers_last_attempt",
               "one_question_at_a_time", "cant_go_back", "one_time_results", "only_visible_to_overrides")
_QUIZ_STRINGS = ("description", "hide_results", "access_code", "ip_filter", "scoring_policy")

NQ_DEFAULT_SETTINGS: dict[str, Any] = {
    "calculator_type": "none",
    "filter_ip_address": False,
    "filters": {},
    "one_at_a_time_type": "none",
    "allow_backtracking": True,
    "shuffle_answers": False,
    "shuffle_questions": False,
    "require_student_access_code": False,
    "student_access_code": None,
    "has_time_limit": False,
    "session_time_limit_in_seconds": None,
    "multiple_attempts": {
        "multiple_attempts_enabled": False, "attempt_limit": True, "max_attempts": 1,
        "score_to_keep": "highest", "cooling_period": False, "cooling_period_seconds": None,
    },
    "result_view_settings": {"result_view_restricted": False},
}
_NQ_BOOLS = {"filter_ip_address", "allow_backtracking", "shuffle_answers", "shuffle_questions",
             "require_student_access_code", "has_time_limit", "multiple_attempts_enabled", "attempt_limit",
             "cooling_period", "result_view_restricted"}
_NQ_INTS = {"session_time_limit_in_seconds", "max_attempts", "cooling_period_seconds"}


class QuizOps(AssignmentOps):
    # -- Classic Quizzes -------------------------------------------------------------------------

    def course_quizzes(self, course_id: int) -> list[Quiz]:
        with self.lock:
            return sorted((q for q in self.quizzes.values() if q.course_id == course_id and not q.deleted),
                          key=lambda q: q.id)

    def get_quiz(self, course_id: int, quiz_id: Any) -> Quiz:
        with self.lock:
            qid = _id(quiz_id)
            quiz = self.quizzes.get(qid) if qid is not None else None
            if quiz is None or quiz.deleted or quiz.course_id != course_id:
                raise not_found()
            return quiz

    def create_quiz(self, course_id: int, fields: Mapping[str, Any]) -> Quiz:
        with self.lock:
            course = self.course(course_id)
            if not fields.get("title"):
                raise invalid("title", "can't be blank", "blank")
            now = self.now()
            quiz = Quiz(self._next_id("quiz"), course.id, "", now, now)
            self._set_quiz_fields(quiz, fields)
            self.quizzes[quiz.id] = quiz
            self._sync_quiz_assignment(quiz)
            return quiz

    def update_quiz(self, course_id: int, quiz_id: Any, fields: Mapping[str, Any]) -> Quiz:
        with self.lock:
            quiz = self.get_quiz(course_id, quiz_id)
            staged = copy.copy(quiz)
            self._set_quiz_fields(staged, fields)
            quiz.__dict__.update(staged.__dict__)
            quiz.updated_at = self.now()
            self._sync_quiz_assignment(quiz)
            return quiz

    def delete_quiz(self, course_id: int, quiz_id: Any) -> Quiz:
        with self.lock:
            quiz = self.get_quiz(course_id, quiz_id)
            quiz.deleted = True
            if quiz.assignment_id is not None:
                self._delete_assignment(self.assignments[quiz.assignment_id])
            for override in self.owner_overrides(self.owner_of_quiz(quiz)):
                override.deleted = True
            self._remove_module_items("Quiz", quiz.id)
            return quiz

    def _set_quiz_fields(self, quiz: Quiz, fields: Mapping[str, Any]) -> None:
        course = self.courses[quiz.course_id]
        if "title" in fields:
            if not fields["title"]:
                raise invalid("title", "can't be blank", "blank")
            quiz.title = str(fields["title"])
        if "quiz_type" in fields:
            if fields["quiz_type"] not in QUIZ_TYPES:
                raise invalid("quiz_type", "is not included in the list", "inclusion")
            quiz.quiz_type = str(fields["quiz_type"])
        for name in _QUIZ_BOOLS:
            if name in fields:
                setattr(quiz, name, to_bool(fields[name]))
        for name in _QUIZ_STRINGS:
            if name in fields:
                setattr(quiz, name, None if fields[name] in (None, "") else str(fields[name]))
        try:
            if "time_limit" in fields:
                quiz.time_limit = to_int(fields["time_limit"])
            if "allowed_attempts" in fields:
                quiz.allowed_attempts = to_int(fields["allowed_attempts"]) or 1
            if "assignment_group_id" in fields:
                quiz.assignment_group_id = to_int(fields["assignment_group_id"])
            if "points_possible" in fields:
                quiz.points_possible = to_float(fields["points_possible"])
        except ValueError as error:
            raise invalid("quiz", str(error)) from error
        for name in DATE_FIELDS:
            if name in fields:
                try:
                    setattr(quiz, name, self.date_input(course, fields[name], fancy=name != "unlock_at"))
                except ValueError as error:
                    raise invalid(name, f"Invalid datetime for {name}", "invalid_datetime") from error
        for name in ("show_correct_answers_at", "hide_correct_answers_at"):
            if name in fields:
                try:  # not due or lock times: Canvas applies no fancy midnight to them
                    setattr(quiz, name, self.date_input(course, fields[name], fancy=False))
                except ValueError as error:
                    raise invalid(name, f"Invalid datetime for {name}", "invalid_datetime") from error
        if "published" in fields:
            quiz.published = to_bool(fields["published"])

    def _sync_quiz_assignment(self, quiz: Quiz) -> None:
        """Graded quiz types own an online_quiz assignment that mirrors their dates and state."""
        if not quiz.graded:
            if quiz.assignment_id is not None:
                self.assignments[quiz.assignment_id].deleted = True
                quiz.assignment_id = None
            return
        assignment = self.assignments.get(quiz.assignment_id) if quiz.assignment_id is not None else None
        if assignment is None or assignment.deleted:
            group = self.assignment_groups.get(quiz.assignment_group_id or 0)
            if group is None or group.deleted or group.course_id != quiz.course_id:
                group = self.default_assignment_group(quiz.course_id)
            now = self.now()
            assignment = Assignment(
                id=self._next_id("assignment"), course_id=quiz.course_id, name=quiz.title,
                assignment_group_id=group.id, position=len(self.course_assignments(quiz.course_id)) + 1,
                created_at=now, updated_at=now, submission_types=["online_quiz"], quiz_id=quiz.id)
            self.assignments[assignment.id] = assignment
            quiz.assignment_id = assignment.id
            quiz.assignment_group_id = group.id
        assignment.name = quiz.title
        assignment.due_at, assignment.unlock_at, assignment.lock_at = quiz.due_at, quiz.unlock_at, quiz.lock_at
        assignment.published = quiz.published
        assignment.only_visible_to_overrides = quiz.only_visible_to_overrides
        assignment.points_possible = quiz.points_possible
        assignment.description = quiz.description
        assignment.updated_at = self.now()

    # -- extensions ------------------------------------------------------------------------------

    def set_quiz_extensions(self, course_id: int, quiz_id: Any, entries: Any) -> list[QuizSubmission]:
        with self.lock:
            quiz = self.get_quiz(course_id, quiz_id)
            return self._extend([quiz], course_id, entries)

    def set_course_quiz_extensions(self, course_id: int, entries: Any) -> list[QuizSubmission]:
        """POST /courses/:id/quiz_extensions: the same entries on every quiz in the course."""
        with self.lock:
            course = self.course(course_id)
            return self._extend(self.course_quizzes(course.id), course.id, entries)

    def _extend(self, quizzes: list[Quiz], course_id: int, entries: Any) -> list[QuizSubmission]:
        items = [e for e in as_list(entries) if isinstance(e, Mapping)]
        if not items:
            raise rejected("missing required key :quiz_extensions")
        students = self.active_student_ids(course_id)
        # Every entry is checked before anything is written: one non-student fails them all.
        for item in items:
            uid = _id(item.get("user_id"))
            if uid is None or uid not in students:
                raise not_found()
        out: list[QuizSubmission] = []
        for quiz in quizzes:
            for item in items:
                uid = _id(item.get("user_id"))
                assert uid is not None
                row = self.quiz_submissions.get((quiz.id, uid))
                if row is None:
                    row = QuizSubmission(self._next_id("quiz_submission"), quiz.id, uid)
                    self.quiz_submissions[(quiz.id, uid)] = row
                try:
                    if item.get("extra_time") not in (None, ""):
                        row.extra_time = min(abs(to_int(item["extra_time"]) or 0), MAX_EXTRA_TIME)
                    if item.get("extra_attempts") not in (None, ""):
                        row.extra_attempts = min(abs(to_int(item["extra_attempts"]) or 0), MAX_EXTRA_ATTEMPTS)
                except ValueError as error:
                    raise rejected(str(error)) from error
                if "manually_unlocked" in item:
                    row.manually_unlocked = to_bool(item["manually_unlocked"])
                out.append(row)
        return out

    def quiz_submission_rows(self, course_id: int, quiz_id: Any) -> list[QuizSubmission]:
        with self.lock:
            quiz = self.get_quiz(course_id, quiz_id)
            return sorted((r for (qid, _), r in self.quiz_submissions.items() if qid == quiz.id), key=lambda r: r.id)

    # -- New Quizzes -----------------------------------------------------------------------------

    def new_quizzes(self, course_id: int) -> list[Assignment]:
        with self.lock:
            self.course(course_id)
            return [a for a in self.course_assignments(course_id) if a.is_quiz_lti]

    def get_new_quiz(self, course_id: int, assignment_id: Any) -> Assignment:
        with self.lock:
            assignment = self._assignment(course_id, assignment_id)
            if not assignment.is_quiz_lti:
                raise not_found()
            return assignment

    def create_new_quiz(self, course_id: int, fields: Mapping[str, Any]) -> Assignment:
        with self.lock:
            if not fields.get("title"):
                raise bad_request({"errors": {"title": ["can't be blank"]}})
            settings = _nq_settings(copy.deepcopy(NQ_DEFAULT_SETTINGS), fields.get("quiz_settings"))
            assignment = self.create_assignment(course_id, _nq_assignment_fields(fields, creating=True))
            assignment.is_quiz_lti = True
            assignment.submission_types = ["external_tool"]
            assignment.nq_instructions = fields.get("instructions")
            assignment.nq_settings = settings
            return assignment

    def update_new_quiz(self, course_id: int, assignment_id: Any, fields: Mapping[str, Any]) -> Assignment:
        with self.lock:
            assignment = self.get_new_quiz(course_id, assignment_id)
            settings = _nq_settings(copy.deepcopy(assignment.nq_settings), fields.get("quiz_settings"))
            self.update_assignment(course_id, assignment.id, _nq_assignment_fields(fields, creating=False))
            if "instructions" in fields:
                assignment.nq_instructions = fields["instructions"]
            assignment.nq_settings = settings
            return assignment

    def delete_new_quiz(self, course_id: int, assignment_id: Any) -> Assignment:
        with self.lock:
            assignment = self.get_new_quiz(course_id, assignment_id)
            self._delete_assignment(assignment)
            return assignment

    def set_accommodations(self, course_id: int, assignment_id: Any | None, body: Any) -> dict[str, Any]:
        """Per quiz (assignment_id) or per course (None). 200 with per-entry failures."""
        with self.lock:
            course = self.course(course_id)
            if assignment_id is not None:
                store = self.accommodations.setdefault(self.get_new_quiz(course.id, assignment_id).id, {})
            else:
                store = self.course_accommodations.setdefault(course.id, {})
            if not isinstance(body, list):
                raise bad_request({"errors": [{"message": "the request body must be a JSON array"}]})
            students = self.active_student_ids(course.id)
            successful: list[dict[str, Any]] = []
            failed: list[dict[str, Any]] = []
            for entry in body:
                uid = entry.get("user_id") if isinstance(entry, Mapping) else None
                error = _accommodation_error(entry, students)
                if error:
                    failed.append({"user_id": uid, "error": error})
                    continue
                assert isinstance(entry, Mapping) and isinstance(uid, int)
                row = store.get(uid) or Accommodation(uid)
                if "extra_time" in entry:
                    row.extra_time = int(entry["extra_time"])  # replaced, not added
                if assignment_id is not None and "extra_attempts" in entry:
                    row.extra_attempts = int(entry["extra_attempts"])
                if "reduce_choices_enabled" in entry:
                    row.reduce_choices_enabled = to_bool(entry["reduce_choices_enabled"])
                if assignment_id is None and "apply_to_in_progress_quiz_sessions" in entry:
                    row.apply_to_in_progress_quiz_sessions = to_bool(entry["apply_to_in_progress_quiz_sessions"])
                store[uid] = row
                successful.append({"user_id": uid})
            return {"message": "Accommodations processed", "successful": successful, "failed": failed}

    def quiz_accommodations(self, course_id: int, assignment_id: Any, user_id: Any = None) -> list[Accommodation]:
        """The canvas-lms GET proxy: 422 when the assignment is not a New Quiz."""
        with self.lock:
            assignment = self._assignment(course_id, assignment_id)
            if not assignment.is_quiz_lti:
                raise CanvasError(422, {"errors": [{"message": "Assignment is not a New Quiz"}]})
            rows = sorted(self.accommodations.get(assignment.id, {}).values(), key=lambda r: r.user_id)
            uid = _id(user_id)
            return [r for r in rows if uid is None or r.user_id == uid]


def _accommodation_error(entry: Any, students: set[int]) -> str | None:
    if not isinstance(entry, Mapping):
        return "each accommodation must be an object"
    uid = entry.get("user_id")
    if not isinstance(uid, int) or isinstance(uid, bool):
        return "user_id must be an integer"
    if uid not in students:
        return "User is not a student in this course"
    extra_time = entry.get("extra_time", 0)
    if not isinstance(extra_time, int) or isinstance(extra_time, bool) or not 0 <= extra_time <= MAX_EXTRA_TIME:
        return f"extra_time must be an integer between 0 and {MAX_EXTRA_TIME}"
    attempts = entry.get("extra_attempts", 0)
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 0:
        return "extra_attempts must be a non-negative integer"
    return None


def _nq_assignment_fields(fields: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    out = {k: fields[k] for k in ("assignment_group_id", "points_possible", "grading_type", *DATE_FIELDS) if k in fields}
    if "title" in fields:
        out["name"] = fields["title"]
    if creating:
        out.setdefault("name", fields.get("title"))
    return out


def _nq_settings(current: dict[str, Any], update: Any) -> dict[str, Any]:
    """Deep-merge quiz_settings, coercing form strings to the service's types."""
    if not isinstance(update, Mapping):
        return current
    for key, value in update.items():
        if isinstance(value, Mapping) and key != "filters":
            current[key] = _nq_settings(dict(current.get(key) or {}), value)
        elif key in _NQ_BOOLS:
            current[key] = to_bool(value)
        elif key in _NQ_INTS:
            try:
                current[key] = to_int(value)
            except ValueError as error:
                raise bad_request({"errors": {key: ["is not a number"]}}) from error
        else:
            current[key] = value
    # The write API wants score_to_keep, in its short form, whenever attempts are enabled.
    sent = update.get("multiple_attempts")
    if (isinstance(sent, Mapping) and to_bool(sent.get("multiple_attempts_enabled"))
            and sent.get("score_to_keep") not in ("highest", "latest", "average", "first")):
        raise bad_request({"errors": {"score_to_keep": ["is not included in the list"]}})
    return current


def _id(value: Any) -> int | None:
    try:
        return to_int(value)
    except ValueError:
        return None

