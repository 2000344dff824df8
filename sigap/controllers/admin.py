"""Administration pages: users, their tokens, the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import (
    FromPath,
    FromQuery,
    URLEncodedBody,
)
from litestar.response import Redirect, Template

from sigap import accounts, audit, lks_picker, tokens
from sigap.audit_view import filter_choices, in_words
from sigap.controllers.common import (
    confirm_password,
)
from sigap.errors import DomainError, NotFound, ValidationError
from sigap.i18n import WIB, _
from sigap.tables import Role
from sigap.web import (
    actor_of,
    admin_only,
    page,
    safe_next,
    utcnow,
)
from sigap.wiring import (
    ACTION_LABELS,
    ENTITY_NAMES,
    LKS_EXISTS,
    LKS_SEARCH,
    Wiring,
    wiring_of,
)

# --- pages: administration -----------------------------------------------------


@dataclass
class UserForm:
    username: str = ""
    full_name: str = ""
    email: str = ""
    role: str = ""
    lks_id: str = ""
    lks_q: str = ""  # the LKS's name as typed (without script, looked up on submit)
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


async def describe_events(wiring: Wiring, events: list[dict]) -> list[dict]:
    return await in_words(events, wiring.hook(ENTITY_NAMES), wiring.hook(ACTION_LABELS))


async def lks_names(wiring: Wiring, ids: set) -> dict[str, str]:
    """LKS id (as text) → name, through the namer the registry contributes."""
    namer = next((n for n in wiring.hook(ENTITY_NAMES) if n.entity_type == "lks"), None)
    wanted = {str(i) for i in ids if i}
    return await namer.names(wanted) if namer is not None and wanted else {}


async def _lks_id(request: Request, data: UserForm) -> int | None:
    return await lks_picker.resolve(data.lks_id, data.lks_q, wiring_of(request).first(LKS_SEARCH))


def _form_context(data: UserForm, exc: Exception) -> dict:
    return {"lks_matches": exc.matches if isinstance(exc, lks_picker.ChooseLks) else []}


class AdminPages(Controller):
    path = "/admin"
    include_in_schema = False
    guards = [admin_only]

    @get("/users")
    async def users(self, request: Request, q: FromQuery[str] = "", role: FromQuery[str] = "") -> Template:
        rows = await accounts.list_users(role=role if role in Role.__members__ else None, query=q)
        names = await lks_names(wiring_of(request), {r["lks_id"] for r in rows})
        return page("sigap/admin_users.html", users=rows, q=q, role=role, roles=list(Role), lks_names=names)

    @get("/users/new")
    async def new_user(self) -> Template:
        return page("sigap/admin_user_new.html", form=UserForm(role="staff"), errors={}, message=None, roles=list(Role),
                    lks_matches=[])

    @get("/lks-search")
    async def lks_search(self, request: Request, q: FromQuery[str] = "") -> dict:
        """LKS by name for the manager binding's suggestions."""
        search = wiring_of(request).first(LKS_SEARCH)
        rows = await search(q[:100], limit=10) if search is not None else []
        return {"items": [{k: r.get(k, "") for k in ("id", "name", "address", "kelurahan_name")} for r in rows]}

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
                lks_id=await _lks_id(request, data),
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
                **_form_context(data, exc),
            )
        return Redirect(f"/admin/users/{row['id']}?created=1", status_code=303)

    async def _user_page(self, request: Request, user_id: int, status_code: int = 200, **context: Any) -> Template:
        row = await accounts.get_user(user_id)
        wiring = wiring_of(request)
        events = await describe_events(
            wiring, await audit.search(audit.AuditFilter(entity_type="user", entity_id=str(user_id)), limit=20)
        )
        context.setdefault("errors", {})
        context.setdefault("message", None)
        context.setdefault("form", None)
        context.setdefault("lks_matches", [])
        lks_name = (await lks_names(wiring, {row["lks_id"]})).get(str(row["lks_id"]), "") if row["lks_id"] else ""
        return page("sigap/admin_user.html", status_code=status_code, user=row, events=events, roles=list(Role),
                    lks_name=lks_name, **context)

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
                lks_id=await _lks_id(request, data),
                lks_exists=wiring_of(request).first(LKS_EXISTS),
            )
        except NotFound:
            raise
        except DomainError as exc:
            return await self._user_page(
                request, user_id, status_code=exc.status_code, errors=exc.fields, message=exc.message, form=data,
                **_form_context(data, exc),
            )
        return Redirect(f"/admin/users/{user_id}?saved=1", status_code=303)

    @post("/users/{user_id:int}/password")
    async def reset_password(self, request: Request, user_id: FromPath[int], data: URLEncodedBody[ResetForm]) -> Template | Redirect:
        try:
            confirm_password(data.password, data.password_confirm)
            await accounts.set_password(actor_of(request), user_id, data.password, now=utcnow())
        except NotFound:
            raise
        except DomainError as exc:
            return await self._user_page(
                request, user_id, status_code=exc.status_code, errors=exc.fields, message=exc.message
            )
        return Redirect(f"/admin/users/{user_id}?password=1", status_code=303)

    @post("/users/{user_id:int}/deactivate")
    async def deactivate(self, request: Request, user_id: FromPath[int]) -> Template | Redirect:
        try:
            await accounts.set_active(actor_of(request), user_id, False, now=utcnow())
        except NotFound:
            raise
        except DomainError as exc:
            return await self._user_page(request, user_id, status_code=exc.status_code, message=exc.message)
        return Redirect(f"/admin/users/{user_id}", status_code=303)

    @post("/users/{user_id:int}/activate")
    async def activate(self, request: Request, user_id: FromPath[int]) -> Redirect:
        await accounts.set_active(actor_of(request), user_id, True, now=utcnow())
        return Redirect(f"/admin/users/{user_id}", status_code=303)

    @post("/tokens/{token_id:int}/revoke")
    async def revoke_token(self, request: Request, token_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Redirect:
        row = await tokens.revoke_token(actor_of(request), token_id, now=utcnow())
        return Redirect(safe_next(data.get("next")) if data.get("next") else f"/admin/users/{row['user']}", status_code=303)

    @get("/users/{user_id:int}/tokens")
    async def user_tokens(self, request: Request, user_id: FromPath[int]) -> Template:
        row = await accounts.get_user(user_id)
        rows = await tokens.list_tokens(actor_of(request), user_id=user_id)
        return page("sigap/admin_user_tokens.html", user=row, tokens=rows)

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
        rows = await describe_events(wiring_of(request), await audit.search(filters, before_id=before, limit=50))
        params = {"actor": actor, "action": action, "entity_type": entity_type, "entity_id": entity_id, "since": since, "until": until}
        wiring = wiring_of(request)
        actions, types = filter_choices(wiring.hook(ENTITY_NAMES), wiring.hook(ACTION_LABELS))
        return page("sigap/admin_audit.html", events=rows, params=params, error=error, page_size=50,
                    action_choices=actions, type_choices=types)
