"""Documents of an LKS: types and the required set per kind, upload (type
from the content, size limit, SHA-256, one store write and one database row,
never one without the other), supersession with history, review, download
after an access check."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
import zipfile
from datetime import date, datetime
from typing import BinaryIO

import anyio.to_thread

from registry.access import ensure_can_see, is_staff, lks_exists
from registry.tables import Document, DocumentStatus, Lks, LksKind
from sigap import audit
from sigap.audit import Actor
from sigap.db import fetch, lock_row, select_all, unique_violation, write_transaction
from sigap.errors import Conflict, DomainError, Forbidden, NotFound, ValidationError
from sigap.i18n import N_, WIB, _
from sigap.storage import ObjectNotFound, Storage, StorageError

log = logging.getLogger("sigap.registry")

DOCUMENT_TYPES = {
    "akta_pendirian": N_("Deed of establishment (akta pendirian)"),
    "sk_kemenkumham": N_("SK Kemenkumham (legal entity approval)"),
    "ad_art": N_("Articles of association (AD/ART)"),
    "org_structure": N_("Organisation structure with board IDs"),
    "domicile": N_("Domicile letter or NIB"),
    "npwp": N_("NPWP (tax number)"),
    "bank_account": N_("Bank account"),
    "service_programme": N_("Service programme"),
    "client_list": N_("List of clients"),
    "staff_list": N_("List of staff"),
    "asset_inventory": N_("Asset inventory"),
    "site_plan": N_("Site plan"),
    "recommendation": N_("Kelurahan / kecamatan recommendation"),
    "signed_statement": N_("Signed statement"),
    "activity_report": N_("Activity report"),
    "accreditation_certificate": N_("Accreditation certificate"),
    "accreditation_evidence": N_("Evidence for the accreditation self-assessment"),
    "photo": N_("Photos"),
    "finding_evidence": N_("Evidence for a finding"),
    "other": N_("Other document"),
}
_BASE = (
    "org_structure", "domicile", "npwp", "bank_account", "service_programme", "client_list", "staff_list",
    "asset_inventory", "site_plan", "recommendation", "signed_statement",
)
_LEGAL = ("akta_pendirian", "sk_kemenkumham", "ad_art")
# Homes where people live get their premises photographed as well.
REQUIRED_BY_KIND = {
    LksKind.lksa.value: _BASE + ("photo",),
    LksKind.elderly.value: _BASE + ("photo",),
    LksKind.disability.value: _BASE + ("photo",),
    LksKind.rehabilitation.value: _BASE + ("photo",),
    LksKind.other.value: _BASE,
}

ACCEPTED = {
    "pdf": ("application/pdf", "PDF"),
    "jpg": ("image/jpeg", "JPEG"),
    "png": ("image/png", "PNG"),
    "webp": ("image/webp", "WebP"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
}
CHUNK = 1024 * 1024
# Types kept side by side: a new upload adds one; any other type replaces the current one.
ACCUMULATING_TYPES = frozenset({"photo", "other", "activity_report", "finding_evidence", "accreditation_evidence"})


def type_label(doc_type: str) -> str:
    return _(DOCUMENT_TYPES.get(doc_type, doc_type))


def verified_replaceable(docs: list[dict]) -> list[str]:
    """Labels of the verified documents a new upload of the same type would
    replace (it then waits for review again)."""
    return [type_label(t) for t in DOCUMENT_TYPES if t not in ACCUMULATING_TYPES and any(
        d["doc_type"] == t and d["status"] == DocumentStatus.verified.value for d in docs)]


def required_types(kind: str, legal_entity: bool) -> tuple[str, ...]:
    base = REQUIRED_BY_KIND.get(kind, _BASE)
    return (_LEGAL + base) if legal_entity else base


def sniff(fileobj: BinaryIO) -> str | None:
    """The file's real type from its first bytes (and, for DOCX/XLSX, its
    zip directory), whatever its name says. Leaves the position at 0."""
    fileobj.seek(0)
    head = fileobj.read(16)
    fileobj.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(fileobj) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, EOFError):
            return None
        finally:
            fileobj.seek(0)
        if "[Content_Types].xml" in names:
            if "word/document.xml" in names:
                return "docx"
            if "xl/workbook.xml" in names:
                return "xlsx"
    return None


def safe_filename(name: str, ext: str) -> str:
    """A display name without paths or control characters, with the right extension."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f\"<>|:*?]", "", base).strip(" .") or "dokumen"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem[:150]}.{ext}"


