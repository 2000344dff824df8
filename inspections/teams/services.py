"""Team rules: who manages teams (Dinas Sosial staff), who may be a member,
which team covers an LKS and who leads it. Plain async functions taking the
acting user and ``now``; every change is audited."""

from __future__ import annotations

import re
from datetime import datetime

from piccolo.querystring import QueryString

from inspections.planning.tables import Task, TaskStatus
from inspections.teams.tables import Agency, Team, TeamMember
from registry.access import is_staff
from registry.tables import Region, RegionLevel
from sigap import audit
from sigap.audit import Actor
from sigap.db import fetch_where, write_transaction
from sigap.errors import Conflict, Forbidden, NotFound, ValidationError
from sigap.i18n import N_, _
from sigap.tables import Role, User

AGENCY_LABELS = {
    Agency.dinsos: N_("Dinas Sosial"),
    Agency.satpol_pp: N_("Satpol PP"),
    Agency.kecamatan: N_("Kecamatan"),
    Agency.kelurahan: N_("Kelurahan"),
    Agency.rt_rw: N_("RT/RW"),
    Agency.puskesmas: N_("Puskesmas"),
    Agency.police: N_("Police"),
    Agency.other: N_("Other"),
}
# Accounts that may be members of a team.
MEMBER_ROLES = (Role.inspector.value, Role.partner.value, Role.staff.value)


def _staff_only(actor: Actor) -> None:
    if not is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can manage teams."))


# --- who covers what ------------------------------------------------------------


def teams_of_query(user_id: int) -> QueryString:
    """The ids of ``user_id``'s teams as a sub-select (``column.is_in(...)``):
    :func:`team_ids_of` without a statement of its own."""
    return QueryString('SELECT "team" FROM "inspections_team_member" WHERE "user" = {}', user_id)


_TEAM_CHOICES = (
    'SELECT "inspections_team"."id" AS "id", "inspections_team"."name" AS "name",'
    ' "inspections_team"."area_code" AS "area_code" FROM "inspections_team"'
)


async def team_ids_of(user_id: int | None) -> list[int]:
    if user_id is None:
        return []
    rows = await TeamMember.select(TeamMember.team).where(TeamMember.user == user_id)
    return sorted({r["team"] for r in rows})


async def teams_covering() -> list[dict]:
    """Active teams, most specific area first (longest code)."""
    rows = await Team.select().where(Team.active == True)  # noqa: E712
    return sorted(rows, key=lambda t: (-len(t["area_code"]), t["id"]))


def pick_team(teams: list[dict], kelurahan_code: str, kecamatan_code: str) -> dict | None:
    for team in teams:
        code = team["area_code"]
        if kelurahan_code == code or kelurahan_code.startswith(code + ".") or kecamatan_code == code:
            return team
    return None


async def team_leads() -> dict[int, int]:
    """team id → the user id of its lead (first lead with an account)."""
    rows = await TeamMember.select(TeamMember.team, TeamMember.user, TeamMember.is_lead, TeamMember.id).where(
        TeamMember.user.is_not_null()
    ).order_by(TeamMember.id)
    leads: dict[int, int] = {}
    for row in rows:
        if row["is_lead"] and row["team"] not in leads:
            leads[row["team"]] = row["user"]
    for row in rows:  # no lead named: the first member with an account
        leads.setdefault(row["team"], row["user"])
    return leads


async def covers(user_id: int | None, kelurahan_code: str, kecamatan_code: str) -> bool:
    """Does one of the user's active teams cover this area?"""
    team_ids = await team_ids_of(user_id)
    if not team_ids:
        return False
    teams = await Team.select(Team.id, Team.area_code).where(Team.id.is_in(team_ids) & (Team.active == True))  # noqa: E712
    return any(pick_team([t], kelurahan_code, kecamatan_code) for t in teams)


# --- changes ---------------------------------------------------------------------


async def create_team(actor: Actor, *, name: str, area_code: str, now: datetime) -> dict:
    _staff_only(actor)
    name = " ".join((name or "").split())
    errors = {}
    if not 3 <= len(name) <= 120:
        errors["name"] = _("Give the team a name (3 to 120 characters).")
    if not area_code or not await Region.exists().where(Region.code == area_code):
        errors["area_code"] = _("Choose the area the team covers.")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    async with write_transaction():
        team = Team(name=name, area_code=area_code, active=True, created_at=now)
        await team.save()
        row = await Team.select().where(Team.id == team.id).first()
        await audit.record(actor, "team.create", "team", team.id, now=now, after=row)
    return row


async def add_member(
    actor: Actor, team_id: int, *, agency: str, now: datetime, user_id: int | None = None, name: str = "",
    phone: str = "", is_lead: bool = False,
) -> dict:
    _staff_only(actor)
    if not await Team.exists().where(Team.id == team_id):
        raise NotFound(_("Team not found."))
    errors = {}
    if agency not in Agency.__members__:
        errors["agency"] = _("Choose the member's agency.")
    if not re.fullmatch(r"\+?[0-9 ()\-]{0,20}", phone.strip()):
        errors["phone"] = _("Write the phone number with digits only (at most 20).")
    if user_id is not None:
        user = await User.select(User.role, User.is_active).where(User.id == user_id).first()
        if user is None or user["role"] not in MEMBER_ROLES:
            errors["user_id"] = _("Choose an inspector, partner or staff account.")
    elif not 3 <= len(" ".join(name.split())) <= 200:
        errors["name"] = _("Give the name of a member without an account.")
    if errors:
        raise ValidationError(_("Please correct the marked fields."), fields=errors)
    async with write_transaction():
        if user_id is not None and await TeamMember.exists().where((TeamMember.team == team_id) & (TeamMember.user == user_id)):
            raise Conflict(_("This account is already in the team."))
        member = TeamMember(team=team_id, user=user_id, name=" ".join(name.split()), agency=agency, phone=phone.strip(), is_lead=is_lead)
        await member.save()
        row = await TeamMember.select().where(TeamMember.id == member.id).first()
        await audit.record(actor, "team.member_add", "team", team_id, now=now, after=row)
        if user_id is not None:
            await _lead_unled_tasks(actor, team_id, user_id, now)
    return row


