"""A user's own account page: password and personal API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import (
    FromPath,
    URLEncodedBody,
)
from litestar.response import Redirect, Template

from sigap import accounts, tokens
from sigap.controllers.common import (
    confirm_password,
    start_session,
    token_makers,
)
from sigap.errors import DomainError
from sigap.tables import Role
from sigap.web import (
    actor_of,
    current_user,
    page,
    signed_in,
    utcnow,
)

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



class AccountPages(Controller):
    path = "/account"
    include_in_schema = False
    guards = [signed_in]

    async def _render(self, request: Request, status_code: int = 200, **context: Any) -> Template:
        own = await tokens.list_tokens(actor_of(request), user_id=current_user(request).id)
        if current_user(request).role == Role.admin:
            own = [t for t in own if t["user"] == current_user(request).id]
        context.setdefault("errors", {})
        context.setdefault("message", None)
        context.setdefault("new_token", None)
        return page("sigap/account.html", status_code=status_code, tokens=own, now=utcnow(), **context)

    @get("/")
    async def account(self, request: Request) -> Template:
        return await self._render(request)

    @post("/password")
    async def change_password(self, request: Request, data: URLEncodedBody[PasswordForm]) -> Template | Redirect:
        user = current_user(request)
        try:
            confirm_password(data.password, data.password_confirm)
            await accounts.set_password(
                actor_of(request), user.id, data.password, now=utcnow(), current_password=data.current_password
            )
        except DomainError as exc:
            return await self._render(request, status_code=exc.status_code, errors=exc.fields, message=exc.message)
        # The change ended every session, this one included: sign in anew.
        row = await accounts.get_user(user.id)
        response = Redirect("/account?changed=1", status_code=303)
        await start_session(request, response, row)
        return response

    @post("/tokens", guards=[token_makers])
    async def create_token(self, request: Request, data: URLEncodedBody[TokenForm]) -> Template:
        try:
            days = int(data.expires_in_days) if data.expires_in_days.strip() else None
        except ValueError:
            days = -1
        try:
            raw, _row = await tokens.create_token(actor_of(request), name=data.name, now=utcnow(), expires_in_days=days)
        except DomainError as exc:
            return await self._render(request, status_code=exc.status_code, errors=exc.fields, message=exc.message)
        return await self._render(request, status_code=201, new_token=raw)

    @post("/tokens/{token_id:int}/revoke")
    async def revoke_token(self, request: Request, token_id: FromPath[int]) -> Redirect:
        await tokens.revoke_token(actor_of(request), token_id, now=utcnow())
        return Redirect("/account#tokens", status_code=303)
