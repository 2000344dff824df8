"""Retention (UU PDP 27/2022: keep personal data no longer than needed).
The daily ``retention`` job deletes what has served its purpose:

- expired sessions: a session past its end is useless and names a user;
- sign-in attempts after ``SIGAP_RETENTION_LOGIN_DAYS`` (90): long enough to
  look into an attack, then gone (they hold usernames and addresses);
- and what the domains add through the ``RETENTION`` hook: staged import
  files after a day (the registry), sent or abandoned e-mails after
  ``SIGAP_RETENTION_OUTBOX_DAYS`` (30; they repeat alert texts).

Audit events and documents are records of the office's work and are not
deleted here. Each purge is idempotent: running twice deletes nothing more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sigap.db import write_transaction
from sigap.settings import Settings, get_settings
from sigap.storage import Storage, make_storage
from sigap.tables import LoginAttempt, WebSession
from sigap.wiring import Wiring

RETENTION = "sigap.retention"  # hook: async (now, settings, storage) -> {what: rows deleted}
Purge = Callable[[datetime, Settings, Storage], Awaitable[dict[str, int]]]


async def _count_deleted(query) -> int:
    return len(await query.returning(query.table._meta.primary_key))


async def purge_shell(now: datetime, settings: Settings, storage: Storage) -> dict[str, int]:
    async with write_transaction():
        sessions = await _count_deleted(WebSession.delete().where(WebSession.expires_at <= now))
        attempts = await _count_deleted(
            LoginAttempt.delete().where(LoginAttempt.at < now - timedelta(days=settings.retention_login_days)))
    return {"sessions": sessions, "login_attempts": attempts}


def job(wiring: Wiring) -> Callable[..., Awaitable[str]]:
    """The ``retention`` job over the shell's purge and every contributed one."""

    async def retention(*, now: datetime) -> str:
        settings = get_settings()
        storage = make_storage(settings.storage_url, settings.s3_endpoint_url)
        deleted: dict[str, int] = {}
        try:
            for purge in [purge_shell, *wiring.hook(RETENTION)]:
                deleted.update(await purge(now, settings, storage))
        finally:
            storage.close()
        return ", ".join(f"{what}: {n}" for what, n in sorted(deleted.items()))

    return retention
