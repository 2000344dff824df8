"""Tasks (visits to make), the findings of done visits, the latest risk of
each LKS, and the private calendar feeds of the task list. Every task a job
creates carries a unique key, so a job that runs twice, late or in two
processes creates it once."""

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

from inspections.teams.tables import Team
from registry.tables import Lks
from sigap.tables import User


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


class RiskAssessment(Table, tablename="inspections_risk"):
    """The latest risk of an LKS and why (the LKS page shows the reasons)."""

    lks = ForeignKey(references=Lks, on_delete=OnDelete.cascade, unique=True, index=True)
    level = Varchar(length=6)
    score = Integer(default=0)
    reasons = JSON(default="[]")  # [[code, points, {params}], ...]
    last_visit_on = Date(null=True, default=None)
    computed_at = Timestamptz()


class CalendarFeed(Table, tablename="inspections_calendar_feed"):
    """A private iCal feed URL per user; only the token's hash is kept."""

    user = ForeignKey(references=User, on_delete=OnDelete.cascade, unique=True)
    token_hash = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz()
