"""The audit log is tamper-evident: each event is chained to the previous
one by a hash; an edited, removed or reordered row is found by
``sigap audit verify``."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

from sigap import audit, audit_chain
from sigap.audit import Actor
from sigap.db import get_engine
from sigap.tables import AuditEvent
from tests.conftest import ROOT

ACTOR = Actor(user_id=None, username="uji")


def now():
    return datetime.now(timezone.utc)


def events(call, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        call(audit.record, ACTOR, "lks.update", "lks", i, now=now(), before={"name": f"A{i}"}, after={"name": f"B{i}"})


def verify_cli() -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sigap.cli", "audit", "verify"], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_sealing_chains_every_event_once(call):
    events(call, 5)
    assert call(audit_chain.seal, now=now()) == 5
    assert call(audit_chain.seal, now=now()) == 0  # twice is harmless
    events(call, 3, start=5)
    assert call(audit_chain.seal, now=now()) == 3
    rows = call(AuditEvent.select(AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash).order_by(AuditEvent.seq).run)
    assert [r["seq"] for r in rows] == list(range(1, 9))
    assert all(r["prev_hash"] == p["hash"] for p, r in zip(rows, rows[1:]))
    verdict = call(audit_chain.verify)
    assert verdict.intact and verdict.checked == 8 and verdict.unsealed == 0 and verdict.last_hash == rows[-1]["hash"]
    done = verify_cli()
    assert done.returncode == 0 and "utuh: 8 peristiwa" in done.stdout


def test_an_edited_row_breaks_the_chain_there(call):
    events(call, 6)
    call(audit_chain.seal, now=now())
    target = call(AuditEvent.select(AuditEvent.id).where(AuditEvent.seq == 4).first().run)["id"]
    call(get_engine().run_ddl, f"UPDATE sigap_audit_event SET after = '{{\"name\": \"dipalsukan\"}}' WHERE id = {target}")
    verdict = call(audit_chain.verify)
    assert not verdict.intact and verdict.broken_at["id"] == target and verdict.checked == 3
    done = verify_cli()
    assert done.returncode == 1 and f"peristiwa {target} (nomor 4)" in done.stderr


def test_a_removed_row_is_a_gap(call):
    events(call, 6)
    call(audit_chain.seal, now=now())
    call(get_engine().run_ddl, "DELETE FROM sigap_audit_event WHERE seq = 2")
    verdict = call(audit_chain.verify)
    assert not verdict.intact and verdict.broken_at["seq"] == 2 and "missing" in verdict.broken_at["problem"]
