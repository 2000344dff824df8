"""What the tablet's visit form needs from the server: the task (if the
actor may file its report), its LKS's basics and the team that may be
present. The form itself runs on the device, offline first."""

from __future__ import annotations

from inspections.planning.field import map_url
from inspections.planning.services import read_task
from inspections.planning.tables import Task
from inspections.teams.tables import Agency, TeamMember
from registry.access import STAFF_ROLES
from sigap.audit import Actor
from sigap.db import built_once, fetch_where
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
    rows = await fetch_where(
        built_once("inspections.team_present", _present_query), TeamMember.team == team_id,
        ' ORDER BY "inspections_team_member"."is_lead" DESC, "inspections_team_member"."id"',
    )
    return [
        {
            "kind": _present_kind(row), "user_id": row["user"], "agency": row["agency"], "is_lead": row["is_lead"],
            "name": row["full_name"] or row["username"] or row["name"],
        }
        for row in rows
    ]


LKS_FIELDS = ("kind", "address", "latitude", "longitude", "head_name", "phone")


def _form_query():
    # get_task's columns and the LKS's basics: one read.
    return Task.select(
        *Task.all_columns(), Task.lks.name.as_alias("lks_name"), Task.team.name.as_alias("team_name"),
        *(getattr(Task.lks, key).as_alias(f"lks_{key}") for key in LKS_FIELDS),
    )


def _present_query():
    return TeamMember.select(
        TeamMember.user, TeamMember.name, TeamMember.agency, TeamMember.is_lead,
        TeamMember.user.full_name.as_alias("full_name"), TeamMember.user.username.as_alias("username"),
        TeamMember.user.role.as_alias("role"),
    )


async def visit_form(actor: Actor, task_id: int) -> dict:
    """The task (only one the actor may see and file), its LKS's basics and
    the team members who may be present."""
    if actor.role not in FILER_ROLES:
        raise Forbidden(_("Only the team's inspectors and Dinas Sosial staff file visit reports."))
    task = await read_task(actor, task_id, "inspections.visit_form", _form_query)
    lks = {"id": task["lks"], "name": task["lks_name"], **{key: task.pop(f"lks_{key}") for key in LKS_FIELDS}}
    lks["map_url"] = map_url(lks["latitude"], lks["longitude"])
    return {"task": task, "lks": lks, "team": await team_present(task["team"])}
