"""The notify job (every minute): builds the daily alert digest of each user
and sends the e-mail outbox (:class:`inspections.tables.Notification`).

Digests: from 07:00 WIB, one per active user with an e-mail address and at
least one open, unacknowledged alert they may see, keyed
``digest:{user}:{YYYY-MM-DD}`` (insert-or-ignore: built once a day however
often or concurrently the job runs). A user without alerts at 07:00 who gets
one later that day receives the digest then. Subject and body are in the
user's language; they list alert titles, LKS names and links only, never an
incident's description or anything about residents.

Sending: through ``SIGAP_SMTP_URL`` (``smtp://``, ``smtp+starttls://`` or
``smtps://``, optional ``user:password@``) with smtplib in a worker thread;
without it the message goes to the ``sigap.mail`` log (the embedded default).

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
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_datetime
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

import anyio.to_thread

from inspections import alerts
from inspections.tables import Notification, Severity
from sigap.audit import Actor
from sigap.db import write_transaction
from sigap.i18n import WIB, _, format_date, format_datetime, ngettext, use_locale
from sigap.settings import Settings, get_settings
from sigap.tables import Role, User

log = logging.getLogger("sigap.mail")

DIGEST_HOUR = 7  # WIB
DIGEST_MAX_ITEMS = 50
MAX_ATTEMPTS = 5
# The n-th attempt may start this long after the message was created.
RETRY_AFTER = (timedelta(0), timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
CLAIM_LEASE = timedelta(minutes=15)
SENDING = "sending"
SMTP_TIMEOUT_S = 30
BATCH = 500


def base_url() -> str:
    return get_settings().base_url


def mail_from() -> str:
    return get_settings().mail_from


@dataclass
class NotifyResult:
    digests: int = 0
    sent: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.digests} digests built, {self.sent} messages sent, {self.failed} failed"


async def notify(*, now: datetime, settings: Settings | None = None) -> NotifyResult:
    settings = settings or get_settings()
    result = NotifyResult()
    result.digests = await build_digests(now=now)
    result.sent, result.failed = await send_pending(now=now, smtp_url=settings.smtp_url)
    return result




# --- digests ----------------------------------------------------------------------

SEVERITY_ORDER = (Severity.critical.value, Severity.high.value, Severity.medium.value, Severity.low.value)


def digest_key(user_id: int, now: datetime) -> str:
    return f"digest:{user_id}:{now.astimezone(WIB).date().isoformat()}"


def render_digest(items: list[dict], *, total: int, now: datetime) -> tuple[str, str]:
    """Subject and plain-text body in the current language: the first
    ``DIGEST_MAX_ITEMS`` of ``items`` (most urgent first) out of ``total``."""
    base = base_url()
    total = max(total, len(items))
    subject = ngettext(
        "SIGAP: %(num)s alert needs your attention", "SIGAP: %(num)s alerts need your attention", total
    )
    lines = [
        _("SIGAP daily digest, %(date)s", date=format_date(now)),
        "",
        _("These alerts are open and you have not acknowledged them yet (as of %(time)s):", time=format_datetime(now)),
    ]
    shown = items[:DIGEST_MAX_ITEMS]
    for severity in SEVERITY_ORDER:
        group = [a for a in shown if a["severity"] == severity]
        if not group:
            continue
        lines += ["", f"{alerts.severity_label(severity).upper()} ({len(group)})"]
        for a in group:
            lines.append(f"- {a['title']}" + (f" — {a['lks_name']}" if a["lks_name"] else ""))
            if a["link"]:
                lines.append(f"  {base}{a['link']}")
    if total > len(shown):
        lines += ["", ngettext("…and %(num)s more alert.", "…and %(num)s more alerts.", total - len(shown))]
    lines += [
        "",
        _("All your alerts: %(url)s", url=f"{base}/alerts"),
        "",
        "-- ",
        _("You receive this e-mail because your SIGAP account has this address. "
          "Acknowledge an alert in SIGAP to leave it out of the next digest."),
    ]
    return subject, "\n".join(lines) + "\n"


async def build_digests(*, now: datetime) -> int:
    """Today's digest for every user who has none yet and has alerts to read."""
    if now.astimezone(WIB).hour < DIGEST_HOUR:
        return 0
    users = await User.select(User.id, User.username, User.role, User.lks_id, User.locale).where(
        (User.is_active == True) & User.email.is_not_null() & (User.email != "")  # noqa: E712
    ).order_by(User.id)
    keys = {digest_key(u["id"], now): u for u in users}
    done: set[str] = set()
    key_list = list(keys)
    for start in range(0, len(key_list), BATCH):
        batch = key_list[start : start + BATCH]
        done.update(r["unique_key"] for r in await Notification.select(Notification.unique_key).where(Notification.unique_key.is_in(batch)))
    built = 0
    for key, user in keys.items():
        if key in done:
            continue
        try:
            role = Role(user["role"])
        except ValueError:
            continue
        actor = Actor(user_id=user["id"], username=user["username"], role=role, lks_id=user["lks_id"])
        try:
            with use_locale(user["locale"] or "id"):
                items = await alerts.inbox(actor, now=now, limit=DIGEST_MAX_ITEMS)
                if not items:
                    continue
                total = await alerts.unacknowledged_count(actor)
                subject, body = render_digest(items, total=total, now=now)
            async with write_transaction():
                rows = await Notification.insert(
                    Notification(user=user["id"], kind="digest", unique_key=key, subject=subject[:200], body=body,
                                 created_at=now, sent_at=None, attempts=0, last_error="")
                ).on_conflict(target=Notification.unique_key, action="DO NOTHING").returning(Notification.id)
            built += len(rows)
        except Exception:  # one user's digest must not stop the others'
            log.exception("digest not built", extra={"user_id": user["id"]})
    return built


