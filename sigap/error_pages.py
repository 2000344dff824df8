"""How errors look: a translated page for people, ``{"error", "message",
"fields"}`` JSON for the API, a redirect to sign in for a signed-out page
request. Litestar calls :func:`error_handler` for every exception."""

from __future__ import annotations

import logging
import secrets
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect

from sigap.bodies import field_problem
from sigap.errors import DomainError, Throttled
from sigap.i18n import DEFAULT_LOCALE, N_, _, normalize_locale, set_locale
from sigap.logs import request_id_var
from sigap.web import LANG_COOKIE, page, wants_json

log = logging.getLogger("sigap.http")

_STATUS_MESSAGES = {
    400: ("invalid", N_("The request is malformed or incomplete.")),
    401: ("signin_required", N_("Please sign in first.")),
    403: ("forbidden", N_("You do not have access to this page.")),
    404: ("not_found", N_("The page or item you asked for does not exist.")),
    405: ("method_not_allowed", N_("This action is not available here.")),
    413: ("too_large", N_("The upload is larger than allowed.")),
    415: ("unsupported_media_type", N_("This type of content is not accepted here.")),
    429: ("throttled", N_("Too many requests. Please wait a moment and try again.")),
    500: ("server_error", N_("Something went wrong on our side. The error has been logged; please try again.")),
    503: ("unavailable", N_("The service is temporarily unavailable.")),
}
_DETAIL_MESSAGES = {
    "csrf": ("csrf", N_("The form has expired or was sent from another site. Reload the page and try again.")),
    "invalid_token": ("invalid_token", N_("The access token is invalid, expired or revoked.")),
    "role": ("forbidden", N_("Your role does not allow this action.")),
}


def _describe(exc: Exception) -> tuple[int, str, str, dict]:
    """status, code, translated message, extra fields."""
    if isinstance(exc, DomainError):
        return exc.status_code, exc.code, exc.message, ({"fields": exc.fields} if exc.fields else {})
    if isinstance(exc, UnicodeDecodeError):  # a form field or body that is not UTF-8 text
        return 400, "invalid", _("The request is malformed or incomplete."), {}
    if isinstance(exc, RecursionError) and "deserializing" in str(exc):  # JSON nested past msgspec's depth
        return 400, "invalid", _("The request is malformed or incomplete."), {}
    if isinstance(exc, ValidationException):
        extra = exc.extra if isinstance(exc.extra, list) else []
        body = [e for e in extra if isinstance(e, dict) and e.get("source") == "body"]
        if body:  # a typed body that did not decode: the house 422, each field named
            fields: dict[str, str] = {}
            for problem in body:
                name, message = field_problem(str(problem.get("key") or ""), str(problem.get("message", "")))
                fields.setdefault(name, message)
            return 422, "invalid", _("Please correct the marked fields."), {"fields": fields}
        details = [
            {"field": (e.get("key") or ""), "problem": str(e.get("message", ""))} for e in extra if isinstance(e, dict)
        ]
        return 400, "invalid", _("The request is malformed or incomplete."), ({"details": details} if details else {})
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else ""
    if detail in _DETAIL_MESSAGES:
        code, message = _DETAIL_MESSAGES[detail]
        return status, code, _(message), {}
    code, message = _STATUS_MESSAGES.get(status, _STATUS_MESSAGES[500 if status >= 500 else 400])
    return status, code, _(message), {}


def _locale_for_error(request: Request) -> None:
    # Unmatched routes never pass through AuthMiddleware: honour the cookie.
    if "user" not in request.scope:
        set_locale(normalize_locale(request.cookies.get(LANG_COOKIE)) or DEFAULT_LOCALE)


def error_handler(request: Request, exc: Exception) -> Response:
    _locale_for_error(request)
    status, code, message, extra = _describe(exc)
    if status >= 500:
        log.error("unhandled error", exc_info=exc)
    headers = {}
    if not request_id_var.get():
        # Routing failed before RequestContextMiddleware: log and tag here.
        request_id_var.set(secrets.token_hex(8))
        log.info("request", extra={"method": request.method, "path": request.scope["path"], "status": status, "user_id": None})
    headers["x-request-id"] = request_id_var.get()
    if isinstance(exc, Throttled):
        headers["Retry-After"] = str(exc.retry_after_s)
    elif status == 429 and isinstance(exc, HTTPException) and exc.headers and exc.headers.get("RateLimit-Reset"):
        headers["Retry-After"] = str(exc.headers["RateLimit-Reset"])  # Litestar's RateLimitMiddleware
    if wants_json(request):
        if status == 401 and code == "signin_required":
            headers["WWW-Authenticate"] = 'Bearer realm="sigap"'
        return Response({"error": code, "message": message, **extra}, status_code=status, headers=headers)
    if status == 401:
        target = request.scope["path"]
        if request.scope.get("query_string"):
            target += "?" + request.scope["query_string"].decode("latin-1")
        return Redirect(f"/login?next={quote(target, safe='')}", status_code=303)
    template = {403: "errors/403.html", 404: "errors/404.html"}.get(status, "errors/error.html")
    if status >= 500:
        template = "errors/500.html"
    if "user" not in request.scope:
        request.scope["user"] = None
    response = page(template, status_code=status, message=message, status=status, request_id=request_id_var.get())
    response.headers.update(headers)
    return response

