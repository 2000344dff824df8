"""Findings of visits and the LKS manager's responses to them."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspections.planning.tables import Task
from registry.tables import Document, Lks
from sigap.tables import User


class FindingSeverity(str, Enum):
    minor = "minor"
    major = "major"
    critical = "critical"


class FindingStatus(str, Enum):
    open = "open"
    answered = "answered"  # the LKS responded; staff to close or follow up
    closed = "closed"


class Responsible(str, Enum):
    lks = "lks"  # the LKS's management
    dinsos = "dinsos"  # Dinas Sosial
    team = "team"  # the joint team (Satpol PP, kecamatan, kelurahan)


class Finding(Table, tablename="inspections_finding"):
    lks = ForeignKey(references=Lks, on_delete=OnDelete.cascade, index=True)
    task = ForeignKey(references=Task, null=True, default=None, on_delete=OnDelete.set_null)
    severity = Varchar(length=8, choices=FindingSeverity, index=True)
    description = Text()
    due_on = Date(index=True)
    status = Varchar(length=8, default="open", index=True)  # FindingStatus
    created_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)
    # Added with visit reports:
    visit = Integer(null=True, default=None, index=True)  # the report it was found in
    question_code = Varchar(length=20, default="")  # the checklist item
    corrective_action = Text(default="")  # what must be done
    responsible = Varchar(length=8, choices=Responsible, default="lks")
    follow_up_task = Integer(null=True, default=None)  # a re-inspection scheduled instead of closing
    closed_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    closure_note = Text(default="")
    updated_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)


class FindingResponse(Table, tablename="inspections_finding_response"):
    """What the LKS's manager answered, with evidence uploaded through the
    documents service."""

    finding = ForeignKey(references=Finding, on_delete=OnDelete.cascade, index=True)
    text = Text()
    document = ForeignKey(references=Document, null=True, default=None, on_delete=OnDelete.set_null)
    client_id = Varchar(length=64, null=True, default=None, unique=True)
    created_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
