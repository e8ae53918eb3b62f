"""Alerts: a row for the dashboard, a log line, and a webhook POST.

The row is written in the caller's transaction; the log line and the webhook go out only
after that transaction commits (`AlertSink.flush`), so a rolled-back job alerts nobody.
Messages name exams, courses and counts, never plan numbers, and the webhook carries exactly
the row's fields.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..store.job_models import AlertRow
from ..store.types import require_aware

log = logging.getLogger("lms_bridge.jobs.alerts")
WEBHOOK_TIMEOUT = 5.0

DRIFT = "drift"
FAILED = "failed"
INCIDENT = "incident"


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    at: datetime
    kind: str
    exam_id: str | None
    course: str | None
    work_item_id: int | None
    message: str
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None

    def payload(self) -> dict[str, object]:
        return {
            "id": self.id, "at": self.at.isoformat(), "kind": self.kind, "exam_id": self.exam_id,
            "course": self.course, "work_item_id": self.work_item_id, "message": self.message,
        }


def _record(row: AlertRow) -> Alert:
    return Alert(row.id, row.at, row.kind, row.exam_id, row.course, row.work_item_id, row.message,
                 row.acknowledged_at, row.acknowledged_by)


class AlertSink:
    """Raises alerts in a transaction and delivers them after it commits. Thread-safe."""

    def __init__(self, webhook_url: str | None = None, transport: httpx.BaseTransport | None = None) -> None:
        self.webhook_url = webhook_url
        self._transport = transport
        self._lock = threading.Lock()
        self._pending: dict[int, list[Alert]] = {}  # by session id

    def raise_(
        self,
        session: Session,
        *,
        kind: str,
        message: str,
        at: datetime,
        exam_id: str | None = None,
        course: str | None = None,
        work_item_id: int | None = None,
    ) -> Alert:
        require_aware(at, "at")
        row = AlertRow(at=at, kind=kind, exam_id=exam_id, course=course, work_item_id=work_item_id, message=message)
        session.add(row)
        session.flush()
        alert = _record(row)
        with self._lock:
            self._pending.setdefault(id(session), []).append(alert)
        return alert

    def discard(self, session: Session) -> None:
        """The transaction rolled back: forget its alerts."""
        with self._lock:
            self._pending.pop(id(session), None)

    def flush(self, session: Session) -> list[Alert]:
        """The transaction committed: log and post its alerts."""
        with self._lock:
            alerts = self._pending.pop(id(session), [])
        for alert in alerts:
            log.warning("ALERT %s: %s", alert.kind, alert.message)
            self._post(alert)
        return alerts

    def _post(self, alert: Alert) -> None:
        if not self.webhook_url:
            return
        try:
            with httpx.Client(timeout=WEBHOOK_TIMEOUT, transport=self._transport) as client:
                response = client.post(self.webhook_url, json=alert.payload())
            if response.status_code >= 300:
                log.warning("alert webhook answered %d for alert %d", response.status_code, alert.id)
        except httpx.HTTPError as exc:
            log.warning("alert webhook unreachable for alert %d (%s)", alert.id, type(exc).__name__)


def list_alerts(session: Session, *, open_only: bool = False, exam_id: str | None = None,
                limit: int = 100) -> list[Alert]:
    """Alerts, newest first: for the dashboard."""
    query = select(AlertRow).order_by(AlertRow.at.desc(), AlertRow.id.desc()).limit(limit)
    if open_only:
        query = query.where(AlertRow.acknowledged_at.is_(None))
    if exam_id is not None:
        query = query.where(AlertRow.exam_id == exam_id)
    return [_record(r) for r in session.scalars(query)]


def acknowledge_alert(session: Session, alert_id: int, *, actor: str, now: datetime) -> bool:
    """Mark an alert seen; False if there is no such open alert. Does not commit."""
    require_aware(now, "now")
    result = session.execute(
        update(AlertRow).where(AlertRow.id == alert_id, AlertRow.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by=actor)
    )
    return result.rowcount == 1