def _digest_and_size(fileobj: BinaryIO) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    fileobj.seek(0)
    while chunk := fileobj.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    fileobj.seek(0)
    return digest.hexdigest(), size


def public_document(row: dict) -> dict:
    return {k: row[k] for k in (
        "id", "lks", "doc_type", "status", "filename", "content_type", "size", "sha256", "expires_on",
        "uploaded_by", "uploaded_at", "reviewed_by", "reviewed_at", "review_reason", "superseded_at",
    )}


class StorageUnavailable(DomainError):
    status_code = 503
    code = "storage_unavailable"


async def upload(
    actor: Actor,
    lks_id: int,
    *,
    doc_type: str,
    filename: str,
    fileobj: BinaryIO,
    now: datetime,
    storage: Storage,
    max_bytes: int,
    expires_on: date | None = None,
    client_id: str | None = None,
) -> tuple[dict, bool]:
    """Store a new document; returns (row, created). A retry with the same
    ``client_id`` returns the first upload instead of storing it again."""
    ensure_can_see(actor, lks_id)
    if not await lks_exists(lks_id):
        raise NotFound(_("LKS not found."))
    if doc_type not in DOCUMENT_TYPES:
        raise ValidationError(_("Choose the document type."), fields={"doc_type": _("Choose the document type.")})
    client_key = None
    if client_id:
        if not re.fullmatch(r"[A-Za-z0-9._:-]{8,100}", client_id):
            raise ValidationError(_("The client id must be 8 to 100 letters, digits or . _ : -"))
        client_key = f"{lks_id}:{client_id}"
        existing = await Document.select().where(Document.client_key == client_key).first()
        if existing is not None:
            return existing, False
    if expires_on is not None and expires_on < now.astimezone(WIB).date():
        raise ValidationError(_("The expiry date is already past."), fields={"expires_on": _("Already past.")})

    digest, size = await anyio.to_thread.run_sync(_digest_and_size, fileobj)
    if size == 0:
        raise ValidationError(_("The file is empty."), fields={"file": _("The file is empty.")})
    if size > max_bytes:
        raise ValidationError(
            _("The file is larger than %(mb)s MB.", mb=max_bytes // (1024 * 1024)),
            fields={"file": _("Too large.")},
        )
    ext = await anyio.to_thread.run_sync(sniff, fileobj)
    if ext is None:
        raise ValidationError(
            _("This file type is not accepted. Upload a PDF, JPEG, PNG, WebP, DOCX or XLSX file."),
            fields={"file": _("Type not accepted.")},
        )
    content_type = ACCEPTED[ext][0]
    key = f"lks/{lks_id}/{uuid.uuid4().hex}.{ext}"
    try:
        await storage.put(key, fileobj)
    except StorageError as exc:
        log.error("document storage write failed", extra={"error": type(exc).__name__, "lks_id": lks_id})
        raise StorageUnavailable(
            _("Document storage is unavailable right now; nothing was saved. Please try again later.")
        ) from exc
    try:
        async with write_transaction():
            previous = await Document.select(Document.id).where(
                (Document.lks == lks_id) & (Document.doc_type == doc_type) & (Document.status != DocumentStatus.superseded.value)
            )
            if previous and doc_type not in ACCUMULATING_TYPES:
                await Document.update({Document.status: DocumentStatus.superseded.value, Document.superseded_at: now}).where(
                    Document.id.is_in([p["id"] for p in previous])
                )
            document = Document(
                lks=lks_id,
                doc_type=doc_type,
                status=DocumentStatus.pending.value,
                filename=safe_filename(filename, ext),
                content_type=content_type,
                size=size,
                sha256=digest,
                storage_key=key,
                expires_on=expires_on,
                uploaded_by=actor.user_id,
                uploaded_at=now,
                client_key=client_key,
            )
            await document.save()
            row = await Document.select().where(Document.id == document.id).first()
            await _refresh_completeness(lks_id, now.astimezone(WIB).date())
            await audit.record(actor, "document.upload", "document", document.id, now=now, after=public_document(row))
    except BaseException as exc:
        # The row did not land: the stored object must not stay behind.
        try:
            await storage.delete(key)
        except StorageError:
            log.error("orphan document object left in storage", extra={"key": key})
        if client_key is not None and unique_violation(exc):
            # A concurrent copy of this upload (same client id) was stored first.
            stored = await Document.select().where(Document.client_key == client_key).first()
            if stored is not None:
                return stored, False
        raise
    return row, True


async def get_document(actor: Actor, document_id: int) -> dict:
    row = await Document.select().where(Document.id == document_id).first()
    if row is None:
        raise NotFound(_("Document not found."))
    try:
        ensure_can_see(actor, row["lks"])
    except NotFound:
        raise NotFound(_("Document not found.")) from None
    return row


async def open_for_download(actor: Actor, document_id: int, *, storage: Storage, now: datetime) -> tuple[dict, BinaryIO]:
    """The document row and its content opened for reading, after the access
    check; every download is audited (client lists carry children's personal
    data). Opened before anything is sent: a missing object or unreachable
    storage is a clear error, not a response broken after its headers."""
    row = await get_document(actor, document_id)
    await audit.record(actor, "document.download", "document", document_id, now=now)
    try:
        reader = await storage.open(row["storage_key"])
    except ObjectNotFound as exc:
        raise NotFound(_("The file of this document is missing from storage.")) from exc
    except StorageError as exc:
        raise StorageUnavailable(_("Document storage is unavailable right now. Please try again later.")) from exc
    return row, reader


async def review(actor: Actor, document_id: int, *, verdict: str, reason: str = "", now: datetime) -> dict:
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can verify documents."))
    reason = " ".join((reason or "").split())[:1000]
    if verdict not in ("verified", "rejected"):
        raise ValidationError(_("Choose verify or reject."))
    if verdict == "rejected" and len(reason) < 5:
        raise ValidationError(
            _("Give a reason (at least 5 characters): the LKS manager will see it."), fields={"reason": _("Required.")}
        )
    async with write_transaction():
        await lock_row(Document, document_id)
        before = await get_document(actor, document_id)
        if before["status"] == DocumentStatus.superseded.value:
            raise Conflict(_("A newer upload has replaced this document; review that one instead."))
        await Document.update(
            {
                Document.status: verdict,
                Document.review_reason: reason if verdict == "rejected" else "",
                Document.reviewed_by: actor.user_id,
                Document.reviewed_at: now,
            }
        ).where(Document.id == document_id)
        after = await Document.select().where(Document.id == document_id).first()
        await _refresh_completeness(before["lks"], now.astimezone(WIB).date())
        await audit.record(
            actor, f"document.{'verify' if verdict == 'verified' else 'reject'}", "document", document_id, now=now,
            before=public_document(before), after=public_document(after),
        )
    return after


def _reason_error() -> str:
    return _("Give a reason (at least 5 characters): the LKS manager will see it.")


async def review_many(actor: Actor, lks_id: int, verdicts: dict[int, tuple[str, str]], *, now: datetime) -> list[dict]:
    """Verify or reject several documents of one LKS in one pass
    (``{document id: (verdict, reason)}``). Every verdict is checked first;
    a rejection without a reason is named on that document's own reason
    field (``reason-<id>``) and nothing is saved; then all are written in
    one transaction, each audited."""
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can verify documents."))
    ensure_can_see(actor, lks_id)
    if not verdicts:
        raise ValidationError(_("Choose verify or reject for at least one document; nothing was saved."))
    clean: dict[int, tuple[str, str]] = {}
    errors: dict[str, str] = {}
    for document_id, (verdict, reason) in verdicts.items():
        reason = " ".join((reason or "").split())[:1000]
        if verdict not in ("verified", "rejected"):
            errors[f"verdict-{document_id}"] = _("Choose verify or reject.")
        elif verdict == "rejected" and len(reason) < 5:
            errors[f"reason-{document_id}"] = _reason_error()
        else:
            clean[document_id] = (verdict, reason if verdict == "rejected" else "")
    if errors:
        raise ValidationError(
            _("Some reviews need your attention (marked below); nothing was saved."), fields=errors
        )
    ids = sorted(clean)
    async with write_transaction():
        await lock_row(Lks, lks_id)
        before = {r["id"]: r for r in await Document.select().where(Document.id.is_in(ids) & (Document.lks == lks_id))}
        if len(before) != len(ids):
            raise NotFound(_("Document not found."))
        replaced = [r["filename"] for r in before.values() if r["status"] == DocumentStatus.superseded.value]
        if replaced:
            raise Conflict(
                _("A newer upload has replaced %(names)s; nothing was saved. Review the newer one instead.", names=", ".join(replaced))
            )
        for document_id in ids:
            verdict, reason = clean[document_id]
            await Document.update(
                {Document.status: verdict, Document.review_reason: reason, Document.reviewed_by: actor.user_id, Document.reviewed_at: now}
            ).where(Document.id == document_id)
        after = await Document.select().where(Document.id.is_in(ids)).order_by(Document.id)
        await _refresh_completeness(lks_id, now.astimezone(WIB).date())
        for row in after:
            await audit.record(
                actor, f"document.{'verify' if row['status'] == 'verified' else 'reject'}", "document", row["id"], now=now,
                before=public_document(before[row["id"]]), after=public_document(row),
            )
    return after


async def list_documents(actor: Actor, lks_id: int, *, include_superseded: bool = False) -> list[dict]:
    ensure_can_see(actor, lks_id)
    # The LKS page reads these on every view: the statement is built once.
    where = '"registry_document"."lks" = {}'
    args: list = [lks_id]
    if not include_superseded:
        where += ' AND "registry_document"."status" <> {}'
        args.append(DocumentStatus.superseded.value)
    return await fetch(
        f'{select_all(Document)} WHERE {where} ORDER BY "registry_document"."uploaded_at" DESC, "registry_document"."id" DESC', *args
    )


def _current_by_type(rows: list[dict]) -> dict[str, dict]:
    current: dict[str, dict] = {}
    for row in rows:
        if row["status"] == DocumentStatus.superseded.value:
            continue
        if row["doc_type"] not in current or row["uploaded_at"] > current[row["doc_type"]]["uploaded_at"]:
            current[row["doc_type"]] = row
    return current


async def checklist(lks: dict, *, today: date, documents: list[dict] | None = None) -> list[dict]:
    """One line per required type: the current document and its state.
    ``documents``: every document of the LKS, when the caller has them."""
    if documents is None:
        rows = await Document.select().where(Document.lks == lks["id"])
    else:  # in the order the query above gives (ties of uploaded_at: the first one wins)
        rows = sorted(documents, key=lambda row: row["id"])
    current = _current_by_type(rows)
    items = []
    for doc_type in required_types(lks["kind"], lks["legal_entity"]):
        doc = current.get(doc_type)
        if doc is None:
            state = "missing"
        elif doc["expires_on"] is not None and doc["expires_on"] < today:
            state = "expired"
        else:
            state = doc["status"]
        items.append({"doc_type": doc_type, "label": type_label(doc_type), "state": state, "document": doc})
    return items


async def missing_required(lks_id: int, *, today: date) -> list[str]:
    lks = await Lks.select(Lks.id, Lks.kind, Lks.legal_entity).where(Lks.id == lks_id).first()
    return [item["doc_type"] for item in await checklist(lks, today=today) if item["state"] != DocumentStatus.verified.value]


async def _refresh_completeness(lks_id: int, today: date) -> None:
    complete = not await missing_required(lks_id, today=today)
    await Lks.update({Lks.documents_complete: complete}).where(Lks.id == lks_id)


async def refresh_completeness(lks_id: int, *, today: date) -> None:
    async with write_transaction():
        await _refresh_completeness(lks_id, today)
