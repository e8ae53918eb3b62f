"""The job system: a leader lease, a work queue, and what the work does.

    schedule   pure: which work is due, given the exams, the time and the settings
    kinds      the kinds of work and their arguments (ids only)
    lease      the scheduler's leader lease (database clock, fencing epoch)
    queue      enqueue once, claim with SKIP LOCKED and a visibility deadline, complete once
    handlers   reconcile a course, apply / verify an exam, apply an incident or a staggered
               release, send a clarification
    worker     a node: worker loop and lease candidate (`lms-bridge worker`)
    runtime    one node embedded: APScheduler 3 on the app's SQLite database
    status     every exam's status and last LMS read
    alerts     log, webhook and a table for the dashboard
    office     the exams office's services (status, audit filters, incidents, clarifications)
"""
