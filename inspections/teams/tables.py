"""Joint teams and their members (accounts or named contacts)."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

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
