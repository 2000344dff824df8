"""The audit log: one table, one service, called by every write in every
domain inside the write's own transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sigap.db import all_of, fetch_where, select_all, write_transaction
from sigap.tables import AuditEvent, Role

# Never copied into before/after, whatever a caller passes.
SECRET_FIELDS = frozenset({"password", "password_hash", "token", "token_hash", "key_hash"})


@dataclass(frozen=True)
class Actor:
    """Who is acting, from where: passed explicitly to every service."""

    user_id: int | None
    username: str
    role: Role | None = None
    lks_id: int | None = None
    address: str = ""
    request_id: str = ""

    @classmethod
    def system(cls, name: str = "system") -> "Actor":
        return cls(user_id=None, username=name, role=None)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if str(k) not in SECRET_FIELDS}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def snapshot(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A JSON-safe copy of a row without secrets."""
    return None if value is None else _plain(dict(value))


async def record(
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object = "",
    *,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_username: str | None = None,
) -> None:
    """Write one audit event (joins the caller's transaction if any)."""
    before_s, after_s = snapshot(before), snapshot(after)
    if before_s is not None and after_s is not None:
        # Keep only what changed, plus nothing else: small rows, clear diffs.
        changed = {k for k in set(before_s) | set(after_s) if before_s.get(k) != after_s.get(k)}
        before_s = {k: before_s.get(k) for k in sorted(changed)}
        after_s = {k: after_s.get(k) for k in sorted(changed)}
    async with write_transaction():
        await AuditEvent.insert(
            AuditEvent(
                at=now,
                actor_id=actor.user_id,
                actor_username=(actor_username if actor_username is not None else actor.username)[:64],
                action=action,
                entity_type=entity_type,
                entity_id=str(entity_id)[:64],
                before=json.dumps(before_s) if before_s is not None else None,
                after=json.dumps(after_s) if after_s is not None else None,
                address=actor.address[:45],
                request_id=actor.request_id[:64],
            )
        )


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    entity_type: str = ""
    entity_id: str = ""
    since: datetime | None = None
    until: datetime | None = None


async def search(filters: AuditFilter, *, before_id: int | None = None, limit: int = 50) -> list[dict]:
    """Newest first, keyset-paginated by id. (A prebuilt SELECT: the task
    page reads its history on every view, and Piccolo took longer to build
    the query than the database to run it.)"""
    conditions = []
    if filters.actor:
        conditions.append(AuditEvent.actor_username == filters.actor.strip().lower())
    if filters.action:
        conditions.append(AuditEvent.action.like(f"{filters.action.strip()}%"))
    if filters.entity_type:
        conditions.append(AuditEvent.entity_type == filters.entity_type.strip())
    if filters.entity_id:
        conditions.append(AuditEvent.entity_id == filters.entity_id.strip())
    if filters.since:
        conditions.append(AuditEvent.at >= filters.since)
    if filters.until:
        conditions.append(AuditEvent.at < filters.until)
    if before_id:
        conditions.append(AuditEvent.id < before_id)
    condition = all_of(conditions)
    rows = await fetch_where(select_all(AuditEvent), condition, ' ORDER BY "sigap_audit_event"."id" DESC LIMIT {}', limit)
    for row in rows:
        for key in ("before", "after"):
            if isinstance(row[key], str):
                row[key] = json.loads(row[key])
    return rows
