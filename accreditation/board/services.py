"""The pipeline board: how many LKS are at each stage (the stage of their
latest cycle; none yet: not started) among all LKS in the register, progress towards every registered LKS
accredited, grades expiring within six months; filters by kecamatan and
kind; the same figures as an XLSX workbook."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

from accreditation.cycles.services import IN_PROCESS, STAGE_LABELS
from accreditation.cycles.tables import Cycle, Stage
from registry.access import is_staff
from registry.regions import region_names
from registry.tables import AccreditationStatus, Lks, LksKind, RegistrationStatus
from sigap.audit import Actor
from sigap.errors import Forbidden
from sigap.i18n import _, choice_label

EXPIRING_DAYS = 183  # six months
STAGES = [s.value for s in Stage]
REGISTERED = frozenset({RegistrationStatus.registered.value, RegistrationStatus.suspended.value})


@dataclass
class BoardFilter:
    kecamatan: str = ""
    kind: str = ""

    @classmethod
    def from_query(cls, params) -> BoardFilter:
        kecamatan = str(params.get("kecamatan") or "")
        kind = str(params.get("kind") or "")
        return cls(kecamatan=kecamatan if len(kecamatan) <= 13 and kecamatan.replace(".", "").isdigit() else "",
                   kind=kind if kind in LksKind.__members__ else "")

    def where(self, query, lks=Lks):
        if self.kecamatan:
            query = query.where(lks.kecamatan_code == self.kecamatan)
        if self.kind:
            query = query.where(lks.kind == self.kind)
        return query


def _staff(actor: Actor) -> None:
    if not is_staff(actor):
        raise Forbidden(_("Your role does not allow this action."))


async def pipeline(actor: Actor, flt: BoardFilter, *, today: date) -> dict:
    """Counts per stage, the progress figures and the grades expiring soon."""
    _staff(actor)
    lks_rows = await flt.where(Lks.select(Lks.id, Lks.registration_status, Lks.accreditation_status))
    latest = await flt.where(Cycle.select(Cycle.lks, Cycle.stage).where(Cycle.latest_key.is_not_null()), Cycle.lks)
    stage_of = {row["lks"]: row["stage"] for row in latest}
    stages = dict.fromkeys(STAGES, 0)
    for row in lks_rows:
        stages[stage_of.get(row["id"], Stage.not_started.value)] += 1
    # Registered: holding a Tanda Daftar (a suspended LKS still does).
    registered = [r for r in lks_rows if r["registration_status"] in REGISTERED]
    accredited_registered = sum(1 for r in registered if r["accreditation_status"] == AccreditationStatus.accredited.value)
    horizon = today + timedelta(days=EXPIRING_DAYS)
    expiring = await flt.where(Cycle.select(
        Cycle.id, Cycle.lks, Cycle.grade, Cycle.valid_until, Cycle.lks.name.as_alias("lks_name"),
        Cycle.lks.kecamatan_code.as_alias("kecamatan_code"), Cycle.lks.kind.as_alias("kind"),
    ).where((Cycle.stage == Stage.accredited.value) & (Cycle.valid_until >= today) & (Cycle.valid_until <= horizon)),
        Cycle.lks).order_by(Cycle.valid_until)
    for row in expiring:
        row["days_left"] = (row["valid_until"] - today).days
    return {
        "stages": stages,
        "total": len(lks_rows),
        "in_process": sum(stages[s] for s in IN_PROCESS),
        "registered": len(registered),
        "accredited_registered": accredited_registered,
        "progress_percent": round(100 * accredited_registered / len(registered)) if registered else 0,
        "expiring": expiring,
        "places": await region_names({r["kecamatan_code"] for r in expiring}),
    }


async def lks_at_stage(actor: Actor, flt: BoardFilter) -> list[dict]:
    """Every LKS with its latest stage, grade and validity: the export's rows."""
    _staff(actor)
    rows = await flt.where(Lks.select(
        Lks.id, Lks.name, Lks.kind, Lks.kecamatan_code, Lks.registration_status, Lks.accreditation_status,
        Lks.accreditation_grade, Lks.accreditation_valid_until,
    )).order_by(Lks.name)
    latest = await flt.where(Cycle.select(Cycle.lks, Cycle.stage).where(Cycle.latest_key.is_not_null()), Cycle.lks)
    stage_of = {row["lks"]: row["stage"] for row in latest}
    for row in rows:
        row["stage"] = stage_of.get(row["id"], Stage.not_started.value)
    return rows


def _clean(value):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def workbook(board: dict, rows: list[dict], places: dict[str, str], labels: dict[str, dict]) -> bytes:
    """Two sheets: the count per stage, and every LKS with its stage."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Stages")[:31]
    sheet.append([_("Stage"), _("Number of LKS")])
    for stage, count in board["stages"].items():
        sheet.append([_(STAGE_LABELS[stage]), count])
    sheet.append([_("Total"), board["total"]])
    sheet.append([_("Registered LKS accredited"), f"{board['accredited_registered']} / {board['registered']}"])
    lks_sheet = book.create_sheet(_("LKS")[:31])
    lks_sheet.append([_("Name"), _("Kind"), _("Kecamatan"), _("Stage"), _("Grade"), _("Valid until")])
    for row in rows:
        lks_sheet.append([_clean(v) for v in (
            row["name"], choice_label(labels["kind"], row["kind"]), places.get(row["kecamatan_code"], row["kecamatan_code"]),
            _(STAGE_LABELS[row["stage"]]), row["accreditation_grade"] or "", row["accreditation_valid_until"],
        )])
    for ws in (sheet, lks_sheet):
        for cell in ws[1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
