"""What the tablet's visit form needs from the server: the task (if the
actor may file its report), its LKS's basics and the team that may be
present. The form itself runs on the device, offline first."""

from __future__ import annotations

from inspections.planning.field import map_url
from inspections.planning.services import get_task
from inspections.teams.tables import Agency, TeamMember
from registry.access import STAFF_ROLES
from registry.tables import Lks
from sigap.audit import Actor
from sigap.errors import Forbidden
from sigap.i18n import _
from sigap.tables import Role

# Who may open the form: the team's inspectors (lead or member) and Dinas
# Sosial staff; partners co-sign a report but do not file it.
FILER_ROLES = frozenset({Role.inspector, *STAFF_ROLES})


def _present_kind(member: dict) -> str:
    """A partner agency's officer is a "partner"; Dinas Sosial's people are
    "member"s of the visiting team."""
    if member["role"] == Role.partner.value:
        return "partner"
    if member["user"] is None and member["agency"] != Agency.dinsos.value:
        return "partner"
    return "member"


async def team_present(team_id: int | None) -> list[dict]:
    """The team's members as the form offers them under "who is present"."""
    if team_id is None:
        return []
    rows = await TeamMember.select(
        TeamMember.user, TeamMember.name, TeamMember.agency, TeamMember.is_lead,
        TeamMember.user.full_name.as_alias("full_name"), TeamMember.user.username.as_alias("username"),
        TeamMember.user.role.as_alias("role"),
    ).where(TeamMember.team == team_id).order_by(TeamMember.is_lead, ascending=False).order_by(TeamMember.id)
    return [
        {
            "kind": _present_kind(row), "user_id": row["user"], "agency": row["agency"], "is_lead": row["is_lead"],
            "name": row["full_name"] or row["username"] or row["name"],
        }
        for row in rows
    ]


async def visit_form(actor: Actor, task_id: int) -> dict:
    """The task (only one the actor may see and file), its LKS's basics and
    the team members who may be present."""
    if actor.role not in FILER_ROLES:
        raise Forbidden(_("Only the team's inspectors and Dinas Sosial staff file visit reports."))
    task = await get_task(actor, task_id)
    lks = await Lks.select(
        Lks.id, Lks.name, Lks.kind, Lks.address, Lks.latitude, Lks.longitude, Lks.head_name, Lks.phone,
    ).where(Lks.id == task["lks"]).first()
    lks["map_url"] = map_url(lks["latitude"], lks["longitude"])
    return {"task": task, "lks": lks, "team": await team_present(task["team"])}
