"""What the shell's controllers share: session start and end, small form readers."""

from __future__ import annotations

import logging

from litestar import Request, Response

from sigap import accounts
from sigap.errors import ValidationError
from sigap.i18n import _, normalize_locale
from sigap.sessions import COOKIE_NAME, SessionStore
from sigap.tables import Role
from sigap.web import (
    LANG_COOKIE,
    actor_of,
    requires,
    set_cookie_headers,
    utcnow,
)

log = logging.getLogger("sigap")
PUBLIC = {"public": True}
# API tokens are for the office's tablets and systems, never an LKS manager's.
token_makers = requires(Role.admin, Role.staff, Role.inspector, Role.partner)


def int_or_none(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ValidationError(_("Please correct the marked fields."), fields={"lks_id": _("Enter a number.")})
    return int(value)


async def start_session(request: Request, response: Response, user: dict) -> None:
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


async def end_session(request: Request, response: Response) -> None:
    key = request.cookies.get(COOKIE_NAME)
    if key:
        await request.app.state.session_store.delete(key)
    response.delete_cookie(COOKIE_NAME, path="/")


def confirm_password(password: str, confirm: str) -> None:
    if password != confirm:
        raise ValidationError(
            _("The two new passwords are not the same."), fields={"password_confirm": _("Does not match.")}
        )
