"""Why a login, launch or registration was refused, in words an LMS admin can act on.

Every refusal is a `LtiError` with an HTTP status (always 4xx), a short stable `code` (tests and
logs match on it) and a message for the person in front of the browser. Messages never contain
tokens, keys or launch data.
"""

from __future__ import annotations


class LtiError(Exception):
    """A refused LTI request."""

    status = 400
    code = "invalid_request"
    title = "The LMS request could not be accepted"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class LoginRejected(LtiError):
    """The OIDC login initiation (step 1) was refused."""

    title = "The tool could not start the sign-in from your LMS"


class LaunchRejected(LtiError):
    """The id_token POST (step 3) was refused."""

    status = 401
    code = "invalid_launch"
    title = "The launch from your LMS was refused"


class RegistrationFailed(LtiError):
    """Dynamic registration could not complete."""

    code = "registration_failed"
    title = "The tool could not register with your LMS"


class CookieBlocked(LaunchRejected):
    """The browser did not return the state cookie and no other binding was offered."""

    status = 401
    code = "state_cookie_missing"
    title = "Your browser blocked the tool's sign-in cookie"


class PlatformStorageNeeded(Exception):
    """The state cookie is missing but the login stored its binding in LTI Platform Storage:
    the browser must fetch it from the platform and post the launch again (not an error)."""

    def __init__(self, storage_target: str, key: str, origin: str) -> None:
        super().__init__("platform storage lookup needed")
        self.storage_target = storage_target
        self.key = key
        self.origin = origin
