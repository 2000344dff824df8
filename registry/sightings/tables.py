"""A report of an unregistered LKS, its photo and its outcome."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import (
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.tables import Lks
from sigap.tables import User


class SightingSource(str, Enum):
    partner = "partner"  # kelurahan, kecamatan, Satpol PP officers
    staff = "staff"  # Dinas Sosial
    public = "public"  # a public report triaged into one of these


class SightingOutcome(str, Enum):
    open = "open"
    registered = "registered"
    closed = "closed"
    not_lks = "not_lks"


class Sighting(Table, tablename="registry_sighting"):
    lks = ForeignKey(references=Lks, on_delete=OnDelete.cascade, index=True)
    created_lks = Boolean(default=False)  # this report made the LKS known
    source = Varchar(length=12, choices=SightingSource, index=True)
    source_ref = Varchar(length=64, default="")  # e.g. the public report's tracking code
    reporter = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    reporter_name = Varchar(length=200, default="")
    # What the reporter wrote, as written.
    name = Varchar(length=200)
    address = Text(default="")
    kelurahan_code = Varchar(length=13, index=True)
    kecamatan_code = Varchar(length=13, index=True)
    seen = Text(default="")
    # The optional photo, in the documents storage.
    photo_key = Varchar(length=300, null=True, default=None, unique=True)
    photo_type = Varchar(length=32, default="")
    photo_size = BigInt(default=0)
    photo_sha256 = Varchar(length=64, default="")
    # Staff's outcome.
    outcome = Varchar(length=12, choices=SightingOutcome, default="open", index=True)
    outcome_reason = Text(default="")
    outcome_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    outcome_at = Timestamptz(null=True, default=None)
    # A phone's retry of the same report carries the same id: stored once.
    client_key = Varchar(length=140, null=True, default=None, unique=True)
    version = Integer(default=1)
    created_at = Timestamptz(index=True)
    updated_at = Timestamptz()
