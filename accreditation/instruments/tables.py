"""The accreditation instrument (versioned data shipped in the project and
edited by admins as a new version) and the grading settings."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from sigap.tables import User


class Instrument(Table, tablename="accreditation_instrument"):
    code = Varchar(length=40, index=True)
    version = Integer()
    title = JSON(default="{}")  # {"id": ..., "en": ...}
    definition = JSON(default="{}")  # {"basis", "scale": {min, max, labels}, "aspects": [...]}
    is_current = Boolean(default=False, index=True)
    source = Varchar(length=12, default="shipped")  # shipped / admin
    created_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
    unique_key = Varchar(length=60, unique=True)  # "code:version"


class GradingSettings(Table, tablename="accreditation_grading"):
    """One row (key "grading"): the grade thresholds and validity years."""

    key = Varchar(length=20, unique=True)
    thresholds = JSON(default="{}")  # {"A": 85, "B": 70, "C": 55}
    validity_years = JSON(default="{}")  # {"A": 5, "B": 3, "C": 2}
    updated_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    updated_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
