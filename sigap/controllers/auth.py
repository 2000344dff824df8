"""Sign-in and sign-out pages, the home page and the language switch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import (
    QueryParameter,
    URLEncodedBody,
)
from litestar.response import Redirect, Template

from sigap import accounts, audit
from sigap.controllers.common import (
    PUBLIC,
    end_session,
    start_session,
)
from sigap.errors import DomainError, Throttled
from sigap.i18n import normalize_locale
from sigap.wiring import HOME_PANELS, wiring_of
from sigap.web import (
    LANG_COOKIE,
    actor_of,
    client_address,
    page,
    request_id_var,
    safe_next,
    set_cookie_headers,
    settings_of,
    utcnow,
)

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
        now = utcnow()
        answers = [await provider(user, now) for provider in wiring_of(request).hook(HOME_PANELS)]
        panels = sorted((p for p in answers if p), key=lambda p: p.get("order", 100))
        return page("sigap/home.html", panels=panels)

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
            if isinstance(exc, Throttled):
                response.headers["Retry-After"] = str(exc.retry_after_s)
            return response
        response = Redirect(target, status_code=303)
        await start_session(request, response, user)
        return response

    @post("/logout")
    async def logout(self, request: Request) -> Redirect:
        user = request.scope.get("user")
        response = Redirect("/login", status_code=303)
        await end_session(request, response)
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
