"""Errors raised by the Moodle web-service client and adapter.

Moodle answers HTTP 200 to almost everything; an error is a JSON body
``{"exception": "<php class>", "errorcode": "<code>", "message": "<text>"[, "debuginfo": "..."]}``
(moodle-ws.md §2). The client turns each into one class of this hierarchy. Every error names the
web-service function and, when Moodle said so, the error code, message and debug info. None
ever carries the request's parameters or the token: parameters hold per-student times derived
from support plans, which must not reach logs or error reports.

    MoodleError
    ├── MoodleInvalidToken          invalidtoken: the token is wrong, expired or missing
    ├── MoodleAccessException       accessexception: the function is not in the token's service
    │                               (or the service is restricted by user, IP or time)
    ├── MoodleMissingFunction       detected before calling: the site does not offer a function
    │                               the chosen path needs (names it and where to add it)
    ├── MoodleUnknownFunction       invalidrecord on external_functions: no such function here
    ├── MoodlePermissionError       nopermissions (required_capability_exception) and
    │                               requireloginerror (require_login_exception)
    ├── MoodleInvalidParameter      invalidparameter, with ``debuginfo`` when debugging is on
    ├── MoodleNotFound              invalidrecord (dml_missing_record_exception): unknown id
    ├── MoodleConfigurationError    the site is set up so that lms_bridge cannot work (e.g.
    │                               users' ID numbers hidden by ``showuseridentity``)
    ├── MoodleProtocolError         an answer that is not Moodle's JSON (XML, HTML, a proxy page)
    ├── MoodleServerError           HTTP 5xx, after the retries allowed for a safe request
    ├── MoodleTransportError        timeout or connection failure, after the retries allowed
    ├── MoodleUncertainWrite        a write that is not idempotent by construction failed in a
    │                               way that leaves its effect unknown: read back before retrying
    └── MoodleSyncError             the adapter could not carry out part of an operation (e.g.
                                    some students' overrides were refused); names users by
                                    Moodle id only
"""

from __future__ import annotations

__all__ = [
    "MoodleAccessException",
    "MoodleConfigurationError",
    "MoodleError",
    "MoodleInvalidParameter",
    "MoodleInvalidToken",
    "MoodleMissingFunction",
    "MoodleNotFound",
    "MoodlePermissionError",
    "MoodleProtocolError",
    "MoodleServerError",
    "MoodleSyncError",
    "MoodleTransportError",
    "MoodleUncertainWrite",
    "MoodleUnknownFunction",
]

SERVICE_HINT = (
    "Site administration > Server > Web services > External services > (the token's service) > Functions"
)


class MoodleError(Exception):
    """A Moodle web-service call failed.

    ``function`` is the web-service function; ``exception``, ``errorcode``, ``message`` and
    ``debuginfo`` are Moodle's own fields when it answered with an error body; ``status`` is the
    HTTP status when the failure was at the HTTP level (None when no response arrived).
    """

    def __init__(
        self,
        function: str,
        message: str = "",
        *,
        errorcode: str | None = None,
        exception: str | None = None,
        debuginfo: str | None = None,
        status: int | None = None,
    ) -> None:
        self.function = function
        self.message = message
        self.errorcode = errorcode
        self.exception = exception
        self.debuginfo = debuginfo
        self.status = status
        super().__init__(self._describe())

    def _describe(self) -> str:
        head = f"Moodle {self.function}"
        if self.status is not None and self.errorcode is None:
            head += f" (HTTP {self.status})"
        parts = [self.message] if self.message else []
        if self.errorcode and self.errorcode not in (self.message or ""):
            parts.append(f"[{self.errorcode}]")
        if self.debuginfo:
            parts.append(f"({' '.join(self.debuginfo.split())[:300]})")
        return f"{head}: {' '.join(parts)}" if parts else head


class MoodleInvalidToken(MoodleError):
    """``invalidtoken``: the token is not known (wrong, expired, deleted) or was not sent."""


class MoodleAccessException(MoodleError):
    """``accessexception`` (webservice_access_exception): the function is not in the token's
    external service, or the service is restricted to other users, IPs or times."""

    def _describe(self) -> str:
        return (
            f"Moodle refused access to {self.function} (accessexception): add the function to the "
            f"external service the token belongs to ({SERVICE_HINT}), and check the service's "
            "authorised users and IP restriction"
        )


class MoodleMissingFunction(MoodleError):
    """The site's ``core_webservice_get_site_info`` does not list a function the chosen path
    needs. Raised before calling it; ``purpose`` says what it is for."""

    def __init__(self, function: str, purpose: str) -> None:
        self.purpose = purpose
        super().__init__(function)

    def _describe(self) -> str:
        return (
            f"Moodle web-service function {self.function} is not available to this token, and "
            f"lms_bridge needs it to {self.purpose}: add it to the external service the token "
            f"belongs to ({SERVICE_HINT})"
        )


class MoodleUnknownFunction(MoodleError):
    """Moodle has no function of that name (``invalidrecord`` on ``external_functions``): a
    plugin that is not installed, or a Moodle release without it."""


class MoodlePermissionError(MoodleError):
    """``nopermissions`` (required_capability_exception) or ``requireloginerror``: the token's
    user lacks a capability, or has no access to the course. ``debuginfo`` names the capability
    when debugging is on."""


class MoodleInvalidParameter(MoodleError):
    """``invalidparameter``: Moodle rejected a parameter. The reason (e.g. "Multiple overrides
    cannot be made for the same user/group.", "You must override at least one of the quiz
    settings.") is in ``debuginfo``, which Moodle sends only with debugging on."""


class MoodleNotFound(MoodleError):
    """``invalidrecord`` (dml_missing_record_exception): an unknown course, activity or id."""


class MoodleConfigurationError(MoodleError):
    """The site is configured so that lms_bridge cannot do its job; the message says which
    setting to change."""

    def _describe(self) -> str:
        return f"Moodle {self.function}: {self.message}"


class MoodleProtocolError(MoodleError):
    """An answer that is not Moodle's JSON: XML (``moodlewsrestformat`` lost on the way), an
    HTML error page, a proxy's answer, or an unexpected HTTP status."""


class MoodleServerError(MoodleError):
    """HTTP 5xx that persisted through the retries allowed for a safe request."""


class MoodleTransportError(MoodleError):
    """No HTTP response (timeout, refused or dropped connection), after the retries allowed."""


class MoodleUncertainWrite(MoodleError):
    """A write that is not idempotent by construction (a create without an id, a section_add, a
    delete) hit a 5xx, a timeout or a dropped connection after it was sent: Moodle may or may
    not have done it. Read back, reconcile, and only then try again."""


class MoodleSyncError(MoodleError):
    """Part of an operation could not be carried out (Moodle refused some students' overrides or
    extensions). The message names Moodle user ids and Moodle's reasons, never plan data."""

    def _describe(self) -> str:
        return f"Moodle {self.function}: {self.message}"
