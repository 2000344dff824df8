"""The public side of reports: the signed form token (minimum fill time),
the honeypot, the per-address limit, the checks of a report, storing it
with its photo under an unguessable tracking code, and the status anyone
holding the code may see (received, being handled, closed, with dates:
nothing else). Plain async functions taking ``now``; no HTTP."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, BinaryIO

import anyio.to_thread
from itsdangerous import BadSignature, TimestampSigner

from inspections.planning.services import today_wib
from inspections.public_reports.photo import clean_photo
from inspections.public_reports.tables import PublicReport, Triage
from registry import regions
from registry.documents import StorageUnavailable
from registry.services import CONTROL_CHARS
from registry.sightings.tables import SightingOutcome
from registry.tables import Lks
from sigap import audit
from sigap.audit import Actor
from sigap.db import unique_violation, write_transaction
from sigap.errors import NotFound, Throttled, ValidationError
from sigap.i18n import N_, _
from sigap.storage import Storage, StorageError

log = logging.getLogger("sigap.inspections")

# Tracking codes: 10 characters from 31 that cannot be mistaken for one
# another (no 0/O, 1/I/L): about 49 bits, never guessed, easy to read aloud.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
MIN_FILL_SECONDS = 4  # a person needs longer than this to fill the form
FORM_MAX_AGE = timedelta(hours=24)
REPORTS_PER_HOUR = 5  # per address, on top of the public pages' rate limit
WHAT_MIN, WHAT_MAX = 10, 4000
PHONE = re.compile(r"\+?[0-9][0-9 ()\-]{5,24}")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{2,}")
HONEYPOT = "website"

STATUS_LABELS = {
    "received": N_("Received"),
    "handling": N_("Being handled"),
    "closed": N_("Report closed"),
}


class Refused(ValidationError):
    """The form looks automated (honeypot) or came back too fast: nothing stored."""

    code = "refused"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None, renew: bool = False) -> None:
        super().__init__(message, fields=fields)
        self.renew = renew  # the form needs a new token (expired or forged)


@dataclass
class Photo:
    filename: str
    fileobj: BinaryIO


# --- form token and code ---------------------------------------------------------


class _Signer(TimestampSigner):
    def __init__(self, secret: str, now: datetime) -> None:
        super().__init__(secret, salt="sigap.public-report.form")
        self._now = now

    def get_timestamp(self) -> int:
        return int(self._now.timestamp())


def form_token(secret: str, *, now: datetime) -> str:
    """A fresh form's token: a one-time id and the time the form was made,
    signed with the secret key (itsdangerous)."""
    return _Signer(secret, now).sign(secrets.token_urlsafe(12)).decode()


def check_form_token(token: str, secret: str, *, now: datetime, min_fill_s: int = MIN_FILL_SECONDS) -> str:
    """The form's one-time id, or Refused when the token is missing, forged,
    too old, or the form came back faster than a person could fill it."""
    try:
        nonce, made = _Signer(secret, now).unsign(str(token or "")[:200], return_timestamp=True)
    except BadSignature:
        raise Refused(
            _("This form has expired or was changed, so the report was not saved. Reload the page and send it again."),
            fields={"form": _("Reload the page and send the report again.")}, renew=True,
        ) from None
    age = now - made.astimezone(timezone.utc)
    if age > FORM_MAX_AGE:
        raise Refused(
            _("This form was opened more than a day ago, so the report was not saved. Reload the page and send it again."),
            fields={"form": _("Reload the page and send the report again.")}, renew=True,
        )
    if age < timedelta(seconds=min_fill_s):
        raise Refused(
            _("The report was sent too quickly after the form was opened, so it was not saved. Check what you wrote and send it again."),
            fields={"form": _("Sent too quickly: check the report and send it again.")},
        )
    return nonce.decode()


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str | None:
    """A code as people type it (any case, spaces or dashes), or None."""
    code = re.sub(r"[\s\-.]", "", str(text or "")[:40]).upper()
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def display_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def sender_key(address: str, secret: str) -> str:
    return hmac.new(secret.encode(), b"public-report\x00" + address.encode(), hashlib.sha256).hexdigest()[:32]


# --- checking and storing -------------------------------------------------------


def _text(data: dict, key: str, limit: int) -> str:
    text = CONTROL_CHARS.sub("", str(data.get(key) or "")).strip()
    return text[: limit + 1]


async def check_report(data: dict[str, Any]) -> dict[str, Any]:
    """The checked fields of a report, or ValidationError naming each problem."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    what = _text(data, "what", WHAT_MAX)
    if not (WHAT_MIN <= len(what) <= WHAT_MAX):
        errors["what"] = _("Describe what happened (%(min)s to %(max)s characters).", min=WHAT_MIN, max=WHAT_MAX)
    values["what"] = what
    raw_lks = str(data.get("lks_id") or "").strip()
    lks = None
    if raw_lks:
        if raw_lks.isdigit() and len(raw_lks) < 10:
            lks = await Lks.select(Lks.id, Lks.registration_status).where(Lks.id == int(raw_lks)).first()
        if lks is None or lks["registration_status"] == "unregistered":
            errors["lks_id"] = _("Choose an LKS from the register, or describe the place below.")
    values["lks_id"] = lks["id"] if lks else None
    name, address = _text(data, "place_name", 200), _text(data, "place_address", 500)
    if lks is None and not errors.get("lks_id"):
        if not (3 <= len(name) <= 200):
            errors["place_name"] = _("Write the name of the place, or what people call it (3 to 200 characters).")
        if not (5 <= len(address) <= 500):
            errors["place_address"] = _("Write the address or how to find the place (5 to 500 characters).")
    values["place_name"], values["place_address"] = (name[:200], address[:500]) if lks is None else ("", "")
    kelurahan = str(data.get("kelurahan_code") or "").strip()[:13]
    village = await regions.village(kelurahan) if kelurahan and lks is None else None
    if kelurahan and lks is None and village is None:
        errors["kelurahan_code"] = _("Choose a kelurahan from the list, or leave it empty if you do not know it.")
    values["kelurahan_code"] = kelurahan if village else ""
    values["kecamatan_code"] = village["parent_code"] if village else ""
    contact_name = _text(data, "contact_name", 100)
    if len(contact_name) > 100:
        errors["contact_name"] = _("At most 100 characters.")
    phone = _text(data, "contact_phone", 32)
    if phone and not PHONE.fullmatch(phone):
        errors["contact_phone"] = _("Write a phone number with digits only, for example 0812 3456 7890.")
    email = _text(data, "contact_email", 200)
    if email and (len(email) > 200 or not EMAIL.fullmatch(email)):
        errors["contact_email"] = _("Write an e-mail address such as nama@contoh.id, or leave it empty.")
    values.update(contact_name=contact_name[:100], contact_phone=phone[:32], contact_email=email[:200])
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    return values