# --- sending ------------------------------------------------------------------------


class PermanentFailure(Exception):
    """Retrying cannot help (no address, account deactivated)."""


def _smtp_send(url: str, message: EmailMessage) -> None:
    """Send one message (blocking: run it in a worker thread)."""
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


def _error_text(exc: BaseException, smtp_url: str | None) -> str:
    """What went wrong, without secrets: the password never, nor the URL."""
    text = f"{type(exc).__name__}: {exc}"
    if smtp_url:
        parts = urlsplit(smtp_url)
        for secret in {parts.password or "", unquote(parts.password or "")} - {""}:
            text = text.replace(secret, "***")
    return text[:500]


def _message(row: dict, address: str, now: datetime) -> EmailMessage:
    sender = mail_from()
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = address
    message["Subject"] = row["subject"]
    message["Date"] = rfc2822_datetime(now)
    # Stable: a receiving server can recognise a resend of the same message.
    message["Message-ID"] = f"<sigap-{row['unique_key'].replace(':', '-')}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row["body"])
    message["Content-Language"] = row.get("locale") or "id"  # after set_content, which clears Content-*
    return message


async def _claim(row: dict, now: datetime) -> bool:
    async with write_transaction():
        claimed = await Notification.update(
            {Notification.sent_at: now, Notification.attempts: row["attempts"] + 1, Notification.last_error: SENDING}
        ).where(
            (Notification.id == row["id"]) & Notification.sent_at.is_null() & (Notification.attempts == row["attempts"])
        ).returning(Notification.id)
    return bool(claimed)


async def _release_stale_claims(now: datetime) -> None:
    rows = await Notification.select(Notification.id, Notification.sent_at).where(
        (Notification.last_error == SENDING) & Notification.sent_at.is_not_null()
    )
    for row in rows:
        if row["sent_at"] + CLAIM_LEASE > now:
            continue
        async with write_transaction():
            await Notification.update({Notification.sent_at: None, Notification.last_error: "interrupted while sending"}).where(
                (Notification.id == row["id"]) & (Notification.last_error == SENDING) & (Notification.sent_at == row["sent_at"])
            )


async def send_pending(*, now: datetime, smtp_url: str | None) -> tuple[int, int]:
    """Send the unsent messages that are due; returns (sent, failed)."""
    await _release_stale_claims(now)
    candidates = await Notification.select(
        Notification.id, Notification.attempts, Notification.created_at
    ).where(Notification.sent_at.is_null() & (Notification.attempts < MAX_ATTEMPTS)).order_by(Notification.id)
    sent = failed = 0
    for candidate in candidates:
        if now < candidate["created_at"] + RETRY_AFTER[min(candidate["attempts"], len(RETRY_AFTER) - 1)]:
            continue
        if not await _claim(candidate, now):
            continue  # another job has it
        row = await Notification.select(
            *Notification.all_columns(), Notification.user.email.as_alias("email"),
            Notification.user.is_active.as_alias("user_active"), Notification.user.locale.as_alias("locale"),
        ).where(Notification.id == candidate["id"]).first()
        try:
            if not row["user_active"]:
                raise PermanentFailure("the account is deactivated")
            if not (row["email"] or "").strip():
                raise PermanentFailure("the account has no e-mail address")
            message = _message(row, row["email"].strip(), now)
            if smtp_url:
                await anyio.to_thread.run_sync(functools.partial(_smtp_send, smtp_url, message))
            else:
                # The embedded default: no mail server, the log shows the
                # message (no address: the log holds no personal data).
                log.info(
                    "mail (no SMTP server configured)",
                    extra={"notification_id": row["id"], "user_id": row["user"], "subject": row["subject"], "body": row["body"]},
                )
        except Exception as exc:  # noqa: BLE001 - recorded, retried on a later run
            failed += 1
            attempts = MAX_ATTEMPTS if isinstance(exc, PermanentFailure) else row["attempts"]
            async with write_transaction():
                await Notification.update(
                    {Notification.sent_at: None, Notification.attempts: attempts,
                     Notification.last_error: _error_text(exc, smtp_url)}
                ).where((Notification.id == row["id"]) & (Notification.last_error == SENDING))
            level = logging.ERROR if attempts >= MAX_ATTEMPTS else logging.WARNING
            log.log(level, "mail not sent", extra={"notification_id": row["id"], "attempts": attempts,
                                                   "error": type(exc).__name__, "given_up": attempts >= MAX_ATTEMPTS})
        else:
            sent += 1
            async with write_transaction():
                await Notification.update({Notification.sent_at: now, Notification.last_error: ""}).where(
                    Notification.id == row["id"]
                )
    return sent, failed
