"""Read-side rules the pages and API of joint monitoring need beyond
``services``: team listings, task search with every filter of the task
list, who may open an LKS's monitoring page, and small look-ups.

Visibility is never decided here: task reads go through
``services.visible_task_filter``; team and incident reads follow the
"staff only" rule of ``services``."""

from __future__ import annotations

from datetime import date

from inspections import services
from inspections.tables import Finding, Task, TaskStatus, Team, TeamMember
from registry.tables import Lks, Region, RegionLevel
from sigap.audit import Actor
from sigap.errors import Forbidden, NotFound
from sigap.i18n import _
from sigap.tables import Role, User

ACTIVE_STATUSES = (TaskStatus.open.value, TaskStatus.in_progress.value)
MEMBER_ROLES = (Role.inspector.value, Role.partner.value, Role.staff.value)


def _staff_only(actor: Actor) -> None:
    if not services.is_staff(actor):
        raise Forbidden(_("Only Dinas Sosial staff can manage teams."))


# --- teams ---------------------------------------------------------------------


async def list_teams(actor: Actor) -> list[dict]:
    """Every team with its member count, by name."""
    _staff_only(actor)
    teams = await Team.select().order_by(Team.name).order_by(Team.id)
    counts: dict[int, int] = {}
    for row in await TeamMember.select(TeamMember.team):
        counts[row["team"]] = counts.get(row["team"], 0) + 1
    leads = await services.team_leads()
    lead_names = await user_names(set(leads.values()))
    for team in teams:
        team["member_count"] = counts.get(team["id"], 0)
        team["lead"] = leads.get(team["id"])
        team["lead_name"] = lead_names.get(team["lead"], "") if team["lead"] else ""
    return teams


async def team_choices(actor: Actor) -> list[dict]:
    """The teams an actor may filter tasks by: all for staff, their own for
    inspectors and partners."""
    query = Team.select(Team.id, Team.name, Team.area_code).order_by(Team.name)
    if not services.is_staff(actor):
        ids = await services.team_ids_of(actor.user_id)
        if not ids:
            return []
        query = query.where(Team.id.is_in(ids))
    return await query


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
    team["lead"] = (await services.team_leads()).get(team_id)
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


# --- tasks ---------------------------------------------------------------------


async def search_tasks(
    actor: Actor, *, lks_id: int | None = None, statuses: list[str] | None = None, team_id: int | None = None,
    kind: str | None = None, kecamatan: str | None = None, mine: bool = False, due_from: date | None = None,
    due_to: date | None = None, limit: int = 200,
) -> list[dict]:
    """Tasks the actor may see (services.visible_task_filter), filtered,
    earliest due first, with the LKS, team and lead names."""
    condition = await services.visible_task_filter(actor)
    query = Task.select(
        *Task.all_columns(exclude=[Task.unique_key]),
        Task.lks.name.as_alias("lks_name"),
        Task.lks.kecamatan_code.as_alias("kecamatan_code"),
        Task.lks.kelurahan_code.as_alias("kelurahan_code"),
        Task.team.name.as_alias("team_name"),
        Task.lead.full_name.as_alias("lead_full_name"),
        Task.lead.username.as_alias("lead_username"),
    ).order_by(Task.due_on).order_by(Task.id).limit(limit)
    if condition is not None:
        query = query.where(condition)
    if lks_id is not None:
        query = query.where(Task.lks == lks_id)
    if statuses:
        query = query.where(Task.status.is_in(list(statuses)))
    if team_id is not None:
        query = query.where(Task.team == team_id)
    if kind:
        query = query.where(Task.kind == kind)
    if kecamatan:
        query = query.where(Task.lks.kecamatan_code == kecamatan)
    if mine:
        query = query.where(Task.lead == actor.user_id)
    if due_from is not None:
        query = query.where(Task.due_on >= due_from)
    if due_to is not None:
        query = query.where(Task.due_on <= due_to)
    rows = await query
    for row in rows:
        full_name, username = row.pop("lead_full_name"), row.pop("lead_username")
        row["lead_name"] = full_name or username or ""
    return rows


async def task_findings(task_id: int) -> list[dict]:
    return await Finding.select().where(Finding.task == task_id).order_by(Finding.id)


async def incident_tasks(actor: Actor, incident_id: int) -> list[dict]:
    """The visits answering an incident (staff only, like the incident)."""
    if not services.is_staff(actor):
        raise NotFound(_("Incident not found."))
    return await Task.select(
        Task.id, Task.status, Task.due_on, Task.due_at, Task.team.name.as_alias("team_name"), Task.outcome, Task.done_at
    ).where(Task.incident == incident_id).order_by(Task.id)


# --- the monitoring page of an LKS ----------------------------------------------


async def monitoring_lks(actor: Actor, lks_id: int) -> dict:
    """The LKS, if the actor may see its monitoring page: staff always; an
    inspector or partner when one of their teams covers its area or they
    can see one of its tasks; anyone else never (its tasks include
    unannounced visits). Another LKS is "not found", not "forbidden"."""
    if not (services.is_staff(actor) or actor.role in services.FIELD_ROLES):
        raise Forbidden(_("Your role does not allow this action."))
    lks = await Lks.select(
        Lks.id, Lks.name, Lks.kind, Lks.address, Lks.rt, Lks.rw, Lks.kelurahan_code, Lks.kecamatan_code,
        Lks.registration_status, Lks.accreditation_status, Lks.accreditation_grade, Lks.risk_level, Lks.open_incident,
        Lks.capacity, Lks.residents_total,
    ).where(Lks.id == lks_id).first()
    if lks is None:
        raise NotFound(_("LKS not found."))
    if services.is_staff(actor):
        return lks
    team_ids = await services.team_ids_of(actor.user_id)
    if team_ids:
        teams = await Team.select(Team.id, Team.area_code).where(Team.id.is_in(team_ids) & (Team.active == True))  # noqa: E712
        if any(services.pick_team([t], lks["kelurahan_code"], lks["kecamatan_code"]) for t in teams):
            return lks
    condition = await services.visible_task_filter(actor)
    if await Task.exists().where((Task.lks == lks_id) & condition):
        return lks
    raise NotFound(_("LKS not found."))
