"""The error answers of the JSON API, declared in the OpenAPI schema as
they are: every ``/api/v1`` operation can answer 401, 403, 404, 409, 422 and
429 with ``{"error", "message", "fields"}`` (``sigap.web.error_handler``).
Litestar declares responses per handler only; ``declare_errors`` adds
these to every API handler of an app before its schema is first built
(the schema is made on first request)."""

from __future__ import annotations

from dataclasses import dataclass, field

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
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
