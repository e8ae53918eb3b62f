"""The exams office's pages (blueprint ``office``, under /office/).

=============================================  =========================================================
GET  /office/                                  every exam's status (planned, applied, verified, drifted,
                                               failed) with its last LMS read, and the open alerts
POST /office/alerts/<id>/acknowledge           mark an alert seen (audited)
GET  /office/upload, POST /office/upload       timetable.csv + plans.csv (+ candidates.csv): validated
                                               whole, problems listed by file, row and column, nothing
                                               imported on any problem; else imported in one
                                               transaction (audited) and a reconcile queued
GET  /office/period                            candidates starting per slot (day × start time), as it
                                               stands and with the stagger proposal
POST /office/period/stagger                    record the proposal's shifts; the jobs move the releases
GET  /office/audit                             the audit log: entity, action, actor, exam, dates, words;
                                               paged
GET  /office/incidents                         the incident form and every incident recorded
POST /office/incidents/preview                 the policy's decision and the affected candidates
POST /office/incidents                         record it (an ``extend`` is queued for the LMS)
GET  /office/incidents/<id>                    its state in the LMS
GET  /office/incidents/<id>/affected.csv       the affected candidates, for special consideration
GET  /office/clarifications, POST ...          a message to every candidate of an exam, in every course
                                               it runs in (queued; audited with its text)
=============================================  =========================================================

Who may use them: see `lms_bridge.web.office.access`. In short, a launch whose course
(context) role is Administrator, or a person listed in the app config ``EXAMS_OFFICE`` as
``"<issuer>|<sub>"`` (env ``LMS_BRIDGE_EXAMS_OFFICE``, comma-separated); every other launch, a
course Instructor's or a Learner's, gets the 403 page before anything is read.

The pages are server-rendered and fit an LMS iframe: the launch id travels in every link and
form (``launch``), every form that changes anything carries the CSRF token
(`lms_bridge.web.csrf`), and nothing is cached. LMS work goes through the job system
(`lms_bridge.jobs.office`): incidents, staggered releases and clarifications are recorded
and queued in one transaction, and the workers (``lms-bridge worker`` or the embedded
runtime) carry them out; the pages show where each stands. Support-plan numbers reach only
these staff pages (the affected candidates' windows, the audit log's before/after), never a
log line or an error message.

App configuration read here (all optional):

    EXAMS_OFFICE                  who may use the pages (above)
    EXAMS_OFFICE_ADMINISTRATORS   False: the Administrator course role alone does not grant it
    OFFICE_MAX_UPLOAD_BYTES       largest upload accepted (default 20 MB)
    LMS_BRIDGE_CONNECTIONS        `lms_bridge.connections.Connections` for roster reads (as the
                                  course pages); else the workers' ($LMS_BRIDGE_CANVAS_URL ...,
                                  then the store's connections)
    LMS_BRIDGE_POLICY             the policy offered before any import (default "default")
"""

from __future__ import annotations

from flask import Flask

from .. import csrf
from . import access
from .common import bp

# The views register themselves on `bp` when imported.
from . import audit, clarifications, incidents, overview, period, upload  # noqa: E402,F401  isort:skip

__all__ = ["bp", "register", "may_use_office"]


def may_use_office() -> bool:
    """Template global: does this request's launch open the office pages (e.g. for a nav link)?"""
    from flask import current_app

    from ..session import optional_launch

    ctx = optional_launch()
    return ctx is not None and access.may_use(ctx, current_app.config)


def register(app: Flask) -> None:
    """Attach the office blueprint (once) and its template global ``may_use_office``."""
    if "office" in app.blueprints:
        return
    csrf.init_app(app)
    app.register_blueprint(bp)
    app.jinja_env.globals.setdefault("may_use_office", may_use_office)
