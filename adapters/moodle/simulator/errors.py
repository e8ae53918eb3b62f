"""Moodle's exceptions as a web-service client sees them: HTTP 200, `{exception, errorcode, message[, debuginfo]}`.

The class names and messages are what Moodle 4.5 prints (see the recorded fixtures): most core
exceptions live in `core\\exception\\…`, while `dml_missing_record_exception` and
`webservice_access_exception` keep their old global names.
"""

from __future__ import annotations

from .config import CAPABILITY_NAMES

INVALID_PARAMETER_MESSAGE = "Invalid parameter value detected"

_ACCESS_DEBUG = (
    "Access to the function {name}() is not allowed.\n"
    "                     There could be multiple reasons for this:\n"
    "                     1. The service linked to the user token does not contain the function.\n"
    "                     2. The service is user-restricted and the user is not listed.\n"
    "                     3. The service is IP-restricted and the user IP is not listed.\n"
    "                     4. The service is time-restricted and the time has expired.\n"
    "                     5. The token is time-restricted and the time has expired.\n"
    "                     6. The service requires a specific capability which the user does not have.\n"
    "                     7. The function is called with username/password (no user token is sent)\n"
    "                     and none of the services has the function to allow the user.\n"
    "                     These settings can be found in Administration > Site administration\n"
    "                     > Server > Web services > External services and Manage tokens."
)


class MoodleError(Exception):
    """A PHP exception escaping a web-service function: rendered as the error body."""

    def __init__(self, exception: str, errorcode: str, message: str, debuginfo: str | None = None) -> None:
        super().__init__(f"{errorcode}: {message}" + (f" ({debuginfo})" if debuginfo else ""))
        self.exception = exception
        self.errorcode = errorcode
        self.message = message
        self.debuginfo = debuginfo

    def body(self, debug: bool) -> dict[str, str]:
        out = {"exception": self.exception, "errorcode": self.errorcode, "message": self.message}
        if debug and self.debuginfo is not None:
            out["debuginfo"] = self.debuginfo
        return out


def invalid_parameter(debuginfo: str) -> MoodleError:
    """`invalid_parameter_exception`: every parameter and validation failure; the reason is debuginfo."""
    return MoodleError("core\\exception\\invalid_parameter_exception", "invalidparameter",
                       INVALID_PARAMETER_MESSAGE, debuginfo)


def missing_record(table: str, sql: str = "", params: tuple[object, ...] = ()) -> MoodleError:
    """`dml_missing_record_exception` (MUST_EXIST lookups): unknown course, assignment, quiz, function."""
    debuginfo = None
    if sql:
        exported = "".join(f"  {i} => {_php_export(v)},\n" for i, v in enumerate(params))
        debuginfo = f"{sql}\n[array (\n{exported})]"
    return MoodleError("dml_missing_record_exception", "invalidrecord",
                       f"Can't find data record in database table {table}.", debuginfo)


def _php_export(value: object) -> str:
    return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "\\'") + "'"


def invalid_token() -> MoodleError:
    return MoodleError("core\\exception\\moodle_exception", "invalidtoken", "Invalid token - token not found")


def access_exception(function: str) -> MoodleError:
    return MoodleError("webservice_access_exception", "accessexception", "Access control exception",
                       _ACCESS_DEBUG.format(name=function))


def access_exception_plain(debuginfo: str) -> MoodleError:
    return MoodleError("webservice_access_exception", "accessexception", "Access control exception", debuginfo)


def required_capability(capability: str) -> MoodleError:
    name = CAPABILITY_NAMES.get(capability, capability)
    return MoodleError("core\\exception\\required_capability_exception", "nopermissions",
                       f"Sorry, but you do not currently have permissions to do that ({name}).")


def require_login(reason: str = "Not enrolled") -> MoodleError:
    return MoodleError("core\\exception\\require_login_exception", "requireloginerror",
                       f"Course or activity not accessible. ({reason})")


def moodle_exception(errorcode: str, message: str, debuginfo: str | None = None) -> MoodleError:
    return MoodleError("core\\exception\\moodle_exception", errorcode, message, debuginfo)
