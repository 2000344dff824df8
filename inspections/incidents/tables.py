"""Incidents (abuse, neglect, unsafe premises, ...) and what was done about
them. An incident's description is restricted: staff and admins only, every
read audited, never in logs."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.tables import Lks
from sigap.tables import User


class IncidentSource(str, Enum):
    public_complaint = "public_complaint"
    police = "police"
    kpai = "kpai"
    media = "media"
    visit_finding = "visit_finding"
    lks_itself = "lks_itself"


class IncidentCategory(str, Enum):
    physical_abuse = "physical_abuse"
    sexual_abuse = "sexual_abuse"
    psychological_abuse = "psychological_abuse"
    neglect = "neglect"
    exploitation = "exploitation"
    unsafe_premises = "unsafe_premises"
    unregistered_operation = "unregistered_operation"
    other = "other"


class Severity(str, Enum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class Incident(Table, tablename="inspections_incident"):
    lks = ForeignKey(references=Lks, on_delete=OnDelete.cascade, index=True)
    source = Varchar(length=20, choices=IncidentSource)
    category = Varchar(length=24, choices=IncidentCategory)
    severity = Varchar(length=8, choices=Severity)
    occurred_on = Date()
    # Restricted: staff and admins only, every read audited; never in logs.
    description = Text()
    status = Varchar(length=8, default="open", index=True)  # open / closed
    outcome = Text(default="")
    recorded_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    recorded_at = Timestamptz(index=True)
    closed_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)


class IncidentActionKind(str, Enum):
    children_moved = "children_moved"  # to the RPS: a count, never names
    referral = "referral"
    admissions_suspended = "admissions_suspended"
    registration_suspended = "registration_suspended"
    note = "note"


class Referral(str, Enum):
    uptd_ppa = "uptd_ppa"
    police = "police"
    dp3ap2kb = "dp3ap2kb"
    dinkes = "dinkes"
    disdukcapil = "disdukcapil"


class IncidentAction(Table, tablename="inspections_incident_action"):
    incident = ForeignKey(references=Incident, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=24, choices=IncidentActionKind)
    count = Integer(null=True, default=None)
    referral = Varchar(length=12, null=True, default=None)
    note = Text(default="")
    at = Timestamptz()
    actor = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
