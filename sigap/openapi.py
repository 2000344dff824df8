"""The error answers of the JSON API, declared in the OpenAPI schema as
they are: every ``/api/v1`` operation can answer 401, 403, 404, 409, 422 and
429 with ``{"error", "message", "fields"}`` (``sigap.error_pages.error_handler``).
Litestar declares responses per handler only; ``declare_errors`` adds
these to every API handler of an app before its schema is first built
(the schema is made on first request)."""

from __future__ import annotations

from dataclasses import dataclass, field

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
)
from litestar.routes import HTTPRoute


@dataclass
class ErrorBody:
    error: str  # a stable code: invalid, signin_required, forbidden, not_found, conflict, too_large, throttled
    message: str  # for people, in the user's language
    fields: dict[str, str] = field(default_factory=dict)  # field name -> what is wrong with it


ERRORS = {
    400: "The request is malformed (a value of the wrong type, a body that is not JSON).",
    401: "Not signed in, or the bearer token is invalid, expired or revoked.",
    403: "The role does not allow this, or the CSRF token is missing (cookie sessions).",
    404: "No such item, or not one this user may see.",
    409: "The item changed meanwhile (a stale version) or its state does not allow this.",
    413: "The upload is larger than allowed.",
    422: "Invalid input; ``fields`` names each field and what is wrong with it.",
    429: "Too many attempts; retry after the time given (Retry-After).",
}


def declare_errors(app: Litestar, prefix: str = "/api/v1/") -> None:
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(prefix):
            continue
        for handler in route.route_handlers:
            if isinstance(handler, HTTPRouteHandler):
                declared = dict(handler.responses or {})
                for status, description in ERRORS.items():
                    declared.setdefault(status, ResponseSpec(data_container=ErrorBody, description=description, generate_examples=False))
                handler.responses = declared


DOCUMENT_TYPES = (
    "application/pdf", "image/jpeg", "image/png", "image/webp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)


def download(description: str, *media_types: str) -> type[Operation]:
    """``operation_class`` for a route that answers with a file: its success
    answer is declared as ``format: binary`` in each media type it may have,
    with the ``Content-Disposition`` that names the file. (Litestar declares
    a ``Stream`` or ``bytes`` answer as JSON.)"""

    @dataclass
    class FileDownload(Operation):
        def __post_init__(self) -> None:
            status = next((code for code in (self.responses or {}) if code.startswith("2")), "200")
            self.responses = {**(self.responses or {}), status: OpenAPIResponse(
                description=description,
                content={
                    media_type: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))
                    for media_type in media_types
                },
                headers={"Content-Disposition": OpenAPIHeader(
                    schema=Schema(type=OpenAPIType.STRING),
                    description="attachment or inline, with the file name (RFC 6266; filename* for any language)",
                )},
            )}

    return FileDownload
