"""Personal API tokens (``sgp_...``): only their hash is stored; listed and
revoked by their owner and by admins."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sigap import audit
from sigap.audit import Actor
from sigap.db import fetch, write_transaction
from sigap.errors import Forbidden, NotFound, ValidationError
from sigap.i18n import _
from sigap.tables import ApiToken, Role

TOKEN_PREFIX = "sgp_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def public_token(row: dict) -> dict:
    return {
        "id": row["id"],
        "user_id": row["user"],
        "name": row["name"],
        "prefix": row["prefix"],
        "created_at": row["created_at"],
        "expires_at": row["expires_at"],
        "last_used_at": row["last_used_at"],
        "revoked_at": row["revoked_at"],
    }


async def create_token(actor: Actor, *, name: str, now: datetime, expires_in_days: int | None = None) -> tuple[str, dict]:
    """A new bearer token for the acting user; the raw value is shown once.
    Tokens are for tablets and other systems of the office: an LKS manager
    works in the browser and gets none (their account page offers none)."""
    if actor.role == Role.manager:
        raise Forbidden(_("API tokens are for Dinsos devices and systems; an LKS account cannot create one."))
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError(
            _("Give the token a name of 1 to 100 characters (for example the tablet it is for)."),
            fields={"name": _("Required, at most 100 characters.")},
        )
    if expires_in_days is not None and not (1 <= expires_in_days <= 3650):
        raise ValidationError(
            _("The validity must be between 1 and 3650 days."), fields={"expires_in_days": _("1 to 3650 days.")}
        )
    assert actor.user_id is not None
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with write_transaction():
        token = ApiToken(
            user=actor.user_id,
            name=name,
            token_hash=hash_token(raw),
            prefix=raw[: len(TOKEN_PREFIX) + 6],
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
        await token.save()
        row = await ApiToken.select().where(ApiToken.id == token.id).first()
        await audit.record(actor, "token.create", "api_token", token.id, now=now, after=public_token(row))
    return raw, row


async def list_tokens(actor: Actor, *, user_id: int | None = None) -> list[dict]:
    """The actor's own tokens; an admin may list anyone's (or all with None)."""
    query = ApiToken.select(*ApiToken.all_columns(), ApiToken.user.username.as_alias("username")).order_by(
        ApiToken.id, ascending=False
    )
    if not actor.is_admin:
        query = query.where(ApiToken.user == actor.user_id)
    elif user_id is not None:
        query = query.where(ApiToken.user == user_id)
    return await query


async def revoke_token(actor: Actor, token_id: int, *, now: datetime) -> dict:
    async with write_transaction():
        row = await ApiToken.select().where(ApiToken.id == token_id).first()
        # Someone else's token is "not found", not "forbidden": no probing.
        if row is None or (row["user"] != actor.user_id and not actor.is_admin):
            raise NotFound(_("Token not found."))
        if row["revoked_at"] is None:
            await ApiToken.update({ApiToken.revoked_at: now, ApiToken.revoked_by: actor.user_id}).where(
                ApiToken.id == token_id
            )
            after = await ApiToken.select().where(ApiToken.id == token_id).first()
            await audit.record(
                actor, "token.revoke", "api_token", token_id, now=now, before=public_token(row), after=public_token(after)
            )
            row = after
    return row


_TOKEN_USER_SQL = (
    'SELECT t."id" AS "token_id", t."revoked_at" AS "revoked_at", t."expires_at" AS "expires_at", '
    't."last_used_at" AS "last_used_at", u.* FROM "sigap_api_token" t JOIN "sigap_user" u ON u."id" = t."user" '
    'WHERE t."token_hash" = {}'
)


async def user_for_token(raw: str, *, now: datetime) -> dict | None:
    """The active user a bearer token belongs to, or None (the token and
    its user in one query: every API request asks)."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    rows = await fetch(_TOKEN_USER_SQL, hash_token(raw))
    token = rows[0] if rows else None
    if token is None or token["revoked_at"] is not None:
        return None
    if token["expires_at"] is not None and token["expires_at"] <= now:
        return None
    if not token["is_active"]:
        return None
    last = token["last_used_at"]
    if last is None or now - last > timedelta(minutes=5):
        # Coarse "last used" so that a busy tablet does not write per request.
        async with write_transaction():
            await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == token["token_id"])
    return {k: v for k, v in token.items() if k not in {"token_id", "revoked_at", "expires_at", "last_used_at"}}
