"""How the audit log names joint monitoring's entities and actions (the
shell's ``ENTITY_NAMES`` and ``ACTION_LABELS`` hooks): one query per entity
type; an incident is named by its LKS and category, never its description."""

from __future__ import annotations

from inspections.alerts.tables import Alert
from inspections.findings.tables import Finding
from inspections.incidents.services import CATEGORY_LABELS
from inspections.incidents.tables import Incident
from inspections.planning.services import TASK_KIND_LABELS
from inspections.planning.tables import Task
from inspections.teams.tables import Team
from inspections.visits.tables import Visit
from sigap.audit_view import EntityNamer
from sigap.i18n import N_, _, choice_label


def _ids(ids: set[str]) -> list[int]:
    return sorted({int(i) for i in ids if i.isdigit() and len(i) < 19})


async def team_names(ids: set[str]) -> dict[str, str]:
    numbers = _ids(ids)
    return {str(r["id"]): r["name"] for r in await Team.select(Team.id, Team.name).where(Team.id.is_in(numbers))} if numbers else {}


async def task_names(ids: set[str]) -> dict[str, str]:
    numbers = _ids(ids)
    if not numbers:
        return {}
    rows = await Task.select(Task.id, Task.kind, Task.lks.name.as_alias("lks_name")).where(Task.id.is_in(numbers))
    return {str(r["id"]): f"{choice_label(TASK_KIND_LABELS, r['kind'])} · {r['lks_name']}" for r in rows}


async def visit_names(ids: set[str]) -> dict[str, str]:
    numbers = _ids(ids)
    if not numbers:
        return {}
    rows = await Visit.select(Visit.id, Visit.lks.name.as_alias("lks_name")).where(Visit.id.is_in(numbers))
    return {str(r["id"]): _("Visit to %(name)s", name=r["lks_name"]) for r in rows}


async def finding_names(ids: set[str]) -> dict[str, str]:
    numbers = _ids(ids)
    if not numbers:
        return {}
    rows = await Finding.select(Finding.id, Finding.lks.name.as_alias("lks_name")).where(Finding.id.is_in(numbers))
    return {str(r["id"]): _("Finding at %(name)s", name=r["lks_name"]) for r in rows}


async def incident_names(ids: set[str]) -> dict[str, str]:
    numbers = _ids(ids)
    if not numbers:
        return {}
    rows = await Incident.select(Incident.id, Incident.category, Incident.lks.name.as_alias("lks_name")).where(
        Incident.id.is_in(numbers)
    )
    return {str(r["id"]): f"{choice_label(CATEGORY_LABELS, r['category'])} · {r['lks_name']}" for r in rows}


async def alert_names(ids: set[str]) -> dict[str, str]:
    numbers = _ids(ids)
    if not numbers:
        return {}
    rows = await Alert.select(Alert.id, Alert.lks.name.as_alias("lks_name")).where(Alert.id.is_in(numbers))
    return {str(r["id"]): r["lks_name"] for r in rows if r["lks_name"]}


async def checklist_names(ids: set[str]) -> dict[str, str]:
    return {}  # a checklist version is named by its number


NAMERS = (
    EntityNamer("team", N_("Team"), team_names, "/teams/%s"),
    EntityNamer("task", N_("Task"), task_names, "/tasks/%s"),
    EntityNamer("visit", N_("Visit report"), visit_names, "/visits/%s"),
    EntityNamer("finding", N_("Finding"), finding_names, "/findings/%s"),
    EntityNamer("incident", N_("Incident"), incident_names, "/incidents/%s"),
    EntityNamer("alert", N_("Alert"), alert_names),
    EntityNamer("checklist", N_("Checklist"), checklist_names),
)


ACTION_LABELS = {
    "team.create": N_("Created a team"),
    "team.member_add": N_("Added a team member"),
    "team.member_remove": N_("Removed a team member"),
    "team.tasks_led": N_("Moved a team's tasks to a new lead"),
    "task.start": N_("Started a task"),
    "task.complete": N_("Completed a task"),
    "task.reschedule": N_("Rescheduled a task"),
    "task.cancel": N_("Cancelled a task"),
    "visit.submit": N_("Submitted a visit report"),
    "visit.resubmit": N_("Resubmitted a visit report"),
    "visit.photo": N_("Added a photo to a visit report"),
    "visit.approve": N_("Approved a visit report"),
    "visit.return": N_("Returned a visit report"),
    "finding.respond": N_("Answered a finding"),
    "finding.close": N_("Closed a finding"),
    "finding.follow_up": N_("Scheduled a follow-up of a finding"),
    "incident.create": N_("Recorded an incident"),
    "incident.view": N_("Read an incident"),
    "incident.action": N_("Recorded an action on an incident"),
    "incident.close": N_("Closed an incident"),
    "alert.acknowledge": N_("Acknowledged an alert"),
    "calendar_feed.issue": N_("Created a calendar link"),
    "calendar_feed.reissue": N_("Renewed a calendar link"),
    "calendar_feed.revoke": N_("Revoked a calendar link"),
    "checklist.new_version": N_("Published a new checklist version"),
}
