"""The rows of the simulated Canvas database. Plain mutable dataclasses guarded by the one lock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

STUDENT = "StudentEnrollment"
TEACHER = "TeacherEnrollment"
ADHOC = "ADHOC"
SECTION = "CourseSection"
DATE_FIELDS = ("due_at", "unlock_at", "lock_at")


@dataclass
class Course:
    id: int
    name: str
    course_code: str
    sis_course_id: str | None
    time_zone: str
    created_at: datetime


@dataclass
class Section:
    id: int
    course_id: int
    name: str
    sis_section_id: str | None = None
    default: bool = False


@dataclass
class User:
    id: int
    name: str
    sis_user_id: str | None = None
    login_id: str | None = None


@dataclass
class Enrollment:
    id: int
    course_id: int
    user_id: int
    section_id: int
    type: str
    state: str = "active"  # active | invited | inactive | completed | deleted


@dataclass
class AssignmentGroup:
    id: int
    course_id: int
    name: str
    position: int
    group_weight: float = 0.0
    deleted: bool = False


@dataclass
class Assignment:
    id: int
    course_id: int
    name: str
    assignment_group_id: int
    position: int
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    submission_types: list[str] = field(default_factory=lambda: ["none"])
    allowed_extensions: list[str] = field(default_factory=list)
    points_possible: float | None = None
    grading_type: str = "points"
    allowed_attempts: int = -1
    due_at: datetime | None = None
    unlock_at: datetime | None = None
    lock_at: datetime | None = None
    time_zone_edited: str | None = None
    published: bool = False
    only_visible_to_overrides: bool = False
    quiz_id: int | None = None  # Classic quiz behind an online_quiz assignment
    is_quiz_lti: bool = False  # New Quiz: the assignment id is the quiz id
    nq_instructions: str | None = None
    nq_settings: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False


@dataclass
class Override:
    """An AssignmentOverride. Dates carry a flag: absent means "not overridden"."""

    id: int
    course_id: int
    assignment_id: int | None
    quiz_id: int | None
    set_type: str
    title: str | None = None
    student_ids: list[int] = field(default_factory=list)
    section_id: int | None = None
    due_at: datetime | None = None
    unlock_at: datetime | None = None
    lock_at: datetime | None = None
    overridden: set[str] = field(default_factory=set)
    deleted: bool = False

    @property
    def owner(self) -> tuple[int | None, int | None]:
        return (self.assignment_id, self.quiz_id)


@dataclass
class Quiz:
    id: int
    course_id: int
    title: str
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    quiz_type: str = "assignment"
    assignment_group_id: int | None = None
    time_limit: int | None = None
    shuffle_answers: bool = False
    hide_results: str | None = None
    show_correct_answers: bool = True
    show_correct_answers_last_attempt: bool = False
    show_correct_answers_at: datetime | None = None  # correct answers shown only from then
    hide_correct_answers_at: datetime | None = None
    allowed_attempts: int = 1
    scoring_policy: str = "keep_highest"
    one_question_at_a_time: bool = False
    cant_go_back: bool = False
    access_code: str | None = None
    ip_filter: str | None = None
    one_time_results: bool = False
    only_visible_to_overrides: bool = False
    due_at: datetime | None = None
    unlock_at: datetime | None = None
    lock_at: datetime | None = None
    published: bool = False
    points_possible: float | None = None
    assignment_id: int | None = None
    deleted: bool = False

    @property
    def graded(self) -> bool:
        return self.quiz_type in ("assignment", "graded_survey")


@dataclass
class QuizSubmission:
    """Where Classic quiz extensions live; `settings_only` until the student starts."""

    id: int
    quiz_id: int
    user_id: int
    extra_time: int = 0
    extra_attempts: int = 0
    manually_unlocked: bool = False
    workflow_state: str = "settings_only"
    attempt: int = 0
    end_at: datetime | None = None


@dataclass
class Accommodation:
    user_id: int
    extra_time: int = 0
    extra_attempts: int = 0
    reduce_choices_enabled: bool = False
    apply_to_in_progress_quiz_sessions: bool = False


@dataclass
class Module:
    id: int
    course_id: int
    name: str
    position: int
    unlock_at: datetime | None = None
    require_sequential_progress: bool = False
    prerequisite_module_ids: list[int] = field(default_factory=list)
    publish_final_grade: bool = False
    published: bool = False
    deleted: bool = False


@dataclass
class ModuleItem:
    id: int
    course_id: int
    module_id: int
    type: str
    title: str
    position: int
    content_id: int | None = None
    page_url: str | None = None
    external_url: str | None = None
    new_tab: bool = False
    indent: int = 0
    completion_requirement: dict[str, Any] | None = None
    published: bool = False  # own state for SubHeader/ExternalUrl; content's state otherwise
    deleted: bool = False


@dataclass
class Page:
    id: int
    course_id: int
    title: str
    url: str
    created_at: datetime
    updated_at: datetime
    body: str | None = None
    published: bool = False
    front_page: bool = False
    editing_roles: str = "teachers"
    old_urls: list[str] = field(default_factory=list)
    deleted: bool = False


@dataclass
class File:
    id: int
    course_id: int
    uuid: str
    folder_id: int
    folder_path: str
    display_name: str
    content_type: str
    created_at: datetime
    updated_at: datetime
    size: int = 0
    data: bytes | None = None
    state: str = "pending"  # pending -> uploaded (step 2) -> available (step 3 / 201)
    locked: bool = False
    hidden: bool = False
    unlock_at: datetime | None = None
    lock_at: datetime | None = None
    upload_token: str | None = None
    on_duplicate: str = "overwrite"
    deleted: bool = False


@dataclass
class DiscussionTopic:
    id: int
    course_id: int
    title: str
    created_at: datetime
    message: str | None = None
    is_announcement: bool = False
    published: bool = True
    delayed_post_at: datetime | None = None
    lock_at: datetime | None = None
    posted_at: datetime | None = None
    deleted: bool = False
