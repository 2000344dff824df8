"""Self-assessments: one per cycle, filled by the LKS's manager against the
instrument version it was started with, reviewed by Dinas Sosial, and the
assessor's results entered after the BALKS visit."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import JSON, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from accreditation.cycles.tables import Cycle
from accreditation.instruments.tables import Instrument
from registry.tables import Lks
from sigap.tables import User


class AssessmentStatus(str, Enum):
    draft = "draft"
    submitted = "submitted"  # waiting for Dinas Sosial's review
    returned = "returned"  # sent back to the manager with comments
    recommended = "recommended"  # recommendation letter issued


class Assessment(Table, tablename="accreditation_assessment"):
    cycle = ForeignKey(references=Cycle, on_delete=OnDelete.cascade, unique=True)
    lks = ForeignKey(references=Lks, on_delete=OnDelete.cascade, index=True)
    instrument = ForeignKey(references=Instrument, on_delete=OnDelete.restrict)
    status = Varchar(length=12, choices=AssessmentStatus, default="draft", index=True)
    # {indicator code: {"score": int|None, "note": str, "documents": [document ids]}}
    answers = JSON(default="{}")
    # {indicator code: {"ok": bool, "comment": str}} by Dinas Sosial
    review = JSON(default="{}")
    review_comment = Text(default="")
    assessor_scores = JSON(default="{}")  # {indicator code: int}, after the BALKS visit
    assessor_entered_at = Timestamptz(null=True, default=None)
    letter_number = Varchar(length=80, null=True, default=None, unique=True)
    recommended_at = Timestamptz(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    reviewed_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    reviewed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    version = Integer(default=1)
