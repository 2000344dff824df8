"""Accreditation cycles: one record per cycle per LKS, with the history of
its stage changes. The latest cycle of an LKS carries ``latest_key`` (the
LKS id; unique), older ones None: one latest cycle per LKS, whatever races."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.tables import Document, Lks
from sigap.tables import User


class Stage(str, Enum):
    not_started = "not_started"
    preparing = "preparing"
    self_assessment = "self_assessment"
    submitted = "submitted"  # recommended by Dinsos, submitted to BALKS
    assessor_visit = "assessor_visit"
    accredited = "accredited"
    not_accredited = "not_accredited"
    expired = "expired"


class Cycle(Table, tablename="accreditation_cycle"):
    lks = ForeignKey(references=Lks, on_delete=OnDelete.cascade, index=True)
    latest_key = Varchar(length=20, null=True, default=None, unique=True)
    stage = Varchar(length=16, choices=Stage, default="preparing", index=True)
    grade = Varchar(length=1, null=True, default=None)
    decision_date = Date(null=True, default=None)
    valid_until = Date(null=True, default=None, index=True)
    certificate = ForeignKey(references=Document, null=True, default=None, on_delete=OnDelete.set_null)
    source = Varchar(length=40, default="sigap")  # sigap / demo / import:<file> ...
    opened_at = Timestamptz()
    updated_at = Timestamptz()
    version = Integer(default=1)


class StageChange(Table, tablename="accreditation_stage_change"):
    cycle = ForeignKey(references=Cycle, on_delete=OnDelete.cascade, index=True)
    at = Timestamptz()
    from_stage = Varchar(length=16, default="")
    to_stage = Varchar(length=16)
    note = Text(default="")
    actor = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    actor_name = Varchar(length=200, default="")
