"""A report from the public and what staff made of it. The text, the photo
and the reporter's contact are restricted: staff and admins only, each read
audited, never on a public page or in a log."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import BigInt, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspections.incidents.tables import Incident
from registry.sightings.tables import Sighting
from registry.tables import Lks
from sigap.tables import User


class Triage(str, Enum):
    """What staff made of a report ("" while nobody has triaged it)."""

    incident = "incident"
    sighting = "sighting"  # an unregistered-LKS report
    closed = "closed"


class PublicReport(Table, tablename="inspections_public_report"):
    # The tracking code the reporter keeps (unguessable, 10 characters).
    code = Varchar(length=10, unique=True, index=True)
    # The LKS picked from the public register, or the place as described.
    lks = ForeignKey(references=Lks, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    place_name = Varchar(length=200, default="")
    place_address = Text(default="")
    kelurahan_code = Varchar(length=13, default="")
    kecamatan_code = Varchar(length=13, default="")
    # Restricted: what happened, the photo and the contact.
    what = Text()
    photo_key = Varchar(length=300, null=True, default=None, unique=True)
    photo_type = Varchar(length=32, default="")
    photo_size = BigInt(default=0)
    contact_name = Varchar(length=100, default="")
    contact_phone = Varchar(length=32, default="")
    contact_email = Varchar(length=200, default="")
    # Per-address submission limit: an HMAC of the address, never the address.
    sender_key = Varchar(length=32, default="", index=True)
    # The form's one-time id: the same form sent twice is stored once.
    client_key = Varchar(length=64, null=True, default=None, unique=True)
    received_at = Timestamptz(index=True)
    # Triage: once, by one member of staff (version check under a row lock);
    # a report leads to at most one incident and one sighting (unique keys).
    triage = Varchar(length=10, default="", index=True)
    incident = ForeignKey(references=Incident, null=True, default=None, on_delete=OnDelete.set_null, unique=True)
    sighting = ForeignKey(references=Sighting, null=True, default=None, on_delete=OnDelete.set_null, unique=True)
    close_reason = Text(default="")
    triaged_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    triaged_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