async def _lead_unled_tasks(actor: Actor, team_id: int, user_id: int, now: datetime) -> None:
    """The team's visits still to make that have no lead get this member as
    their lead (a team without a lead had no one to act on them)."""
    done = await Task.update({Task.lead: user_id, Task.updated_at: now, Task.version: Task.version + 1}).where(
        (Task.team == team_id) & Task.lead.is_null() & Task.status.is_in([TaskStatus.open.value, TaskStatus.in_progress.value])
    ).returning(Task.id)
    if done:
        await audit.record(actor, "team.tasks_led", "team", team_id, now=now, after={"lead": user_id, "tasks": [t["id"] for t in done]})


async def remove_member(actor: Actor, team_id: int, member_id: int, *, now: datetime) -> None:
    _staff_only(actor)
    async with write_transaction():
        row = await TeamMember.select().where((TeamMember.id == member_id) & (TeamMember.team == team_id)).first()
        if row is None:
            raise NotFound(_("Team member not found."))
        await TeamMember.delete().where(TeamMember.id == member_id)
        await audit.record(actor, "team.member_remove", "team", row["team"], now=now, before=row)


# --- reads -----------------------------------------------------------------------


async def list_teams(actor: Actor) -> list[dict]:
    """Every team with its member count, by name."""
    _staff_only(actor)
    teams = await Team.select().order_by(Team.name).order_by(Team.id)
    counts: dict[int, int] = {}
    for row in await TeamMember.select(TeamMember.team):
        counts[row["team"]] = counts.get(row["team"], 0) + 1
    leads = await team_leads()
    lead_names = await user_names(set(leads.values()))
    for team in teams:
        team["member_count"] = counts.get(team["id"], 0)
        team["lead"] = leads.get(team["id"])
        team["lead_name"] = lead_names.get(team["lead"], "") if team["lead"] else ""
    return teams


async def team_choices(actor: Actor) -> list[dict]:
    """The teams an actor may filter tasks by: all for staff, their own for
    inspectors and partners."""
    # Read on every view of the task list and the calendar: one prebuilt
    # statement (for inspectors and partners their teams are a sub-select).
    condition = None
    if not is_staff(actor):
        if actor.user_id is None:
            return []
        condition = Team.id.is_in(teams_of_query(actor.user_id))
    return await fetch_where(_TEAM_CHOICES, condition, ' ORDER BY "inspections_team"."name"')


async def get_team(actor: Actor, team_id: int) -> dict:
    """A team with its members (accounts and named contacts) and its
    effective lead (the one tasks are assigned to)."""
    _staff_only(actor)
    team = await Team.select().where(Team.id == team_id).first()
    if team is None:
        raise NotFound(_("Team not found."))
    team["members"] = await TeamMember.select(
        *TeamMember.all_columns(),
        TeamMember.user.username.as_alias("username"),
        TeamMember.user.full_name.as_alias("full_name"),
        TeamMember.user.role.as_alias("role"),
        TeamMember.user.is_active.as_alias("is_active"),
    ).where(TeamMember.team == team_id).order_by(TeamMember.is_lead, ascending=False).order_by(TeamMember.id)
    team["lead"] = (await team_leads()).get(team_id)
    return team


async def member_candidates(team_id: int) -> list[dict]:
    """Active inspector, partner and staff accounts not yet in the team."""
    taken = {r["user"] for r in await TeamMember.select(TeamMember.user).where(
        (TeamMember.team == team_id) & TeamMember.user.is_not_null()
    )}
    rows = await User.select(User.id, User.username, User.full_name, User.role).where(
        User.role.is_in(list(MEMBER_ROLES)) & (User.is_active == True)  # noqa: E712
    ).order_by(User.full_name).order_by(User.username)
    return [r for r in rows if r["id"] not in taken]


async def areas(region: str) -> list[dict]:
    """What a team may cover: the whole region or one of its kecamatan."""
    city = await Region.select(Region.code, Region.name).where(Region.code == region).first()
    districts = await Region.select(Region.code, Region.name).where(
        (Region.parent_code == region) & (Region.level == RegionLevel.district.value)
    ).order_by(Region.name)
    return ([city] if city else []) + districts


async def user_names(ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    rows = await User.select(User.id, User.username, User.full_name).where(User.id.is_in(wanted))
    return {r["id"]: r["full_name"] or r["username"] for r in rows}


async def partner_area(user_id: int | None) -> str | None:
    """The area of the user's most specific active team (to preselect it)."""
    team_ids = await team_ids_of(user_id)
    if not team_ids:
        return None
    rows = await Team.select(Team.area_code).where(Team.id.is_in(team_ids) & (Team.active == True))  # noqa: E712
    return max((r["area_code"] for r in rows), key=len, default=None)
