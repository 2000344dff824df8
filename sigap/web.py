"""The HTTP plumbing every domain's controllers share: request id and logs,
who is signed in (session cookie or bearer token), CSRF, language and role
guards. How errors look (a page for people, JSON for the API) is
``sigap.error_pages``."""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import RequestEncodingType
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.handlers import BaseRouteHandler
from litestar.response import Template
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from sigap import tokens
from sigap.audit import Actor
from sigap.errors import ValidationError
from sigap.i18n import DEFAULT_LOCALE, _, normalize_locale, set_locale
from sigap.logs import request_id_var
from sigap.sessions import COOKIE_NAME, SessionStore, needs_extension
from sigap.settings import Settings
from sigap.tables import Role

log = logging.getLogger("sigap.http")

CSRF_COOKIE = "sigap_csrf"
CSRF_FIELD = "_csrf_token"
CSRF_HEADER = "x-csrftoken"
LANG_COOKIE = "sigap_lang"
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Route option of the public pages (register, certificate check): answered
# without a session and without a CSRF cookie, the same for everyone.
ANONYMOUS = "anonymous"


def is_anonymous_route(scope: Scope) -> bool:
    handler = scope.get("route_handler")
    return bool(handler is not None and getattr(handler, "opt", {}).get(ANONYMOUS))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    full_name: str
    role: Role
    lks_id: int | None
    locale: str
    auth_epoch: int
    via: str  # "session" or "token"

    @classmethod
    def from_row(cls, row: dict, via: str) -> "CurrentUser":
        return cls(
            id=row["id"],
            username=row["username"],
            full_name=row["full_name"],
            role=Role(row["role"]),
            lks_id=row["lks_id"],
            locale=row["locale"],
            auth_epoch=row["auth_epoch"],
            via=via,
        )

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


def settings_of(connection: ASGIConnection) -> Settings:
    return connection.app.state.settings


