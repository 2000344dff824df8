"""Server-side sessions: in the database by default, in Redis when
``SIGAP_REDIS_URL`` is set (shared by several app instances).

The cookie holds a random key; stores keep only its SHA-256. A session
carries the account's ``auth_epoch`` at sign-in: a password change or a
deactivation bumps the epoch and so ends every older session.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sigap.db import fetch, write_transaction
from sigap.tables import WebSession

COOKIE_NAME = "sigap_session"


@dataclass(frozen=True)
class SessionData:
    user_id: int
    auth_epoch: int
    created_at: datetime
    expires_at: datetime


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# What a request needs to know about who is signed in (sigap.web.CurrentUser).
USER_COLUMNS = ("id", "username", "full_name", "role", "lks_id", "locale", "auth_epoch", "is_active")
_USER_SELECT = ", ".join(f'u."{c}" AS "{c}"' for c in USER_COLUMNS)
_SESSION_USER_SQL = (
    f's."auth_epoch" AS "session_epoch", s."created_at" AS "session_created", s."expires_at" AS "session_expires", {_USER_SELECT} '
    'FROM "sigap_session" s JOIN "sigap_user" u ON u."id" = s."user" WHERE s."key_hash" = {}'
)
_USER_SQL = f'{_USER_SELECT} FROM "sigap_user" u WHERE u."id" = {{}}'


def _signed_in(data: SessionData | None, user: dict | None) -> tuple[SessionData, dict] | None:
    """The session and its user, if both still hold: the account active and
    its auth epoch the one the session began with (a password change or a
    deactivation ends every older session at once, in every worker)."""
    if data is None or user is None or not user["is_active"] or user["auth_epoch"] != data.auth_epoch:
        return None
    return data, user


class SessionStore(Protocol):
    idle: timedelta

    async def signed_in(self, key: str, *, now: datetime) -> tuple[SessionData, dict] | None:
        """The live session of ``key`` and its user's ``USER_COLUMNS``, read
        fresh on every request (one query with the database store)."""
        ...

    async def create(self, user_id: int, auth_epoch: int, *, now: datetime) -> str: ...

    async def get(self, key: str, *, now: datetime) -> SessionData | None: ...

    async def extend(self, key: str, *, now: datetime) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def close(self) -> None: ...


def needs_extension(data: SessionData, idle: timedelta, now: datetime) -> bool:
    """Extend at most once a minute, not on every request."""
    return data.expires_at - now < idle - timedelta(minutes=1)


EXTEND_EVERY_S = 60.0


class DatabaseSessionStore:
    def __init__(self, idle: timedelta) -> None:
        self.idle = idle
        self._extended: dict[str, float] = {}  # key hash -> when this process last extended it

    async def create(self, user_id: int, auth_epoch: int, *, now: datetime) -> str:
        key = secrets.token_urlsafe(32)
        async with write_transaction():
            await WebSession.insert(
                WebSession(
                    key_hash=_hash(key), user=user_id, auth_epoch=auth_epoch, created_at=now, expires_at=now + self.idle
                )
            )
            # Sign-in is a good moment to sweep this user's expired sessions.
            await WebSession.delete().where((WebSession.user == user_id) & (WebSession.expires_at <= now))
        return key

    async def get(self, key: str, *, now: datetime) -> SessionData | None:
        row = await WebSession.select().where(WebSession.key_hash == _hash(key)).first()
        if row is None or row["expires_at"] <= now:
            return None
        return SessionData(row["user"], row["auth_epoch"], row["created_at"], row["expires_at"])

    async def signed_in(self, key: str, *, now: datetime) -> tuple[SessionData, dict] | None:
        rows = await fetch("SELECT " + _SESSION_USER_SQL, _hash(key))
        if not rows or rows[0]["session_expires"] <= now:
            return None
        row = rows[0]
        data = SessionData(row["id"], row["session_epoch"], row["session_created"], row["session_expires"])
        return _signed_in(data, {c: row[c] for c in USER_COLUMNS})

    async def extend(self, key: str, *, now: datetime) -> None:
        # Every request of a session sees the extension due at the same
        # moment: only the first in this process writes (the others in the
        # same minute would queue for the write lock, seconds under load).
        key_hash = _hash(key)
        started = time.monotonic()
        if started - self._extended.get(key_hash, -EXTEND_EVERY_S) < EXTEND_EVERY_S:
            return
        if len(self._extended) > 10_000:
            self._extended.clear()
        self._extended[key_hash] = started
        try:
            async with write_transaction():
                await WebSession.update({WebSession.expires_at: now + self.idle}).where(WebSession.key_hash == key_hash)
        except BaseException:
            self._extended.pop(key_hash, None)
            raise

    async def delete(self, key: str) -> None:
        async with write_transaction():
            await WebSession.delete().where(WebSession.key_hash == _hash(key))

    async def close(self) -> None:
        return None


class RedisSessionStore:
    prefix = "sigap:session:"

    def __init__(self, url: str, idle: timedelta) -> None:
        from redis.asyncio import Redis

        self.idle = idle
        self.redis = Redis.from_url(url)

    async def create(self, user_id: int, auth_epoch: int, *, now: datetime) -> str:
        key = secrets.token_urlsafe(32)
        data = {"u": user_id, "e": auth_epoch, "c": now.isoformat(), "x": (now + self.idle).isoformat()}
        await self.redis.set(self.prefix + _hash(key), json.dumps(data), ex=int(self.idle.total_seconds()))
        return key

    async def get(self, key: str, *, now: datetime) -> SessionData | None:
        raw = await self.redis.get(self.prefix + _hash(key))
        if raw is None:
            return None
        data = json.loads(raw)
        expires_at = datetime.fromisoformat(data["x"])
        if expires_at <= now:
            return None
        return SessionData(data["u"], data["e"], datetime.fromisoformat(data["c"]), expires_at)

    async def signed_in(self, key: str, *, now: datetime) -> tuple[SessionData, dict] | None:
        data = await self.get(key, now=now)
        if data is None:
            return None
        rows = await fetch("SELECT " + _USER_SQL, data.user_id)
        return _signed_in(data, rows[0] if rows else None)

    async def extend(self, key: str, *, now: datetime) -> None:
        name = self.prefix + _hash(key)
        raw = await self.redis.get(name)
        if raw is None:
            return
        data = json.loads(raw)
        data["x"] = (now + self.idle).isoformat()
        await self.redis.set(name, json.dumps(data), ex=int(self.idle.total_seconds()), xx=True)

    async def delete(self, key: str) -> None:
        await self.redis.delete(self.prefix + _hash(key))

    async def close(self) -> None:
        await self.redis.aclose()

    async def ping(self) -> None:
        await self.redis.ping()


def make_store(redis_url: str | None, idle_minutes: int) -> SessionStore:
    idle = timedelta(minutes=idle_minutes)
    return RedisSessionStore(redis_url, idle) if redis_url else DatabaseSessionStore(idle)

