"""The registry: regions, LKS records, registration applications and their
history, and documents."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Real,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from sigap.tables import User


class RegionLevel(str, Enum):
    province = "province"
    regency = "regency"
    district = "district"  # kecamatan
    village = "village"  # kelurahan / desa


class Region(Table, tablename="registry_region"):
    """Kemendagri region codes: 36 · 36.71 · 36.71.11 · 36.71.11.1005."""

    code = Varchar(length=13, unique=True, index=True)
    parent_code = Varchar(length=13, null=True, default=None, index=True)
    level = Varchar(length=10, choices=RegionLevel, index=True)
    name = Varchar(length=100)


class LksKind(str, Enum):
    lksa = "lksa"  # children (panti asuhan)
    elderly = "elderly"
    disability = "disability"
    rehabilitation = "rehabilitation"  # social rehabilitation / NAPZA
    other = "other"


class RegistrationStatus(str, Enum):
    unregistered = "unregistered"
    applied = "applied"
    document_check = "document_check"
    field_verification = "field_verification"
    registered = "registered"
    expired = "expired"
    suspended = "suspended"
    revoked = "revoked"
    closed = "closed"


class AccreditationStatus(str, Enum):
    none = "none"
    in_process = "in_process"
    accredited = "accredited"
    expired = "expired"


class RiskLevel(str, Enum):
    high = "high"
    medium = "medium"
    low = "low"


class Lks(Table, tablename="registry_lks"):
    # Besides the index=True columns below, the registry migration
    # 2026-11-22T12:30 indexes search_text (FTS5 trigram on SQLite, pg_trgm on
    # PostgreSQL) and updated_at; on SQLite it replaces the low-cardinality
    # single-column indexes with covering indexes for the list (see there why).
    name = Varchar(length=200, index=True)
    kind = Varchar(length=16, choices=LksKind, index=True)
    # Operator: a legal entity (yayasan / perkumpulan) or "not a legal entity".
    legal_entity = Boolean(default=True)
    yayasan_name = Varchar(length=200, default="")
    akta_number = Varchar(length=100, default="")
    akta_date = Date(null=True, default=None)
    sk_kemenkumham_number = Varchar(length=100, default="")
    npwp = Varchar(length=16, default="")
    # Where it is.
    address = Text(default="")
    rt = Varchar(length=3, default="")
    rw = Varchar(length=3, default="")
    kelurahan_code = Varchar(length=13, index=True)
    kecamatan_code = Varchar(length=13, index=True)
    latitude = Real(null=True, default=None)
    longitude = Real(null=True, default=None)
    # Who to reach.
    phone = Varchar(length=20, default="")
    email = Varchar(length=254, default="")
    head_name = Varchar(length=200, default="")
    # People: counts only, never identities.
    capacity = Integer(default=0)
    residents = JSON(default="{}")  # {"m_0_5": n, "f_0_5": n, ... "m_18": n, "f_18": n}
    residents_total = Integer(default=0)
    staff_caregivers = Integer(default=0)
    staff_social_workers = Integer(default=0)
    staff_other = Integer(default=0)
    services = JSON(default="[]")  # list of service codes
    # Statuses.
    registration_status = Varchar(length=20, choices=RegistrationStatus, default="unregistered", index=True)
    status_reason = Text(default="")  # why the last status change happened (shown to the manager)
    certificate_number = Varchar(length=64, null=True, default=None, unique=True)
    registered_on = Date(null=True, default=None)
    valid_until = Date(null=True, default=None, index=True)
    accreditation_status = Varchar(length=12, choices=AccreditationStatus, default="none", index=True)
    accreditation_grade = Varchar(length=1, null=True, default=None)
    accreditation_valid_until = Date(null=True, default=None)
    # Not written since 2026-11-30 (kept: migrations are additive): the risk
    # level lives in LksRisk below; read it through registry.risk_cache.
    risk_level = Varchar(length=6, choices=RiskLevel, null=True, default=None, index=True)
    open_incident = Boolean(default=False, index=True)
    documents_complete = Boolean(default=False, index=True)
    # Bookkeeping.
    search_text = Text(default="")  # lower-case, accent-free name + yayasan + address
    version = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class LksRisk(Table, tablename="registry_lks_risk"):
    """The LKS's risk level (high / medium / low), derived by joint
    monitoring's daily assessment and written only through
    ``registry.risk_cache``: one narrow row per assessed LKS. It is kept off
    the wide registry_lks row on purpose: the daily plan rewrites tens of
    thousands of levels, and every rewrite of an LKS row costs each index of
    that table (13 on PostgreSQL, four covering ones on SQLite), here one."""

    lks = ForeignKey(references=Lks, on_delete=OnDelete.cascade, unique=True)
    level = Varchar(length=6, choices=RiskLevel)


class ApplicationKind(str, Enum):
    new = "new"
    renewal = "renewal"


class ApplicationStep(str, Enum):
    applied = "applied"
    document_check = "document_check"
    field_verification = "field_verification"
    approved = "approved"
    rejected = "rejected"


class Application(Table, tablename="registry_application"):
    """One registration or renewal request of an LKS, from submission to decision."""

    lks = ForeignKey(references=Lks, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=8, choices=ApplicationKind)
    step = Varchar(length=20, choices=ApplicationStep, index=True)
    opened_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)
    # The LKS status when the application opened, restored if it is rejected.
    status_before = Varchar(length=20, default="unregistered")


class StatusChange(Table, tablename="registry_status_change"):
    """The registration history of an LKS, as shown on its page."""

    lks = ForeignKey(references=Lks, on_delete=OnDelete.cascade, index=True)
    application = ForeignKey(references=Application, null=True, default=None, on_delete=OnDelete.set_null)
    at = Timestamptz(index=True)
    action = Varchar(length=32)
    from_status = Varchar(length=20)
    to_status = Varchar(length=20)
    reason = Text(default="")
    actor = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    actor_name = Varchar(length=200, default="")


class DocumentStatus(str, Enum):
    pending = "pending"
    verified = "verified"
    rejected = "rejected"
    superseded = "superseded"


class Document(Table, tablename="registry_document"):
    lks = ForeignKey(references=Lks, on_delete=OnDelete.cascade, index=True)
    doc_type = Varchar(length=32, index=True)
    status = Varchar(length=12, choices=DocumentStatus, default="pending", index=True)
    filename = Varchar(length=255)
    content_type = Varchar(length=100)
    size = BigInt()
    sha256 = Varchar(length=64)
    storage_key = Varchar(length=300, unique=True)
    expires_on = Date(null=True, default=None, index=True)
    uploaded_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    uploaded_at = Timestamptz()
    reviewed_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    reviewed_at = Timestamptz(null=True, default=None)
    review_reason = Text(default="")
    superseded_at = Timestamptz(null=True, default=None)
    # A tablet's retry of the same upload carries the same id: stored once.
    client_key = Varchar(length=120, null=True, default=None, unique=True)
