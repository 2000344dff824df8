"""E-mail for every domain: an outbox table sent over SMTP.

A domain that mails users keeps an outbox table (one row per message, with
the columns of :class:`Outbox`), puts messages in it with
:meth:`Outbox.enqueue` (insert-or-ignore by a unique key: a job that runs
twice queues a message once) and has a job call :meth:`Outbox.send_pending`.

Sending: through ``SIGAP_SMTP_URL`` (``smtp://``, ``smtp+starttls://`` or
``smtps://``, optional ``user:password@``) with smtplib in a worker thread;
without it the message goes to the ``sigap.mail`` log (the embedded default;
the log line names no address).

Each message is sent at most once, even by two jobs at once: a sender first
*claims* the row with one conditional UPDATE (``sent_at`` set, ``attempts``
+1, ``last_error = 'sending'`` WHERE ``sent_at IS NULL`` and ``attempts`` is
what it read), in its own write transaction; only the job whose UPDATE
changed the row sends it. The network call happens outside any transaction.
Success keeps ``sent_at`` (now the send time) and clears ``last_error``; a
failure puts ``sent_at`` back to NULL and stores the error (never the SMTP
password) for a later run to retry, at most 5 attempts spread over about two
hours. A claim left behind by a process that died mid-send is released after
15 minutes (that message may then go twice: the only case, and preferable to
losing it)."""

from __future__ import annotations

import functools
import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_datetime
from email.utils import parseaddr
from typing import Any
from urllib.parse import unquote, urlsplit

import anyio.to_thread

from sigap.db import write_transaction
from sigap.settings import Settings

log = logging.getLogger("sigap.mail")

