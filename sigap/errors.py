"""Domain errors. Services raise these with a translated message; the web
layer turns them into a page or ``{"error": code, "message": text}``."""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationError(DomainError):
    status_code = 422
    code = "invalid"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidCredentials(DomainError):
    status_code = 401
    code = "invalid_credentials"


class Throttled(DomainError):
    status_code = 429
    code = "throttled"

    def __init__(self, message: str, *, retry_at: datetime, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_at = retry_at
        self.retry_after_s = retry_after_s
