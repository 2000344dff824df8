"""The shell's JSON API: sign-in, tokens, users, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import (
    FromPath,
    FromQuery,
    JSONBody,
    QueryParameter,
)
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import Struct

from sigap import accounts, audit, tokens
from sigap.bodies import UNSET, Id, Int32, UnsetType, one_of
from sigap.controllers.common import (
    PUBLIC,
    end_session,
    start_session,
    token_makers,
)
from sigap.tables import Role
from sigap.web import (
    actor_of,
    admin_only,
    client_address,
    current_user,
    request_id_var,
    settings_of,
    signed_in,
    utcnow,
)
from sigap.wiring import LKS_EXISTS, wiring_of

# --- JSON API ------------------------------------------------------------------


class LoginBody(Struct, kw_only=True):
    username: str
    password: str


class TokenBody(Struct, kw_only=True):
    name: str
    expires_in_days: Int32 | None = None  # 1 to 3650 (checked by the service)


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
        await start_session(request, response, user)
        return response

    @post("/logout", opt=PUBLIC, status_code=HTTP_204_NO_CONTENT)
    async def logout(self, request: Request) -> Response[None]:
        response: Response[None] = Response(None, status_code=HTTP_204_NO_CONTENT)
        await end_session(request, response)
        user = request.scope.get("user")
        if user is not None:
            await audit.record(actor_of(request), "auth.logout", "user", user.id, now=utcnow())
        return response

    @get("/me", guards=[signed_in])
    async def me(self, request: Request) -> dict:
        return {"user": accounts.public_user(await accounts.get_user(current_user(request).id))}

    @post("/tokens", guards=[token_makers], status_code=HTTP_201_CREATED)
    async def create_token(self, request: Request, data: JSONBody[TokenBody]) -> dict:
        """Create a bearer token for the signed-in user; ``token`` is shown only here."""
        raw, row = await tokens.create_token(
            actor_of(request), name=data.name, now=utcnow(), expires_in_days=data.expires_in_days
        )
        return {"token": raw, **tokens.public_token(row)}

    @get("/tokens", guards=[signed_in])
    async def list_tokens(self, request: Request, user_id: FromQuery[int | None] = None) -> dict:
        """Own tokens; an admin may pass ``user_id`` (or sees all without it)."""
        rows = await tokens.list_tokens(actor_of(request), user_id=user_id)
        return {"items": [tokens.public_token(r) for r in rows]}

    @delete("/tokens/{token_id:int}", guards=[signed_in], status_code=HTTP_200_OK)
    async def revoke_token(self, request: Request, token_id: FromPath[int]) -> dict:
        return tokens.public_token(await tokens.revoke_token(actor_of(request), token_id, now=utcnow()))


ROLES = [role.value for role in Role]


class NewUserBody(Struct, kw_only=True):
    username: str
    role: Annotated[str, one_of(ROLES)]
    password: str
    full_name: str = ""
    email: str | None = None
    lks_id: Id | None = None


class UserPatchBody(Struct, kw_only=True):
    """Only what is sent changes. ``email: null`` removes the address;
    ``lks_id`` counts only with ``role`` (``null``: no LKS)."""

    version: Int32
    full_name: str | UnsetType = UNSET
    email: str | None | UnsetType = UNSET
    role: Annotated[str, one_of(ROLES)] | UnsetType = UNSET
    lks_id: Id | None | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET
    password: str | UnsetType = UNSET


def _given(value: Any) -> Any:
    return None if value is UNSET else value


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
        row = await accounts.update_account(
            actor_of(request),
            user_id,
            version=data.version,
            now=utcnow(),
            profile={
                "full_name": _given(data.full_name),
                "email": "" if data.email is None else _given(data.email),
                "role": _given(data.role),
                "lks_id": _given(data.lks_id),
            },
            is_active=_given(data.is_active),
            password=_given(data.password),
            lks_exists=wiring_of(request).first(LKS_EXISTS),
        )
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
