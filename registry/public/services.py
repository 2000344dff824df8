"""The public register and the certificate check: what anyone may read
about an LKS, without signing in.

Which LKS are listed (``LISTED``): those the office has registered or is
registering, whatever became of the registration since (registered,
suspended, expired, revoked, and applications in process). Left out:
``unregistered`` rows (many are reports of homes nobody has verified yet:
naming them publicly would publish a rumour) and ``closed`` ones, which
appear only when someone searches by name (a parent looking for a home that
closed should learn it closed, a browse should not list homes that are gone).

Only ``PUBLIC_COLUMNS`` are ever read here: never residents, documents,
risk, incidents, findings, people's names or contacts.

The check code of a printed Tanda Daftar is an HMAC (the secret key, a
purpose string) of the certificate number and issue date: 11 characters of
Crockford's base-32 alphabet (no I, L, O, U: nothing to confuse when typed)
and a check character that catches a mistyped character or two swapped
neighbours. The code is stored when the PDF is first printed; a code that
is not stored was never printed by this office."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path

from piccolo.columns.combination import WhereRaw

from registry import regions
from registry.labels import ACCREDITATION_LABELS, KIND_LABELS, STATUS_LABELS
from registry.public.tables import IssuedCertificate
from registry.search import FTS_MIN_LENGTH, normalize_text
from registry.tables import Lks, LksKind, RegistrationStatus, StatusChange
from sigap.db import contains, icontains, insert_many, is_sqlite
from sigap.errors import ValidationError
from sigap.i18n import WIB, _, choice_label
from sigap.settings import Settings, get_settings

S = RegistrationStatus
LISTED = (
    S.registered, S.suspended, S.expired, S.revoked, S.applied, S.document_check, S.field_verification,
)
LISTED_WHEN_SEARCHED = (*LISTED, S.closed)
IN_PROCESS = (S.applied, S.document_check, S.field_verification)
IN_PROCESS_STATUS = "in_process"
WITH_VALIDITY = {S.registered.value, S.suspended.value, S.expired.value}  # a revoked or closed one has no validity left
PER_PAGE = 20
MAX_PAGE = 50  # 1,000 results at most: past that, narrow the search
COUNT_CAP = PER_PAGE * MAX_PAGE
MAX_QUERY = 100
PUBLIC_COLUMNS = (
    Lks.id, Lks.name, Lks.kind, Lks.kelurahan_code, Lks.kecamatan_code, Lks.registration_status,
    Lks.registered_on, Lks.valid_until, Lks.accreditation_status, Lks.accreditation_grade, Lks.accreditation_valid_until,
)


def rate_limit_folder(settings: Settings) -> Path:
    """Where the public pages' rate limit counts without Redis (registry.public.http)."""
    return settings.var_dir / "rate-limit"


