"""Pembinaan: guidance and training sessions for LKS staff and who
attended them (adult staff only: names and roles, never residents)."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.tables import Lks
from sigap.tables import User


class TrainingTopic(str, Enum):
    child_protection = "child_protection"
    care_standards = "care_standards"  # SNPA
    other = "other"


class AttendeeRole(str, Enum):
    manager = "manager"
    caregiver = "caregiver"
    social_worker = "social_worker"
    administrator = "administrator"
    other_staff = "other_staff"


class TrainingSession(Table, tablename="accreditation_training_session"):
    topic = Varchar(length=20, choices=TrainingTopic, index=True)
    title = Varchar(length=200)
    held_on = Date(index=True)
    place = Varchar(length=200)
    trainer = Varchar(length=200)
    notes = Text(default="")
    created_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
    version = Integer(default=1)


class TrainingAttendance(Table, tablename="accreditation_training_attendance"):
    session = ForeignKey(references=TrainingSession, on_delete=OnDelete.cascade, index=True)
    lks = ForeignKey(references=Lks, on_delete=OnDelete.cascade, index=True)
    person_name = Varchar(length=120)
    person_role = Varchar(length=16, choices=AttendeeRole)
    unique_key = Varchar(length=200, unique=True)  # "{session}:{lks}:{name, folded}": a person once per session
    certificate_number = Varchar(length=40, unique=True)
    created_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
