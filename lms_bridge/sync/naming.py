"""Names of what lms_bridge creates. Each carries the exam's title, so staff recognise it, and
its id in brackets, so a re-read finds it again (the LMS has no idempotency keys)."""

from __future__ import annotations

import hashlib


def tag(exam_id: str) -> str:
    return f"[{exam_id}]"


def assessment_name(title: str, exam_id: str) -> str:
    return f"{title} {tag(exam_id)}"


def practice_name(title: str, exam_id: str) -> str:
    return f"Practice: {title} {tag(exam_id)}"


def module_name(title: str, exam_id: str) -> str:
    return f"Exam: {title} {tag(exam_id)}"


def page_title(title: str, exam_id: str) -> str:
    return f"Exam information: {title} {tag(exam_id)}"


def paper_name(title: str, exam_id: str, suffix: str, content: bytes = b"") -> str:
    """The paper's file name, with a short digest of its content: a corrected paper has a new
    name, so a re-read sees the change (LMSs expose no content hash of their own)."""
    safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in title).strip()
    digest = f" {hashlib.sha256(content).hexdigest()[:8]}" if content else ""
    return f"{safe} [{exam_id}] paper{digest}{suffix}"


def is_practice(name: str) -> bool:
    return name.startswith("Practice: ")


def retired_name(name: str) -> str:
    """An assessment replaced by one of another delivery: kept (it may hold submissions),
    unpublished, and named so that no read takes it for the exam again."""
    return f"Replaced: {name}"


def is_retired(name: str) -> bool:
    return name.startswith("Replaced: ")