def client_address(connection: ASGIConnection) -> str:
    if settings_of(connection).trust_proxy_headers:
        forwarded = connection.headers.get("x-forwarded-for", "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:45]
    client = connection.scope.get("client")
    return (client[0] if client else "")[:45]


def actor_of(connection: ASGIConnection) -> Actor:
    user: CurrentUser | None = connection.scope.get("user")
    address = client_address(connection)
    if user is None:
        return Actor(user_id=None, username="", address=address, request_id=request_id_var.get())
    return Actor(
        user_id=user.id,
        username=user.username,
        role=user.role,
        lks_id=user.lks_id,
        address=address,
        request_id=request_id_var.get(),
    )


def wants_json(connection: ASGIConnection) -> bool:
    if connection.scope["path"].startswith("/api/"):
        return True
    accept = connection.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


# --- middleware ----------------------------------------------------------------


class RequestContextMiddleware:
    """Request id (from ``X-Request-ID`` if well-formed, else new), one
    structured log line per request (path only: query strings can carry
    personal data), and the default language."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if REQUEST_ID_RE.match(incoming) else secrets.token_hex(8)
        token = request_id_var.set(request_id)
        set_locale(DEFAULT_LOCALE)
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)["x-request-id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            user = scope.get("user")
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": user.id if user else None,
                },
            )
            request_id_var.reset(token)


class AuthMiddleware:
    """Sets ``scope["user"]`` to a :class:`CurrentUser` or None, and the
    language: the user's choice, else the language cookie, else Indonesian."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/static/"):
            scope["user"] = None
            await self.app(scope, receive, send)
            return
        connection: ASGIConnection = ASGIConnection(scope)
        if is_anonymous_route(scope):
            # Public pages: no session is read (a signed-in user sees what
            # everyone sees); the language comes from ``?lang=``, else the cookie.
            scope["user"], scope["auth"] = None, None
            locale = normalize_locale(connection.query_params.get("lang")) or normalize_locale(connection.cookies.get(LANG_COOKIE))
            set_locale(locale or DEFAULT_LOCALE)
            await self.app(scope, receive, send)
            return
        now = utcnow()
        user: CurrentUser | None = None
        authorization = connection.headers.get("authorization", "")
        if authorization:
            scheme, _sep, raw = authorization.partition(" ")
            row = await tokens.user_for_token(raw.strip(), now=now) if scheme.lower() == "bearer" else None
            if row is None:
                # token_guard answers 401; raising here would skip the logs.
                scope["user"], scope["auth"] = None, "invalid_token"
                await self.app(scope, receive, send)
                return
            user = CurrentUser.from_row(row, via="token")
        else:
            key = connection.cookies.get(COOKIE_NAME)
            if key:
                store: SessionStore = connection.app.state.session_store
                found = await store.signed_in(key, now=now)
                if found is not None:
                    data, row = found
                    user = CurrentUser.from_row(row, via="session")
                    if needs_extension(data, store.idle, now):
                        await store.extend(key, now=now)
        scope["user"] = user
        scope["auth"] = user.via if user else None
        locale = user.locale if user else normalize_locale(connection.cookies.get(LANG_COOKIE))
        set_locale(locale or DEFAULT_LOCALE)
        await self.app(scope, receive, send)


class CSRFCookieMiddleware:
    """Gives every visitor a random CSRF cookie and puts its value where the
    templates find it (``csrf_input``, ``csrf_token()``). The check itself
    is the app-wide :func:`csrf_guard`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_anonymous_route(scope) or scope["path"].startswith("/static/"):
            # Public pages and static files (shared, cached) set no cookie.
            await self.app(scope, receive, send)
            return
        connection: ASGIConnection = ASGIConnection(scope)
        cookie_token = connection.cookies.get(CSRF_COOKIE)
        token = cookie_token if cookie_token and len(cookie_token) >= 32 else secrets.token_urlsafe(32)
        ScopeState.from_scope(scope).csrf_token = token
        if token == cookie_token:
            await self.app(scope, receive, send)
            return
        secure = settings_of(connection).cookie_secure

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = Cookie(key=CSRF_COOKIE, value=token, path="/", httponly=True, samesite="lax", secure=secure)
                MutableScopeHeaders.from_message(message).add("set-cookie", cookie.to_header(header=""))
            await send(message)

        await self.app(scope, receive, send_wrapper)


# --- guards (async: Litestar runs a plain function guard in a worker thread) ---


async def token_guard(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """App-wide: a request with a bad ``Authorization`` header gets 401."""
    if connection.scope.get("auth") == "invalid_token":
        raise NotAuthorizedException(detail="invalid_token")


ID_MAX = 2**31 - 1  # ids are SERIAL (32-bit) on PostgreSQL
_BIG_NUMBER = re.compile(r"[+-]?\d{10,}")


async def bounded_numbers(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """App-wide: a number in the path or the query beyond what the database
    columns hold (32-bit ids on PostgreSQL) is refused here, before it
    reaches the driver (which would fail with OverflowError). An id that
    large cannot exist: 404; a page number or filter: 422 naming it."""
    for value in connection.path_params.values():
        if isinstance(value, int) and not -ID_MAX <= value <= ID_MAX:
            raise NotFoundException()
    for name, value in connection.query_params.items():
        if _BIG_NUMBER.fullmatch(value.strip()) and abs(int(value)) > ID_MAX:
            raise ValidationError(_("This number is too large."), fields={name: _("This number is too large.")})


async def no_nul_characters(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """App-wide: the NUL character cannot be stored (PostgreSQL refuses it
    in text) and no person types it. Refused in the path and the query
    here; in bodies by :func:`no_nul_in_body`, which runs after the role
    guards."""
    bad = [name for name, value in connection.query_params.items() if "\x00" in value]
    bad += [name for name, value in connection.path_params.items() if isinstance(value, str) and "\x00" in value]
    if bad:
        message = _("Remove the invisible control characters from this text.")
        raise ValidationError(message, fields={name: message for name in bad})


async def no_nul_in_body(request: Request) -> None:
    """App-wide ``before_request``: NUL in a JSON body or a form field is
    refused with a message before any service sees it. Litestar runs this
    after every guard and before it decodes the body, so a role that may not
    write gets its 403 without the body being read or parsed at all. (A
    handler or controller with its own ``before_request`` would replace
    this one: none has.)"""
    if request.scope["method"] in SAFE_METHODS:
        return
    bad: list[str] = []
    content_type, _params = request.content_type
    if content_type == "application/json":
        body = await request.body()
        if b"\\u0000" in body or b"\x00" in body:
            bad = ["body"]
    elif content_type in {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}:
        form = await request.form()
        bad = [name for name, value in form.multi_items() if isinstance(value, str) and "\x00" in value]
    if bad:
        message = _("Remove the invisible control characters from this text.")
        raise ValidationError(message, fields={name: message for name in bad})


async def csrf_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """App-wide: every state-changing request echoes the CSRF cookie in the
    ``_csrf_token`` form field or the ``X-CSRFToken`` header.

    Requests authenticated with a bearer token carry no ambient credential
    and are exempt; so is a route marked ``opt={"csrf_json_exempt": True}``
    when the body is JSON (a cross-site form cannot send that type)."""
    if connection.scope["method"] in SAFE_METHODS or connection.scope.get("auth") == "token":
        return
    if handler.opt.get(ANONYMOUS):
        # Public routes read no session and no cookie: there is no ambient
        # credential a forged request could use (the public report form has
        # its own signed token).
        return
    request = connection if isinstance(connection, Request) else Request(connection.scope, connection.receive)
    content_type, _params = request.content_type
    if handler.opt.get("csrf_json_exempt") and content_type == "application/json":
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent and content_type in {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}:
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    expected = request.cookies.get(CSRF_COOKIE)
    if not (expected and sent and hmac.compare_digest(sent.encode(), expected.encode())):
        raise PermissionDeniedException(detail="csrf")


async def app_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The app-wide guards, in this order, as one guard: Litestar copies the
    route handler for each guard it calls (tens of microseconds each, on
    every request)."""
    await token_guard(connection, handler)
    await bounded_numbers(connection, handler)
    await no_nul_characters(connection, handler)
    await csrf_guard(connection, handler)


def requires(*roles: Role):
    """A guard: signed in, with one of ``roles`` (any role when none given)."""
    allowed = frozenset(roles)

    async def guard(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
        user: CurrentUser | None = connection.scope.get("user")
        if user is None:
            raise NotAuthorizedException(detail="signin_required")
        if allowed and user.role not in allowed:
            raise PermissionDeniedException(detail="role")

    guard.roles = allowed  # type: ignore[attr-defined]
    return guard


signed_in = requires()
admin_only = requires(Role.admin)


def current_user(request: Request) -> CurrentUser:
    user = request.scope.get("user")
    if user is None:  # guards make this unreachable on guarded routes
        raise NotAuthorizedException(detail="signin_required")
    return user


# --- rendering -----------------------------------------------------------------


def page(template_name: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name=template_name, context=context, status_code=status_code)


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """``Content-Disposition`` for any file name (RFC 6266/5987): the
    original name, UTF-8 and percent-encoded, in ``filename*``, and an ASCII
    stand-in in ``filename`` for old clients ("–" becomes "-", "é" "e",
    what has no ASCII form "_"). A header must be Latin-1; a raw "–" in it
    made every download of that document fail."""
    folded = unicodedata.normalize("NFKD", filename.replace("\u2013", "-").replace("\u2014", "-").replace("\u2019", "'"))
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in folded if not unicodedata.combining(ch))
    kind = "inline" if inline else "attachment"
    if ascii_name == filename:  # plain ASCII: the simple form says it all
        return f'{kind}; filename="{filename}"'
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def safe_next(target: str | None) -> str:
    """Only local paths: never redirect a sign-in to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def set_cookie_headers(response: Response, request: Request, key: str, value: str, *, max_age: int | None = None) -> None:
    response.set_cookie(
        key=key,
        value=value,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings_of(request).cookie_secure,
        max_age=max_age,
    )