async def _by_client_key(client_key: str) -> dict | None:
    return await PublicReport.select(PublicReport.id, PublicReport.code).where(PublicReport.client_key == client_key).first()


async def _throttle(key: str, *, now: datetime, per_hour: int) -> None:
    since = now - timedelta(hours=1)
    recent = await PublicReport.select(PublicReport.received_at).where(
        (PublicReport.sender_key == key) & (PublicReport.received_at > since)
    ).order_by(PublicReport.received_at).limit(per_hour)
    if len(recent) >= per_hour:
        retry = recent[0]["received_at"] + timedelta(hours=1)
        raise Throttled(
            _("You have sent %(num)s reports in the last hour. Please wait before sending another; reports already sent are kept.",
              num=per_hour),
            retry_at=retry, retry_after_s=max(1, int((retry - now).total_seconds())),
        )


async def submit(
    data: dict[str, Any], *, now: datetime, address: str, secret: str, storage: Storage, max_photo_bytes: int,
    photo: Photo | None = None, min_fill_s: int = MIN_FILL_SECONDS, per_hour: int = REPORTS_PER_HOUR,
) -> tuple[dict, bool]:
    """Store a report from the public; returns ({"id", "code"}, created).
    The same form sent again (a double tap, a retry) returns the first."""
    if str(data.get(HONEYPOT) or "").strip():
        raise Refused(_("This report looks automated and was not saved. If you filled it in yourself, reload the page and send it again."),
                      fields={"form": _("Reload the page and send the report again.")})
    client_key = check_form_token(str(data.get("form_token") or ""), secret, now=now, min_fill_s=min_fill_s)
    if (existing := await _by_client_key(client_key)) is not None:
        return existing, False
    values = await check_report(data)
    key = sender_key(address, secret)
    await _throttle(key, now=now, per_hour=per_hour)
    stored = None
    if photo is not None:
        checked = await anyio.to_thread.run_sync(clean_photo, photo.fileobj, max_photo_bytes)
        stored = {"photo_key": f"public-reports/{uuid.uuid4().hex}.{checked['ext']}", "photo_type": checked["content_type"],
                  "photo_size": checked["size"]}
        try:
            await storage.put(stored["photo_key"], checked["fileobj"])
        except StorageError as exc:
            log.error("public report photo storage write failed", extra={"error": type(exc).__name__})
            raise StorageUnavailable(_("Photo storage is unavailable right now; nothing was saved. Please try again later.")) from exc
    try:
        row = await _write(values, stored, client_key, key, now=now, address=address, per_hour=per_hour)
    except BaseException as exc:
        if stored is not None:
            try:
                await storage.delete(stored["photo_key"])
            except StorageError:
                log.error("orphan public report photo left in storage")
        if unique_violation(exc) and (existing := await _by_client_key(client_key)) is not None:
            return existing, False  # the same form arrived twice at once
        raise
    return row, True


