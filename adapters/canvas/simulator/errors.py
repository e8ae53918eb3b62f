"""Canvas's error responses, raised from the state model and rendered by the app."""

from __future__ import annotations

from typing import Any

NOT_FOUND_MESSAGE = "The specified resource does not exist."


class CanvasError(Exception):
    """An HTTP error with Canvas's JSON body."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def not_found() -> CanvasError:
    return CanvasError(404, {"errors": [{"message": NOT_FOUND_MESSAGE}]})


def bad_request(body: Any) -> CanvasError:
    return CanvasError(400, body)


def model_error(attribute: str, message: str, type_: str = "invalid") -> dict[str, Any]:
    """ActiveModel "better errors" shape: {"errors": {attr: [{attribute, type, message}]}}."""
    return {"errors": {attribute: [{"attribute": attribute, "type": type_, "message": message}]}}


def invalid(attribute: str, message: str, type_: str = "invalid") -> CanvasError:
    return bad_request(model_error(attribute, message, type_))


def rejected(message: str, status: int = 400) -> CanvasError:
    """Api `reject!`: {"errors": [{"message": ...}]}."""
    return CanvasError(status, {"errors": [{"message": message}]})