MAX_ATTEMPTS = 5
# The n-th attempt may start this long after the message was created.
RETRY_AFTER = (timedelta(0), timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
CLAIM_LEASE = timedelta(minutes=15)
SENDING = "sending"  # last_error of a claimed row
SMTP_TIMEOUT_S = 30
BATCH = 500


class PermanentFailure(Exception):
    """Retrying cannot help (no address, account deactivated, bad URL)."""


def smtp_send(url: str, message: EmailMessage) -> None:
    """Send one message through the server of an SMTP URL (blocking: run it
    in a worker thread)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname or "localhost"
    starttls = scheme in ("smtp+starttls", "submission")
    if scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            host, parts.port or 465, timeout=SMTP_TIMEOUT_S, context=ssl.create_default_context()
        )
    elif scheme in ("smtp", "smtp+starttls", "submission"):
        client = smtplib.SMTP(host, parts.port or (587 if starttls else 25), timeout=SMTP_TIMEOUT_S)
    else:
        raise PermanentFailure(f"unsupported SMTP URL scheme {scheme!r}")
    with client:
        client.ehlo()
        if starttls:
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)


def error_text(exc: BaseException, smtp_url: str | None) -> str:
    """What went wrong, without secrets: the password never, nor the URL."""
    text = f"{type(exc).__name__}: {exc}"
    if smtp_url:
        parts = urlsplit(smtp_url)
        for secret in {parts.password or "", unquote(parts.password or "")} - {""}:
            text = text.replace(secret, "***")
    return text[:500]


def build_message(*, sender: str, to: str, subject: str, body: str, key: str, now: datetime, language: str) -> EmailMessage:
    """A plain-text message. ``key`` (the outbox row's unique key) makes a
    stable Message-ID: a receiving server can recognise a resend."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = rfc2822_datetime(now)
    message["Message-ID"] = f"<sigap-{key.replace(':', '-')}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    message["Content-Language"] = language  # after set_content, which clears Content-*
    return message


class Outbox:
    """The outbox kept in ``table``: a Piccolo table with ``user`` (a foreign
    key to ``sigap.tables.User``), ``kind``, ``unique_key`` (unique),
    ``subject``, ``body``, ``created_at``, ``sent_at`` (null until sent),
    ``attempts`` and ``last_error``."""

    def __init__(self, table: Any) -> None:
        self.table = table

    async def queued_keys(self, keys: list[str]) -> set[str]:
        """Which of ``keys`` are in the outbox already (sent or not)."""
        t = self.table
        found: set[str] = set()
        for start in range(0, len(keys), BATCH):
            batch = keys[start : start + BATCH]
            found.update(r["unique_key"] for r in await t.select(t.unique_key).where(t.unique_key.is_in(batch)))
        return found

    async def purge(self, *, before: datetime) -> int:
        """Delete messages sent, or given up on, before ``before`` (their
        text repeats alert details; nothing reads them after). Messages still
        to be tried are kept whatever their age."""
        t = self.table
        done = t.sent_at.is_not_null() & (t.sent_at < before)
        given_up = t.sent_at.is_null() & (t.attempts >= MAX_ATTEMPTS) & (t.created_at < before)
        async with write_transaction():
            return len(await t.delete().where(done | given_up).returning(t.id))

    async def enqueue(self, *, user_id: int, kind: str, key: str, subject: str, body: str, now: datetime) -> bool:
        """Queue a message unless one with ``key`` is queued already; True
        when this call queued it."""
        t = self.table
        async with write_transaction():
            rows = await t.insert(
                t(user=user_id, kind=kind, unique_key=key, subject=subject[:200], body=body,
                  created_at=now, sent_at=None, attempts=0, last_error="")
            ).on_conflict(target=t.unique_key, action="DO NOTHING").returning(t.id)
        return bool(rows)

    async def _claim(self, row: dict, now: datetime) -> bool:
        t = self.table
        async with write_transaction():
            claimed = await t.update(
                {t.sent_at: now, t.attempts: row["attempts"] + 1, t.last_error: SENDING}
            ).where((t.id == row["id"]) & t.sent_at.is_null() & (t.attempts == row["attempts"])).returning(t.id)
        return bool(claimed)

    async def _release_stale_claims(self, now: datetime) -> None:
        t = self.table
        rows = await t.select(t.id, t.sent_at).where((t.last_error == SENDING) & t.sent_at.is_not_null())
        for row in rows:
            if row["sent_at"] + CLAIM_LEASE > now:
                continue
            async with write_transaction():
                await t.update({t.sent_at: None, t.last_error: "interrupted while sending"}).where(
                    (t.id == row["id"]) & (t.last_error == SENDING) & (t.sent_at == row["sent_at"])
                )

    async def _deliver(self, row: dict, now: datetime, settings: Settings) -> None:
        if not row["user_active"]:
            raise PermanentFailure("the account is deactivated")
        if not (row["email"] or "").strip():
            raise PermanentFailure("the account has no e-mail address")
        message = build_message(
            sender=settings.mail_from, to=row["email"].strip(), subject=row["subject"], body=row["body"],
            key=row["unique_key"], now=now, language=row.get("locale") or "id",
        )
        if settings.smtp_url:
            await anyio.to_thread.run_sync(functools.partial(smtp_send, settings.smtp_url, message))
        else:
            # The embedded default: no mail server, the log shows the
            # message (no address: the log holds no personal data).
            log.info(
                "mail (no SMTP server configured)",
                extra={"notification_id": row["id"], "user_id": row["user"], "subject": row["subject"], "body": row["body"]},
            )

    async def send_pending(self, *, now: datetime, settings: Settings) -> tuple[int, int]:
        """Send the unsent messages that are due; returns (sent, failed)."""
        t = self.table
        await self._release_stale_claims(now)
        candidates = await t.select(t.id, t.attempts, t.created_at).where(
            t.sent_at.is_null() & (t.attempts < MAX_ATTEMPTS)
        ).order_by(t.id)
        sent = failed = 0
        for candidate in candidates:
            if now < candidate["created_at"] + RETRY_AFTER[min(candidate["attempts"], len(RETRY_AFTER) - 1)]:
                continue
            if not await self._claim(candidate, now):
                continue  # another job has it
            row = await t.select(
                *t.all_columns(), t.user.email.as_alias("email"), t.user.is_active.as_alias("user_active"),
                t.user.locale.as_alias("locale"),
            ).where(t.id == candidate["id"]).first()
            try:
                await self._deliver(row, now, settings)
            except Exception as exc:  # noqa: BLE001 - recorded, retried on a later run
                failed += 1
                attempts = MAX_ATTEMPTS if isinstance(exc, PermanentFailure) else row["attempts"]
                async with write_transaction():
                    await t.update(
                        {t.sent_at: None, t.attempts: attempts, t.last_error: error_text(exc, settings.smtp_url)}
                    ).where((t.id == row["id"]) & (t.last_error == SENDING))
                level = logging.ERROR if attempts >= MAX_ATTEMPTS else logging.WARNING
                log.log(level, "mail not sent", extra={"notification_id": row["id"], "attempts": attempts,
                                                       "error": type(exc).__name__, "given_up": attempts >= MAX_ATTEMPTS})
            else:
                sent += 1
                async with write_transaction():
                    await t.update({t.sent_at: now, t.last_error: ""}).where(t.id == row["id"])
        return sent, failed