async def _write(values: dict, stored: dict | None, client_key: str, key: str, *, now: datetime, address: str,
                 per_hour: int) -> dict:
    actor = Actor(user_id=None, username="public", address=address)
    async with write_transaction():
        await _throttle(key, now=now, per_hour=per_hour)  # again, now that writers queue
        for _attempt in range(5):
            code = new_code()
            if not await PublicReport.exists().where(PublicReport.code == code):
                break
        report = PublicReport(
            code=code, lks=values["lks_id"], place_name=values["place_name"], place_address=values["place_address"],
            kelurahan_code=values["kelurahan_code"], kecamatan_code=values["kecamatan_code"], what=values["what"],
            contact_name=values["contact_name"], contact_phone=values["contact_phone"], contact_email=values["contact_email"],
            sender_key=key, client_key=client_key, received_at=now, **(stored or {}),
        )
        await report.save()
        # The audit trail names the report, never its text or contact.
        await audit.record(actor, "public_report.create", "public_report", report.id, now=now, after={
            "lks": values["lks_id"], "kelurahan_code": values["kelurahan_code"], "photo": stored is not None,
            "contact": bool(values["contact_name"] or values["contact_phone"] or values["contact_email"]),
        })
    return {"id": report.id, "code": code}


async def picked_lks(lks_id: int) -> dict | None:
    """The LKS a reporter picked, as the public register names it."""
    row = await Lks.select(Lks.id, Lks.name, Lks.kelurahan_code, Lks.registration_status).where(Lks.id == lks_id).first()
    if row is None or row["registration_status"] == "unregistered":
        return None
    row["kelurahan_name"] = (await regions.region_names({row["kelurahan_code"]})).get(row["kelurahan_code"], "")
    return row


# --- status -------------------------------------------------------------------------


def _wib(moment: datetime | None) -> date | None:
    return today_wib(moment) if moment else None


def derive_status(row: dict) -> tuple[str, datetime | None]:
    """(status, closed_at): an incident or a sighting closes the report when
    it is closed itself."""
    triage = row["triage"]
    if not triage:
        return "received", None
    if triage == Triage.closed.value:
        return "closed", row["triaged_at"]
    if triage == Triage.incident.value and row.get("incident_status") == "closed":
        return "closed", row.get("incident_closed_at")
    if triage == Triage.sighting.value and row.get("sighting_outcome") not in (None, SightingOutcome.open.value):
        return "closed", row.get("sighting_outcome_at")
    return "handling", None


STATUS_COLUMNS = (
    PublicReport.triage, PublicReport.triaged_at, PublicReport.received_at,
    PublicReport.incident.status.as_alias("incident_status"), PublicReport.incident.closed_at.as_alias("incident_closed_at"),
    PublicReport.sighting.outcome.as_alias("sighting_outcome"), PublicReport.sighting.outcome_at.as_alias("sighting_outcome_at"),
)


async def public_status(code: str) -> dict:
    """What anyone holding the code may know: the status and its dates
    (WIB), nothing about the report, the place or the people. One query."""
    normalized = normalize_code(code)
    row = await PublicReport.select(PublicReport.code, *STATUS_COLUMNS).where(PublicReport.code == normalized).first() if normalized else None
    if row is None:
        raise NotFound(_("No report has this code. Check each character of the code and try again."))
    status, closed_at = derive_status(row)
    return {
        "code": row["code"], "status": status, "received_on": _wib(row["received_at"]),
        "handled_on": _wib(row["triaged_at"]), "closed_on": _wib(closed_at),
    }
