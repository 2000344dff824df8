"""Joint monitoring: teams, tasks, findings, incidents, risk, alerts and the
e-mail outbox. Every row a scheduled job creates carries a unique key, so a
job that runs twice, late or in two processes creates it once."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.tables import Document, Lks
from sigap.tables import User


class Agency(str, Enum):
    dinsos = "dinsos"
    satpol_pp = "satpol_pp"
    kecamatan = "kecamatan"
    kelurahan = "kelurahan"
    rt_rw = "rt_rw"
    puskesmas = "puskesmas"
    police = "police"
    other = "other"


class Team(Table, tablename="inspections_team"):
    name = Varchar(length=120)
    # Kemendagri code of the area it covers (a kecamatan, or any region):
    # the most specific team covering an LKS gets its tasks.
    area_code = Varchar(length=13, index=True)
    active = Boolean(default=True)
    version = Integer(default=1)
    created_at = Timestamptz()


class TeamMember(Table, tablename="inspections_team_member"):
    team = ForeignKey(references=Team, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=200, default="")  # for members without an account
    agency = Varchar(length=12, choices=Agency)
    phone = Varchar(length=20, default="")
    is_lead = Boolean(default=False)


class TaskKind(str, Enum):
    routine = "routine"
    registration_verification = "registration_verification"
    findings_follow_up = "findings_follow_up"
    incident_response = "incident_response"
    unregistered_check = "unregistered_check"


class TaskStatus(str, Enum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


class VisitOutcome(str, Enum):
    satisfactory = "satisfactory"
    concerns = "concerns"
    critical = "critical"
    not_found = "not_found"  # no LKS operating at the address


class Task(Table, tablename="inspections_task"):
    lks = ForeignKey(references=Lks, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=28, choices=TaskKind, index=True)
    status = Varchar(length=12, choices=TaskStatus, default="open", index=True)
    team = ForeignKey(references=Team, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    lead = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    due_on = Date(index=True)
    due_at = Timestamptz(null=True, default=None)  # urgent tasks: a deadline to the hour
    unannounced = Boolean(default=False)
    incident = Integer(null=True, default=None, index=True)  # the incident an urgent visit answers
    finding = Integer(null=True, default=None, index=True)  # the finding a follow-up checks
    reason = Text(default="")  # why it was last rescheduled or cancelled
    outcome = Varchar(length=12, choices=VisitOutcome, null=True, default=None)
    notes = Text(default="")
    unique_key = Varchar(length=120, unique=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    done_at = Timestamptz(null=True, default=None, index=True)
    version = Integer(default=1)


class FindingSeverity(str, Enum):
    minor = "minor"
    major = "major"
    critical = "critical"


class Finding(Table, tablename="inspections_finding"):
    lks = ForeignKey(references=Lks, on_delete=OnDelete.cascade, index=True)
    task = ForeignKey(references=Task, null=True, default=None, on_delete=OnDelete.set_null)
    severity = Varchar(length=8, choices=FindingSeverity, index=True)
    description = Text()
    due_on = Date(index=True)
    status = Varchar(length=8, default="open", index=True)  # open / closed
    created_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)


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


class RiskAssessment(Table, tablename="inspections_risk"):
    """The latest risk of an LKS and why (the LKS page shows the reasons)."""

    lks = ForeignKey(references=Lks, on_delete=OnDelete.cascade, unique=True, index=True)
    level = Varchar(length=6)
    score = Integer(default=0)
    reasons = JSON(default="[]")  # [[code, points, {params}], ...]
    last_visit_on = Date(null=True, default=None)
    computed_at = Timestamptz()


class AlertKind(str, Enum):
    task_overdue = "task_overdue"
    registration_expiring = "registration_expiring"
    registration_expired = "registration_expired"
    accreditation_expiring = "accreditation_expiring"
    document_expiring = "document_expiring"
    finding_overdue = "finding_overdue"
    incident_unvisited = "incident_unvisited"
    unregistered_unchecked = "unregistered_unchecked"


class Alert(Table, tablename="inspections_alert"):
    kind = Varchar(length=24, choices=AlertKind, index=True)
    severity = Varchar(length=8, choices=Severity, index=True)
    unique_key = Varchar(length=120, unique=True)
    lks = ForeignKey(references=Lks, null=True, default=None, on_delete=OnDelete.cascade, index=True)
    task = ForeignKey(references=Task, null=True, default=None, on_delete=OnDelete.cascade)
    team = ForeignKey(references=Team, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    document = ForeignKey(references=Document, null=True, default=None, on_delete=OnDelete.cascade)
    params = JSON(default="{}")  # for the translated title
    link = Varchar(length=200, default="")
    manager_visible = Boolean(default=False)  # the LKS's own manager sees it too
    raised_at = Timestamptz(index=True)
    escalated_at = Timestamptz(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None, index=True)


class AlertAck(Table, tablename="inspections_alert_ack"):
    alert = ForeignKey(references=Alert, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    at = Timestamptz()
    unique_key = Varchar(length=60, unique=True)  # "{alert}:{user}"


class Notification(Table, tablename="inspections_notification"):
    """The e-mail outbox: one row per message, sent by the notify job."""

    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=16)  # "digest"
    unique_key = Varchar(length=120, unique=True)
    subject = Varchar(length=200)
    body = Text()
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None, index=True)
    attempts = Integer(default=0)
    last_error = Text(default="")


class CalendarFeed(Table, tablename="inspections_calendar_feed"):
    """A private iCal feed URL per user; only the token's hash is kept."""

    user = ForeignKey(references=User, on_delete=OnDelete.cascade, unique=True)
    token_hash = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz()
