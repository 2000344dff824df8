"""A tamper-evident audit log: every event is chained to the one before it
by a SHA-256 over its content and the previous hash.

Writes never wait for the chain: ``audit.record`` inserts as before, and the
``audit-seal`` job (every minute, and at start-up) gives the new events
their place (``seq``) in id order and their hash, one sealer at a time (the
SQLite write lock; a PostgreSQL advisory lock). ``sigap audit verify``
recomputes the chain and names the first event that no longer matches: an
edited row, a removed one (a gap in ``seq``) or a reordered one. Removing
the newest events leaves no gap: writing down the last hash that
``sigap audit verify`` prints, somewhere else, is what catches that."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sigap.db import get_engine, is_sqlite, write_transaction
from sigap.tables import AuditEvent

SEAL_BATCH = 5000  # events sealed per run (a minute's worth, many times over)
PAGE = 2000
ADVISORY_LOCK_KEY = 7_136_712  # "SIGAP audit seal"
FIELDS = (
    AuditEvent.id, AuditEvent.at, AuditEvent.actor_id, AuditEvent.actor_username, AuditEvent.action,
    AuditEvent.entity_type, AuditEvent.entity_id, AuditEvent.before, AuditEvent.after, AuditEvent.address,
    AuditEvent.request_id,
)


def event_hash(row: dict, seq: int, prev_hash: str) -> str:
    """SHA-256 of the previous hash and the event's content, in a fixed form."""
    content = {
        "seq": seq, "id": row["id"], "at": row["at"].isoformat(), "actor_id": row["actor_id"],
        "actor_username": row["actor_username"], "action": row["action"], "entity_type": row["entity_type"],
        "entity_id": row["entity_id"], "before": row["before"], "after": row["after"], "address": row["address"],
        "request_id": row["request_id"],
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()


async def _last_link() -> tuple[int, str]:
    row = await AuditEvent.select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.is_not_null()).order_by(
        AuditEvent.seq, ascending=False).first()
    return (row["seq"], row["hash"]) if row else (0, "")


async def seal(*, now: datetime) -> int:
    """Chain the events not sealed yet, in id order; returns how many. Safe
    to run twice or at once in two processes: one waits for the other."""
    async with write_transaction():
        if not is_sqlite():
            await get_engine().run_ddl(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")
        seq, prev = await _last_link()
        rows = await AuditEvent.select(*FIELDS).where(AuditEvent.seq.is_null()).order_by(AuditEvent.id).limit(SEAL_BATCH)
        for row in rows:
            seq += 1
            link = event_hash(row, seq, prev)
            await AuditEvent.update({AuditEvent.seq: seq, AuditEvent.prev_hash: prev, AuditEvent.hash: link}).where(
                AuditEvent.id == row["id"])
            prev = link
    return len(rows)


@dataclass
class Verdict:
    checked: int
    unsealed: int
    broken_at: dict | None = None  # {"seq", "id", "problem"}
    last_hash: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


async def verify() -> Verdict:
    """Walk the chain in ``seq`` order and recompute every hash."""
    expected_seq, prev, checked = 1, "", 0
    after = 0
    while True:
        page = await AuditEvent.select(*FIELDS, AuditEvent.seq, AuditEvent.hash).where(
            (AuditEvent.seq.is_not_null()) & (AuditEvent.seq > after)).order_by(AuditEvent.seq).limit(PAGE)
        if not page:
            break
        for row in page:
            if row["seq"] != expected_seq:
                return Verdict(checked, await _unsealed(), {"seq": expected_seq, "id": row["id"],
                                                            "problem": f"event number {expected_seq} is missing"})
            if event_hash(row, row["seq"], prev) != row["hash"]:
                return Verdict(checked, await _unsealed(), {"seq": row["seq"], "id": row["id"],
                                                            "problem": "its content does not match its hash"})
            prev, expected_seq, checked = row["hash"], expected_seq + 1, checked + 1
        after = page[-1]["seq"]
    return Verdict(checked, await _unsealed(), None, prev)


async def _unsealed() -> int:
    return await AuditEvent.count().where(AuditEvent.seq.is_null())
