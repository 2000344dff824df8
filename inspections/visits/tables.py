"""Checklists (versioned data shipped in the project, edited by admins as a
new version), visit reports filed from a task, and their photos. A report and
each photo carry the tablet's client id: stored once, however often sent."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import JSON, BigInt, Boolean, ForeignKey, Integer, Real, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from inspections.planning.tables import Task
from inspections.teams.tables import Team
from registry.tables import Lks
from sigap.tables import User


class Checklist(Table, tablename="inspections_checklist"):
    code = Varchar(length=40, index=True)  # "lksa", "general"
    version = Integer()
    lks_kinds = JSON(default="[]")  # the LKS kinds it is used for
    title = JSON(default="{}")  # {"id": ..., "en": ...}
    definition = JSON(default="{}")  # {"basis", "sections": [{"code", "title", "questions": [...]}]}
    is_current = Boolean(default=False, index=True)
    source = Varchar(length=12, default="shipped")  # shipped / admin
    created_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
    unique_key = Varchar(length=60, unique=True)  # "code:version"


class VisitStatus(str, Enum):
    submitted = "submitted"  # waiting for staff review
    returned = "returned"  # sent back to the inspector with comments
    approved = "approved"


class VisitOutcome(str, Enum):
    compliant = "compliant"
    needs_improvement = "needs_improvement"
    serious_concern = "serious_concern"
    immediate_action = "immediate_action"


class Visit(Table, tablename="inspections_visit"):
    client_id = Varchar(length=64, unique=True)
    task = ForeignKey(references=Task, on_delete=OnDelete.cascade, index=True)
    lks = ForeignKey(references=Lks, on_delete=OnDelete.cascade, index=True)
    checklist = ForeignKey(references=Checklist, on_delete=OnDelete.restrict)
    team = ForeignKey(references=Team, null=True, default=None, on_delete=OnDelete.set_null)
    filed_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    status = Varchar(length=10, choices=VisitStatus, default="submitted", index=True)
    outcome = Varchar(length=20, choices=VisitOutcome)
    announced = Boolean(default=True)
    started_at = Timestamptz(null=True, default=None)
    latitude = Real(null=True, default=None)  # where the visit started (the tablet's GPS)
    longitude = Real(null=True, default=None)
    accuracy_m = Real(null=True, default=None)
    distance_m = Integer(null=True, default=None)  # from the LKS's registered point
    far_start = Boolean(default=False)
    present = JSON(default="[]")  # [{"kind": "member"|"partner"|"lks_head", "user_id", "name", "agency"}]
    residents_present = JSON(default="{}")  # counts by sex and age band, never names
    answers = JSON(default="{}")  # {question code: "yes"|"no"|"na"|number|text|option}
    photos_expected = JSON(default="[]")  # [{"client_id", "question_code", "finding"}]: what the tablet will send
    signatures = JSON(default="{}")  # {"lead": PNG data URL, "lks_head": ...}
    summary = Text(default="")  # shown to the LKS's manager
    internal_notes = Text(default="")  # Dinas Sosial and the team only
    review_comment = Text(default="")
    reviewed_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    reviewed_at = Timestamptz(null=True, default=None)
    submitted_at = Timestamptz()
    updated_at = Timestamptz()
    version = Integer(default=1)


class VisitPhoto(Table, tablename="inspections_visit_photo"):
    client_id = Varchar(length=64, unique=True)
    visit = ForeignKey(references=Visit, on_delete=OnDelete.cascade, index=True)
    question_code = Varchar(length=20, default="")
    finding_ref = Varchar(length=64, default="")  # the finding's reference within the report, if any
    storage_key = Varchar(length=300, unique=True)
    content_type = Varchar(length=40)
    size = BigInt()
    sha256 = Varchar(length=64)
    width = Integer(default=0)
    height = Integer(default=0)
    taken_at = Timestamptz(null=True, default=None)  # kept as fields: the file's own metadata is stripped
    latitude = Real(null=True, default=None)
    longitude = Real(null=True, default=None)
    uploaded_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    uploaded_at = Timestamptz()
