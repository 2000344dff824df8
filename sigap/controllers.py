"""Controllers of the application shell: sign-in, account and tokens, the
admin pages for users and the audit log, the JSON auth/users/audit API, and
the health probes. Pages and API call the same services."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from sigap import accounts, audit, db
from sigap.errors import DomainError, ValidationError
from sigap.i18n import WIB, _, normalize_locale
from sigap.sessions import COOKIE_NAME, SessionStore
from sigap.storage import Storage
from sigap.tables import Role
from sigap.wiring import LKS_EXISTS, wiring_of
from sigap.web import (
    LANG_COOKIE,
    actor_of,
    admin_only,
    client_address,
    current_user,
    page,
    request_id_var,
    safe_next,
    set_cookie_headers,
    settings_of,
    signed_in,
    utcnow,
)

log = logging.getLogger("sigap")
PUBLIC = {"public": True}


def _int_or_none(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ValidationError(_("Please correct the marked fields."), fields={"lks_id": _("Enter a number.")})
    return int(value)


async def _start_session(request: Request, response: Response, user: dict) -> None:
    store: SessionStore = request.app.state.session_store
    old = request.cookies.get(COOKIE_NAME)
    if old:  # a fresh key at every sign-in: no session fixation
        await store.delete(old)
    key = await store.create(user["id"], user["auth_epoch"], now=utcnow())
    set_cookie_headers(response, request, COOKIE_NAME, key)
    # A language picked on this device before signing in is the user's
    # latest choice: keep it for the account too.
    chosen = normalize_locale(request.cookies.get(LANG_COOKIE))
    if chosen and chosen != user["locale"]:
        await accounts.set_locale(actor_of(request), user["id"], chosen, now=utcnow())
    set_cookie_headers(response, request, LANG_COOKIE, chosen or user["locale"], max_age=365 * 86400)


async def _end_session(request: Request, response: Response) -> None:
    key = request.cookies.get(COOKIE_NAME)
    if key:
        await request.app.state.session_store.delete(key)
    response.delete_cookie(COOKIE_NAME, path="/")


# --- pages: sign-in, home, language ------------------------------------------


@dataclass
class LoginForm:
    username: str = ""
    password: str = ""
    next: str = "/"


class AuthPages(Controller):
    include_in_schema = False
    opt = PUBLIC

    @get("/")
    async def home(self, request: Request) -> Template | Redirect:
        user = request.scope.get("user")
        if user is None:
            return Redirect("/login", status_code=303)
        return page("sigap/home.html")

    @get("/login")
    async def login_page(self, request: Request, next_: Annotated[str, QueryParameter(name="next")] = "/") -> Template | Redirect:
        if request.scope.get("user") is not None:
            return Redirect(safe_next(next_), status_code=303)
        return page("sigap/login.html", next=safe_next(next_), username="", error=None)

    @post("/login")
    async def login(self, request: Request, data: URLEncodedBody[LoginForm]) -> Template | Redirect:
        target = safe_next(data.next)
        try:
            user = await accounts.authenticate(
                data.username,
                data.password,
                address=client_address(request),
                now=utcnow(),
                settings=settings_of(request),
                request_id=request_id_var.get(),
            )
        except DomainError as exc:
            response = page(
                "sigap/login.html", status_code=exc.status_code, next=target, username=data.username[:64], error=exc.message
            )
            if exc.status_code == 429:
                response.headers["Retry-After"] = str(exc.retry_after_s)  # type: ignore[attr-defined]
            return response
        response = Redirect(target, status_code=303)
        await _start_session(request, response, user)
        return response

    @post("/logout")
    async def logout(self, request: Request) -> Redirect:
        user = request.scope.get("user")
        response = Redirect("/login", status_code=303)
        await _end_session(request, response)
        if user is not None:
            await audit.record(actor_of(request), "auth.logout", "user", user.id, now=utcnow())
        return response

    @post("/lang")
    async def switch_language(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        locale = normalize_locale(data.get("locale")) or "id"
        response = Redirect(safe_next(data.get("next")), status_code=303)
        set_cookie_headers(response, request, LANG_COOKIE, locale, max_age=365 * 86400)
        user = request.scope.get("user")
        if user is not None:
            await accounts.set_locale(actor_of(request), user.id, locale, now=utcnow())
        return response


# --- pages: own account and tokens -------------------------------------------


@dataclass
class PasswordForm:
    current_password: str = ""
    password: str = ""
    password_confirm: str = ""


@dataclass
class TokenForm:
    name: str = ""
    expires_in_days: str = ""


def _confirm(password: str, confirm: str) -> None:
    if password != confirm:
        raise ValidationError(
            _("The two new passwords are not the same."), fields={"password_confirm": _("Does not match.")}
        )


class AccountPages(Controller):
    path = "/account"
    include_in_schema = False
    guards = [signed_in]

    async def _render(self, request: Request, status_code: int = 200, **context: Any) -> Template:
        tokens = await accounts.list_tokens(actor_of(request), user_id=current_user(request).id)
        if current_user(request).role == Role.admin:
            tokens = [t for t in tokens if t["user"] == current_user(request).id]
        context.setdefault("errors", {})
        context.setdefault("message", None)
        context.setdefault("new_token", None)
        return page("sigap/account.html", status_code=status_code, tokens=tokens, now=utcnow(), **context)

    @get("/")
    async def account(self, request: Request) -> Template:
        return await self._render(request)

    @post("/password")
    async def change_password(self, request: Request, data: URLEncodedBody[PasswordForm]) -> Template | Redirect:
        user = current_user(request)
        try:
            _confirm(data.password, data.password_confirm)
            await accounts.set_password(
                actor_of(request), user.id, data.password, now=utcnow(), current_password=data.current_password
            )
        except DomainError as exc:
            return await self._render(request, status_code=exc.status_code, errors=exc.fields, message=exc.message)
        # The change ended every session, this one included: sign in anew.
        row = await accounts.get_user(user.id)
        response = Redirect("/account?changed=1", status_code=303)
        await _start_session(request, response, row)
        return response

    @post("/tokens")
    async def create_token(self, request: Request, data: URLEncodedBody[TokenForm]) -> Template:
        try:
            days = int(data.expires_in_days) if data.expires_in_days.strip() else None
        except ValueError:
            days = -1
        try:
            raw, _row = await accounts.create_token(actor_of(request), name=data.name, now=utcnow(), expires_in_days=days)
        except DomainError as exc:
            return await self._render(request, status_code=exc.status_code, errors=exc.fields, message=exc.message)
        return await self._render(request, status_code=201, new_token=raw)

    @post("/tokens/{token_id:int}/revoke")
    async def revoke_token(self, request: Request, token_id: FromPath[int]) -> Redirect:
        await accounts.revoke_token(actor_of(request), token_id, now=utcnow())
        return Redirect("/account#tokens", status_code=303)


# --- pages: administration -----------------------------------------------------


@dataclass
class UserForm:
    username: str = ""
    full_name: str = ""
    email: str = ""
    role: str = ""
    lks_id: str = ""
    password: str = ""
    version: str = ""


@dataclass
class ResetForm:
    password: str = ""
    password_confirm: str = ""


def _parse_day(value: str | None, *, end: bool = False) -> datetime | None:
    """A YYYY-MM-DD in WIB → the UTC instant that starts (or ends) that day."""
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ValidationError(_("Dates must be written as YYYY-MM-DD.")) from None
    start = datetime.combine(day, time(0), tzinfo=WIB)
    return start + timedelta(days=1) if end else start


class AdminPages(Controller):
    path = "/admin"
    include_in_schema = False
    guards = [admin_only]

    @get("/users")
    async def users(self, request: Request, q: FromQuery[str] = "", role: FromQuery[str] = "") -> Template:
        rows = await accounts.list_users(role=role if role in Role.__members__ else None, query=q)
        return page("sigap/admin_users.html", users=rows, q=q, role=role, roles=list(Role))

    @get("/users/new")
    async def new_user(self) -> Template:
        return page("sigap/admin_user_new.html", form=UserForm(role="staff"), errors={}, message=None, roles=list(Role))

    @post("/users")
    async def create_user(self, request: Request, data: URLEncodedBody[UserForm]) -> Template | Redirect:
        try:
            row = await accounts.create_user(
                actor_of(request),
                username=data.username,
                role=data.role,
                password=data.password,
                now=utcnow(),
                full_name=data.full_name,
                email=data.email.strip() or None,
                lks_id=_int_or_none(data.lks_id),
                lks_exists=wiring_of(request).first(LKS_EXISTS),
            )
        except DomainError as exc:
            data.password = ""
            return page(
                "sigap/admin_user_new.html",
                status_code=exc.status_code,
                form=data,
                errors=exc.fields,
                message=exc.message,
                roles=list(Role),
            )
        return Redirect(f"/admin/users/{row['id']}?created=1", status_code=303)

    async def _user_page(self, request: Request, user_id: int, status_code: int = 200, **context: Any) -> Template:
        row = await accounts.get_user(user_id)
        events = await audit.search(audit.AuditFilter(entity_type="user", entity_id=str(user_id)), limit=20)
        context.setdefault("errors", {})
        context.setdefault("message", None)
        context.setdefault("form", None)
        return page("sigap/admin_user.html", status_code=status_code, user=row, events=events, roles=list(Role), **context)

    @get("/users/{user_id:int}")
    async def user(self, request: Request, user_id: FromPath[int]) -> Template:
        return await self._user_page(request, user_id)

    @post("/users/{user_id:int}")
    async def update_user(self, request: Request, user_id: FromPath[int], data: URLEncodedBody[UserForm]) -> Template | Redirect:
        try:
            version = int(data.version)
        except ValueError:
            version = -1
        try:
            await accounts.update_user(
                actor_of(request),
                user_id,
                version=version,
                now=utcnow(),
                full_name=data.full_name,
                email=data.email.strip(),
                role=data.role,
                lks_id=_int_or_none(data.lks_id),
                lks_exists=wiring_of(request).first(LKS_EXISTS),
            )
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._user_page(
                request, user_id, status_code=exc.status_code, errors=exc.fields, message=exc.message, form=data
            )
        return Redirect(f"/admin/users/{user_id}?saved=1", status_code=303)

    @post("/users/{user_id:int}/password")
    async def reset_password(self, request: Request, user_id: FromPath[int], data: URLEncodedBody[ResetForm]) -> Template | Redirect:
        try:
            _confirm(data.password, data.password_confirm)
            await accounts.set_password(actor_of(request), user_id, data.password, now=utcnow())
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._user_page(
                request, user_id, status_code=exc.status_code, errors=exc.fields, message=exc.message
            )
        return Redirect(f"/admin/users/{user_id}?password=1", status_code=303)

    @post("/users/{user_id:int}/deactivate")
    async def deactivate(self, request: Request, user_id: FromPath[int]) -> Template | Redirect:
        try:
            await accounts.set_active(actor_of(request), user_id, False, now=utcnow())
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._user_page(request, user_id, status_code=exc.status_code, message=exc.message)
        return Redirect(f"/admin/users/{user_id}", status_code=303)

    @post("/users/{user_id:int}/activate")
    async def activate(self, request: Request, user_id: FromPath[int]) -> Redirect:
        await accounts.set_active(actor_of(request), user_id, True, now=utcnow())
        return Redirect(f"/admin/users/{user_id}", status_code=303)

    @post("/tokens/{token_id:int}/revoke")
    async def revoke_token(self, request: Request, token_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Redirect:
        row = await accounts.revoke_token(actor_of(request), token_id, now=utcnow())
        return Redirect(safe_next(data.get("next")) if data.get("next") else f"/admin/users/{row['user']}", status_code=303)

    @get("/users/{user_id:int}/tokens")
    async def user_tokens(self, request: Request, user_id: FromPath[int]) -> Template:
        row = await accounts.get_user(user_id)
        tokens = await accounts.list_tokens(actor_of(request), user_id=user_id)
        return page("sigap/admin_user_tokens.html", user=row, tokens=tokens)

    @get("/audit")
    async def audit_log(
        self,
        request: Request,
        actor: FromQuery[str] = "",
        action: FromQuery[str] = "",
        entity_type: FromQuery[str] = "",
        entity_id: FromQuery[str] = "",
        since: FromQuery[str] = "",
        until: FromQuery[str] = "",
        before: FromQuery[int | None] = None,
    ) -> Template:
        error = None
        try:
            filters = audit.AuditFilter(
                actor=actor,
                action=action,
                entity_type=entity_type,
                entity_id=entity_id,
                since=_parse_day(since),
                until=_parse_day(until, end=True),
            )
        except ValidationError as exc:
            error, filters = exc.message, audit.AuditFilter()
        rows = await audit.search(filters, before_id=before, limit=50)
        params = {"actor": actor, "action": action, "entity_type": entity_type, "entity_id": entity_id, "since": since, "until": until}
        return page("sigap/admin_audit.html", events=rows, params=params, error=error, page_size=50)


# --- JSON API ------------------------------------------------------------------


@dataclass
class LoginBody:
    username: str
    password: str


@dataclass
class TokenBody:
    name: str
    expires_in_days: int | None = None


class AuthAPI(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/login", opt={**PUBLIC, "csrf_json_exempt": True}, status_code=HTTP_200_OK)
    async def login(self, request: Request, data: JSONBody[LoginBody]) -> Response[dict]:
        """Sign in; returns the user and sets the session cookie."""
        user = await accounts.authenticate(
            data.username,
            data.password,
            address=client_address(request),
            now=utcnow(),
            settings=settings_of(request),
            request_id=request_id_var.get(),
        )
        response: Response[dict] = Response({"user": accounts.public_user(user)})
        await _start_session(request, response, user)
        return response

    @post("/logout", opt=PUBLIC, status_code=HTTP_204_NO_CONTENT)
    async def logout(self, request: Request) -> Response[None]:
        response: Response[None] = Response(None, status_code=HTTP_204_NO_CONTENT)
        await _end_session(request, response)
        user = request.scope.get("user")
        if user is not None:
            await audit.record(actor_of(request), "auth.logout", "user", user.id, now=utcnow())
        return response

    @get("/me", guards=[signed_in])
    async def me(self, request: Request) -> dict:
        return {"user": accounts.public_user(await accounts.get_user(current_user(request).id))}

    @post("/tokens", guards=[signed_in], status_code=HTTP_201_CREATED)
    async def create_token(self, request: Request, data: JSONBody[TokenBody]) -> dict:
        """Create a bearer token for the signed-in user; ``token`` is shown only here."""
        raw, row = await accounts.create_token(
            actor_of(request), name=data.name, now=utcnow(), expires_in_days=data.expires_in_days
        )
        return {"token": raw, **accounts.public_token(row)}

    @get("/tokens", guards=[signed_in])
    async def list_tokens(self, request: Request, user_id: FromQuery[int | None] = None) -> dict:
        """Own tokens; an admin may pass ``user_id`` (or sees all without it)."""
        rows = await accounts.list_tokens(actor_of(request), user_id=user_id)
        return {"items": [accounts.public_token(r) for r in rows]}

    @delete("/tokens/{token_id:int}", guards=[signed_in], status_code=HTTP_200_OK)
    async def revoke_token(self, request: Request, token_id: FromPath[int]) -> dict:
        return accounts.public_token(await accounts.revoke_token(actor_of(request), token_id, now=utcnow()))


@dataclass
class NewUserBody:
    username: str
    role: str
    password: str
    full_name: str = ""
    email: str | None = None
    lks_id: int | None = None


@dataclass
class UserPatchBody:
    version: int
    full_name: str | None = None
    email: str | None = None
    role: str | None = None
    lks_id: int | None = None
    is_active: bool | None = None
    password: str | None = None


class UsersAPI(Controller):
    path = "/api/v1/users"
    tags = ["users"]
    guards = [admin_only]

    @get("/")
    async def list_users(self, role: FromQuery[str | None] = None, q: FromQuery[str] = "") -> dict:
        rows = await accounts.list_users(role=role, query=q)
        return {"items": [accounts.public_user(r) for r in rows]}

    @post("/", status_code=HTTP_201_CREATED)
    async def create_user(self, request: Request, data: JSONBody[NewUserBody]) -> dict:
        row = await accounts.create_user(
            actor_of(request),
            username=data.username,
            role=data.role,
            password=data.password,
            now=utcnow(),
            full_name=data.full_name,
            email=data.email,
            lks_id=data.lks_id,
            lks_exists=wiring_of(request).first(LKS_EXISTS),
        )
        return accounts.public_user(row)

    @get("/{user_id:int}")
    async def get_user(self, user_id: FromPath[int]) -> dict:
        return accounts.public_user(await accounts.get_user(user_id))

    @patch("/{user_id:int}")
    async def update_user(self, request: Request, user_id: FromPath[int], data: JSONBody[UserPatchBody]) -> dict:
        """Change profile or role (``version`` required: a stale one gets 409),
        activate or deactivate, or reset the password."""
        actor, now = actor_of(request), utcnow()
        row = await accounts.update_user(
            actor,
            user_id,
            version=data.version,
            now=now,
            full_name=data.full_name,
            email=data.email,
            role=data.role,
            lks_id=data.lks_id,
            lks_exists=wiring_of(request).first(LKS_EXISTS),
        )
        if data.is_active is not None:
            row = await accounts.set_active(actor, user_id, data.is_active, now=now)
        if data.password is not None:
            await accounts.set_password(actor, user_id, data.password, now=now)
            row = await accounts.get_user(user_id)
        return accounts.public_user(row)


class AuditAPI(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]
    guards = [admin_only]

    @get("/")
    async def search(
        self,
        actor: FromQuery[str] = "",
        action: FromQuery[str] = "",
        entity_type: FromQuery[str] = "",
        entity_id: FromQuery[str] = "",
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        before: FromQuery[int | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> dict:
        """Audit events, newest first; page with ``before`` = the last id seen."""
        rows = await audit.search(
            audit.AuditFilter(actor, action, entity_type, entity_id, since, until), before_id=before, limit=limit
        )
        return {"items": rows, "next_before": rows[-1]["id"] if len(rows) == limit else None}


# --- operations ----------------------------------------------------------------


class Health(Controller):
    include_in_schema = False
    opt = PUBLIC

    @get("/healthz")
    async def healthz(self) -> dict:
        return {"status": "ok"}

    @get("/readyz")
    async def readyz(self, request: Request) -> Response[dict]:
        checks: dict[str, str] = {}
        try:
            await db.ping()
            checks["database"] = "ok"
        except Exception as exc:  # any failure means "not ready"
            checks["database"] = "error"
            log.warning("readiness: database unreachable", extra={"error": type(exc).__name__})
        storage: Storage = request.app.state.storage
        try:
            await storage.check()
            checks["storage"] = "ok"
        except Exception as exc:
            checks["storage"] = "error"
            log.warning("readiness: storage unreachable", extra={"error": type(exc).__name__})
        store = request.app.state.session_store
        if hasattr(store, "ping"):
            try:
                await store.ping()
                checks["sessions"] = "ok"
            except Exception as exc:
                checks["sessions"] = "error"
                log.warning("readiness: session store unreachable", extra={"error": type(exc).__name__})
        ready = all(v == "ok" for v in checks.values())
        jobs = getattr(request.app.state, "jobs", None)
        body = {"status": "ok" if ready else "unavailable", "checks": checks, "scheduler": jobs.role if jobs else "off"}
        return Response(body, status_code=200 if ready else 503)


route_handlers = [AuthPages, AccountPages, AdminPages, AuthAPI, UsersAPI, AuditAPI, Health]