@dataclass(frozen=True)
class PublicQuery:
    q: str = ""
    kecamatan: str = ""
    kind: str = ""
    page: int = 1

    @classmethod
    def parse(cls, q: str | None, kecamatan: str | None, kind: str | None, page: int | str | None) -> PublicQuery:
        """Lenient: an unknown kind or kecamatan is no filter, a page out of
        range is the nearest one (a public link must never break)."""
        region = get_settings().region
        kecamatan = (kecamatan or "").strip()
        if not (kecamatan.startswith(region + ".") and len(kecamatan) <= 13):
            kecamatan = ""
        kind = kind if kind in LksKind.__members__ else ""
        try:
            number = int(page or 1)
        except (TypeError, ValueError):
            number = 1
        return cls(" ".join((q or "").split())[:MAX_QUERY], kecamatan, kind or "", min(max(number, 1), MAX_PAGE))

    def as_query(self, **changes: object) -> dict[str, str]:
        values = {"q": self.q, "kecamatan": self.kecamatan, "kind": self.kind, "page": str(self.page)}
        values.update({k: str(v) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v and not (k == "page" and v == "1")}


# The name's part of search_text (lower-case, accents removed: "thérèse"
# finds "Thérèse"): search_text is "name | foundation | address | head".
_NAME_PART = {
    "sqlite": "substr(\"registry_lks\".\"search_text\", 1, instr(\"registry_lks\".\"search_text\" || ' | ', ' | ') - 1)"
    " LIKE {} ESCAPE '\\'",
    "postgres": "split_part(\"registry_lks\".\"search_text\", ' | ', 1) LIKE {}",
}


def _like_pattern(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _name_search(query, words: list[str]):
    """Every word occurs in the LKS's name. The search index (FTS5 trigram on
    SQLite, pg_trgm on PostgreSQL) covers search_text (name, foundation,
    address, head's name) and narrows the rows; the test on the name's part
    of search_text then keeps only name matches: a search for a person or
    a street finds nothing."""
    sqlite = is_sqlite()
    indexed = [w for w in words if len(w) >= FTS_MIN_LENGTH]
    if indexed and sqlite:
        match = " AND ".join('"' + w.replace('"', '""') + '"' for w in indexed)
        query = query.where(
            WhereRaw('"registry_lks"."id" IN (SELECT rowid FROM registry_lks_fts WHERE registry_lks_fts MATCH {})', match)
        )
    for word in words:
        if not sqlite:
            query = query.where(contains(Lks.search_text, word))
        if len(word) < FTS_MIN_LENGTH and sqlite:  # not in the trigram index: the name, in its covering index
            query = query.where(icontains(Lks.name, word))
        else:
            query = query.where(WhereRaw(_NAME_PART["sqlite" if sqlite else "postgres"], _like_pattern(word)))
    return query


def _filtered(query, pq: PublicQuery):
    words = normalize_text(pq.q).split()[:5]
    statuses = LISTED_WHEN_SEARCHED if words else LISTED
    query = query.where(Lks.registration_status.is_in([s.value for s in statuses]))
    if words:
        query = _name_search(query, words)
    if pq.kecamatan:
        query = query.where(Lks.kecamatan_code == pq.kecamatan)
    if pq.kind:
        query = query.where(Lks.kind == pq.kind)
    return query


def _item(row: dict, names: dict[str, str], today: date) -> dict:
    status = row["registration_status"]
    if status == S.registered.value and row["valid_until"] and row["valid_until"] < today:
        status = S.expired.value  # before the nightly job has caught up
    in_process = status in {s.value for s in IN_PROCESS}
    if in_process:  # the steps of an application are the office's business
        status = IN_PROCESS_STATUS
    accredited = row["accreditation_status"] == "accredited" and row["accreditation_grade"]
    return {
        "id": row["id"],
        "name": row["name"],
        "kind": row["kind"],
        "kind_label": choice_label(KIND_LABELS, row["kind"]),
        "kelurahan": names.get(row["kelurahan_code"], row["kelurahan_code"]),
        "kecamatan": names.get(row["kecamatan_code"], row["kecamatan_code"]),
        "kecamatan_code": row["kecamatan_code"],
        "registration_status": status,
        "registration_label": _("Registration in process") if in_process else choice_label(STATUS_LABELS, status),
        "registered_on": row["registered_on"] if status in WITH_VALIDITY else None,
        "valid_until": row["valid_until"] if status in WITH_VALIDITY else None,
        "accreditation_status": row["accreditation_status"],
        "accreditation_label": choice_label(ACCREDITATION_LABELS, row["accreditation_status"]),
        "accreditation_grade": row["accreditation_grade"] if accredited else None,
        "accreditation_valid_until": row["accreditation_valid_until"] if accredited else None,
    }


async def search_register(pq: PublicQuery, *, now: datetime) -> dict:
    """One page of the public register, by name, with at most 1,000 results
    counted (``total_capped`` says there are more).

    Browsing (no words): the count and the page walk the name index (on
    SQLite a covering index that holds the filters too). Searching: the
    matches come from the search index in no useful order, so one statement
    takes the first 1,001 of them (stopping there, never reading and sorting
    thousands of rows for a common word) and they are sorted by name here;
    past 1,000 matches the pages show 1,000 of them and ask for a narrower
    search. Plus one statement for the region names (cached per process)."""
    today = now.astimezone(WIB).date()
    words = normalize_text(pq.q).split()[:5]
    if words and max(len(w) for w in words) < FTS_MIN_LENGTH:
        # No search index serves it: every row would be read. A name has a word of 3 letters.
        message = _("Type at least 3 letters of the name.")
        raise ValidationError(message, fields={"q": message})
    if words:
        matched = await _filtered(Lks.select(*PUBLIC_COLUMNS), pq).limit(COUNT_CAP + 1)
        total = len(matched)
        matched = sorted(matched[:COUNT_CAP], key=lambda r: (normalize_text(r["name"]), r["id"]))
        pages = max(1, -(-len(matched) // PER_PAGE))
        page = min(pq.page, pages)
        rows = matched[(page - 1) * PER_PAGE : page * PER_PAGE]
    else:
        total = len(await _filtered(Lks.select(Lks.id), pq).limit(COUNT_CAP + 1))
        pages = max(1, -(-min(total, COUNT_CAP) // PER_PAGE))
        page = min(pq.page, pages)
        rows = []
        if total:
            rows = await (
                _filtered(Lks.select(*PUBLIC_COLUMNS), pq)
                .order_by(Lks.name)
                .order_by(Lks.id)
                .limit(PER_PAGE)
                .offset((page - 1) * PER_PAGE)
            )
    names = await regions.region_names({r["kecamatan_code"] for r in rows} | {r["kelurahan_code"] for r in rows})
    return {
        "items": [_item(r, names, today) for r in rows],
        "total": min(total, COUNT_CAP),
        "total_capped": total > COUNT_CAP,
        "page": page,
        "pages": pages,
        "per_page": PER_PAGE,
    }


async def kecamatan_choices() -> list[dict]:
    return await regions.districts(get_settings().region)


# --- certificate check codes -------------------------------------------------

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32
CODE_LENGTH = 12  # 11 from the HMAC (55 bits) + 1 check character
PURPOSE = b"sigap/tanda-daftar-check/v1"
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _check_char(body: str) -> str:
    # Odd weights are invertible mod 32: any one wrong character changes the
    # sum; two swapped neighbours change it unless they differ by 16.
    total = sum((2 * i + 1) * ALPHABET.index(ch) for i, ch in enumerate(body))
    return ALPHABET[total % 32]


def code_for(certificate_number: str, issued_on: date, secret_key: str | None = None) -> str:
    key = hmac.new((secret_key or get_settings().secret_key).encode(), PURPOSE, hashlib.sha256).digest()
    digest = hmac.new(key, f"{certificate_number}\x00{issued_on.isoformat()}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big") >> (64 - 55)
    body = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(11)))
    return body + _check_char(body)


def display_code(code: str) -> str:
    """``ABCD-EFGH-JKMN``: how the code is printed and read aloud."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalize_code(typed: str) -> str | None:
    """The code as stored, from what a person typed (any case, spaces,
    dashes, O for 0, I or L for 1); None when it cannot be a code."""
    cleaned = "".join(ch for ch in (typed or "")[:64].upper() if ch not in " -.\t").translate(_TYPED)
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    if _check_char(cleaned[:-1]) != cleaned[-1]:
        return None
    return cleaned


async def code_for_certificate(lks: dict, *, now: datetime) -> str:
    """The check code of the LKS's current Tanda Daftar, stored on first use
    (insert-or-ignore: two prints at once store it once)."""
    code = code_for(lks["certificate_number"], lks["registered_on"])
    await insert_many(
        IssuedCertificate,
        [IssuedCertificate.lks, IssuedCertificate.certificate_number, IssuedCertificate.issued_on,
         IssuedCertificate.valid_until, IssuedCertificate.code, IssuedCertificate.created_at],
        [(lks["id"], lks["certificate_number"], lks["registered_on"], lks["valid_until"], code, now)],
        conflict=IssuedCertificate.code,
    )
    return code


# Results of a check.
VALID, EXPIRED, SUSPENDED, REVOKED, SUPERSEDED, CLOSED = "valid", "expired", "suspended", "revoked", "superseded", "closed"
NOT_GENUINE, MISTYPED = "not_genuine", "mistyped"


async def verify(token: str, *, now: datetime) -> dict:
    """What a scanned or typed code says about its certificate. At most two
    statements; a code that is malformed or unknown says "not genuine"."""
    code = normalize_code(token)
    if code is None:
        return {"genuine": False, "status": MISTYPED, "code": None}
    rows = await IssuedCertificate.select(
        IssuedCertificate.certificate_number, IssuedCertificate.issued_on, IssuedCertificate.valid_until,
        IssuedCertificate.lks.id, IssuedCertificate.lks.name, IssuedCertificate.lks.registration_status,
        IssuedCertificate.lks.certificate_number, IssuedCertificate.lks.registered_on, IssuedCertificate.lks.valid_until,
    ).where(IssuedCertificate.code == code).output(nested=True)
    if not rows:
        return {"genuine": False, "status": NOT_GENUINE, "code": display_code(code)}
    row = rows[0]
    lks = row["lks"]
    today = now.astimezone(WIB).date()
    result = {
        "genuine": True,
        "code": display_code(code),
        "lks_name": lks["name"],
        "certificate_number": row["certificate_number"],
        "issued_on": row["issued_on"],
        "valid_until": row["valid_until"],
        "superseded_by_number": None,
        "superseded_on": None,
    }
    current = lks["certificate_number"] == row["certificate_number"] and lks["registered_on"] == row["issued_on"]
    if current:
        status = lks["registration_status"]
        result["valid_until"] = lks["valid_until"]
        if status == S.suspended.value:
            result["status"] = SUSPENDED
        elif status == S.closed.value:
            result["status"] = CLOSED
        elif lks["valid_until"] is None or lks["valid_until"] < today or status == S.expired.value:
            result["status"] = EXPIRED
        else:
            result["status"] = VALID
        return result
    # No longer the LKS's current certificate: the first approval (a renewal)
    # or revocation after its issue says which ended it.
    issued_at = datetime.combine(row["issued_on"], time.min, tzinfo=WIB).astimezone(timezone.utc)
    events = await (
        StatusChange.select(StatusChange.at, StatusChange.action)
        .where(
            (StatusChange.lks == lks["id"])
            & (StatusChange.action.is_in(["approve", "revoke"]))
            & (StatusChange.at >= issued_at)
        )
        .order_by(StatusChange.at)
    )
    later = [e for e in events if not (e["action"] == "approve" and e["at"].astimezone(WIB).date() <= row["issued_on"])]
    if later and later[0]["action"] == "approve" or (not later and lks["certificate_number"]):
        result["status"] = SUPERSEDED
        if lks["certificate_number"] and lks["registered_on"] and lks["registered_on"] > row["issued_on"]:
            result["superseded_by_number"] = lks["certificate_number"]
            result["superseded_on"] = lks["registered_on"]
    else:
        result["status"] = REVOKED
    return result
