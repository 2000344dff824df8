"""The LKS row's accreditation fields (status, grade, valid until) are a
cache derived from the accreditation domain's cycles: only its services
write them, through this function. The LKS form and API never edit them."""

from __future__ import annotations

from datetime import date, datetime

from registry.tables import AccreditationStatus, Lks


async def set_accreditation(lks_id: int, *, status: str, grade: str | None, valid_until: date | None, now: datetime) -> bool:
    """Write the derived fields (inside the caller's write transaction);
    True when something changed. The LKS ``version`` is not bumped: no form
    edits these fields, so a concurrent edit of the profile is no conflict."""
    AccreditationStatus(status)  # a wrong value is a bug of the caller
    row = await Lks.select(Lks.accreditation_status, Lks.accreditation_grade, Lks.accreditation_valid_until).where(
        Lks.id == lks_id).first()
    if row is None:
        return False
    wanted = {"accreditation_status": status, "accreditation_grade": grade, "accreditation_valid_until": valid_until}
    if row == wanted:
        return False
    await Lks.update({
        Lks.accreditation_status: status, Lks.accreditation_grade: grade, Lks.accreditation_valid_until: valid_until,
        Lks.updated_at: now,
    }).where(Lks.id == lks_id)
    return True
