"""Alerts, their acknowledgements, and the e-mail outbox the daily digest
goes through. Every alert carries a unique key naming its occurrence, so the
hourly job raises each once however often it runs."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspections.incidents.tables import Severity
from inspections.planning.tables import Task
from inspections.teams.tables import Team
from registry.tables import Document, Lks
from sigap.tables import User


class AlertKind(str, Enum):
    task_overdue = "task_overdue"
    registration_expiring = "registration_expiring"
    registration_expired = "registration_expired"
    accreditation_expiring = "accreditation_expiring"
    document_expiring = "document_expiring"
    finding_overdue = "finding_overdue"
    incident_unvisited = "incident_unvisited"
    unregistered_unchecked = "unregistered_unchecked"
    team_without_lead = "team_without_lead"  # a visit went to a team with no lead
    improvement_overdue = "improvement_overdue"  # an accreditation improvement action (ALERT_SOURCES)


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
    """The e-mail outbox: one row per message, sent by the notify job
    through :class:`sigap.mail.Outbox`."""

    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=16)  # "digest"
    unique_key = Varchar(length=120, unique=True)
    subject = Varchar(length=200)
    body = Text()
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None, index=True)
    attempts = Integer(default=0)
    last_error = Text(default="")
