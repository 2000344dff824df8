"""The WhatsApp hand-off: a ``wa.me`` link per team member with a usable
phone number (accounts and named members without one), with a prefilled
Indonesian message about a task or an alert.

The message says only what a team member needs to find the work: the task
kind, the LKS's name, the due date (WIB) and an absolute link. Never the
task's notes or reasons, an incident's category or description, findings or
anything about residents: a WhatsApp message leaves SIGAP for good.

Numbers are written in many ways ("0812-3456-7890", "+62 812 3456 7890",
"(021) 555 1234"); :func:`wa_number` brings them to the international digits
``wa.me`` wants, or None when no WhatsApp account can be behind them.
Indonesian landlines are refused: WhatsApp on a fixed line exists only for
businesses that set it up, and an office's desk phone almost never is one,
so a link to it would open WhatsApp on "this number is not on WhatsApp"."""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import quote

from inspections.alerts.services import kind_label
from inspections.planning.services import TASK_KIND_LABELS
from inspections.teams.services import AGENCY_LABELS
from inspections.teams.tables import TeamMember
from sigap.db import built_once, fetch_where
from sigap.i18n import choice_label, format_date, format_datetime, use_locale

WA_ME = "https://wa.me/"
INDONESIA = "62"
_SEPARATORS = re.compile(r"[\s\-().\u00a0/]")


def wa_number(raw: str | None) -> str | None:
    """``raw`` as international digits (``6281234567890``), or None.

    Accepted: Indonesian mobile numbers (08…, 8…, 62 8…, +62 8…, 0062 8…:
    9 to 12 digits after the country code, starting with 8) and foreign
    numbers written with ``+`` or ``00`` (8 to 15 digits in all, E.164).
    Refused: Indonesian landlines (021…, +62 21…), short or long numbers,
    letters, a ``+`` in the middle."""
    text = _SEPARATORS.sub("", raw or "")
    if text.startswith("+"):
        digits, international = text[1:], True
    elif text.startswith("00"):
        digits, international = text[2:], True
    else:
        digits, international = text, False
    if not digits.isdigit() or not digits.isascii():
        return None
    if not international:
        if digits.startswith("0"):
            digits = INDONESIA + digits[1:]
        elif digits.startswith("8"):
            digits = INDONESIA + digits
    if digits.startswith(INDONESIA):
        national = digits[len(INDONESIA):]
        if national.startswith("0"):  # "+62 0812…": the trunk zero written twice
            national = national[1:]
        if national.startswith("8") and 9 <= len(national) <= 12:
            return INDONESIA + national
        return None
    if international and 8 <= len(digits) <= 15 and not digits.startswith("0"):
        return digits
    return None


def wa_link(number: str, text: str) -> str:
    """``https://wa.me/NUMBER?text=…`` with the text percent-encoded (UTF-8;
    nothing left unescaped, so "&", "#" and line breaks survive)."""
    return f"{WA_ME}{number}?text={quote(text, safe='')}"


def _due(task: dict) -> str:
    if task.get("due_at"):
        return format_datetime(task["due_at"], "d MMMM yyyy, HH.mm")
    day = task.get("due_on")
    return format_date(day) if isinstance(day, date | datetime) else ""


def task_message(task: dict, *, base_url: str, greeting: str = "") -> str:
    """The Indonesian message about ``task`` (a row with ``id``, ``kind``,
    ``lks_name``, ``due_on``/``due_at``, ``unannounced``)."""
    with use_locale("id"):
        lines = [f"Halo {greeting}," if greeting else "Halo,", "ada tugas dari SIGAP (Dinas Sosial):", ""]
        lines.append(f"Tugas: {choice_label(TASK_KIND_LABELS, task['kind'])}")
        lines.append(f"LKS: {task['lks_name']}")
        lines.append(f"Jatuh tempo: {_due(task)}")
        if task.get("unannounced"):
            lines.append("Kunjungan tanpa pemberitahuan: jangan kabari LKS sebelumnya.")
        lines += ["", f"Rincian tugas: {base_url}/tasks/{task['id']}"]
    return "\n".join(lines)


def alert_message(alert: dict, task: dict | None, *, base_url: str, greeting: str = "") -> str:
    """The Indonesian message about an alert (a row with ``id``, ``kind``,
    ``lks_name``, ``raised_at``): its kind, the LKS and, when it is about a
    task, that task's kind, due date and link; otherwise a link to the
    alert in the recipient's inbox. The alert's title is not used: some
    carry free text."""
    with use_locale("id"):
        lines = [f"Halo {greeting}," if greeting else "Halo,", "ada peringatan dari SIGAP (Dinas Sosial):", ""]
        lines.append(f"Peringatan: {kind_label(alert['kind'])}")
        lines.append(f"LKS: {alert['lks_name'] or '-'}")
        if task is not None:
            lines.append(f"Tugas: {choice_label(TASK_KIND_LABELS, task['kind'])}")
            lines.append(f"Jatuh tempo: {_due(task)}")
            link = f"{base_url}/tasks/{task['id']}"
        else:
            lines.append(f"Sejak: {format_date(alert['raised_at'])}")
            link = f"{base_url}/alerts#alert-{alert['id']}"
        lines += ["", f"Buka: {link}"]
    return "\n".join(lines)


# --- who to send it to ----------------------------------------------------------------


def _contacts_query():
    return TeamMember.select(
        TeamMember.id, TeamMember.team, TeamMember.user, TeamMember.name, TeamMember.agency, TeamMember.phone,
        TeamMember.is_lead, TeamMember.user.full_name.as_alias("full_name"), TeamMember.user.username.as_alias("username"),
    )


async def team_contacts(team_ids: set[int | None]) -> dict[int, list[dict]]:
    """team id → its members with a usable WhatsApp number, leads first
    (one query whatever the number of teams)."""
    wanted = sorted(t for t in team_ids if t)
    if not wanted:
        return {}
    # Read on every view of the task page and the alerts inbox: the columns
    # and the join are built once.
    rows = await fetch_where(
        built_once("inspections.team_contacts", _contacts_query), TeamMember.team.is_in(wanted),
        ' ORDER BY "inspections_team_member"."is_lead" DESC, "inspections_team_member"."id"',
    )
    out: dict[int, list[dict]] = {}
    for row in rows:
        number = wa_number(row["phone"])
        if number is None:
            continue
        out.setdefault(row["team"], []).append({
            "member_id": row["id"], "user": row["user"], "number": number,
            "name": row["name"] or row["full_name"] or row["username"] or "", "agency": row["agency"],
            "is_lead": row["is_lead"],
        })
    return out


def _handoff(contact: dict, text: str) -> dict:
    return {
        "name": contact["name"], "agency": choice_label(AGENCY_LABELS, contact["agency"]), "is_lead": contact["is_lead"],
        "href": wa_link(contact["number"], text),
    }


async def task_handoff(task: dict, *, viewer_id: int | None, base_url: str) -> list[dict]:
    """``[{"name", "agency", "is_lead", "href"}]``: one link per member of
    the task's team with a usable number (the viewer left out), for a task
    the caller has already been allowed to see."""
    contacts = (await team_contacts({task.get("team")})).get(task.get("team"), [])
    return [
        _handoff(c, task_message(task, base_url=base_url, greeting=c["name"]))
        for c in contacts if c["user"] is None or c["user"] != viewer_id
    ]


async def alert_handoffs(items: list[dict], *, viewer_id: int | None, base_url: str) -> dict[int, list[dict]]:
    """alert id → its links, for alerts of the inbox (items with
    ``team_id`` and ``task_id``): the members of the alert's team. Two
    queries whatever the number of alerts."""
    from inspections.planning.tables import Task

    items = [i for i in items if i.get("team_id")]
    if not items:
        return {}
    contacts = await team_contacts({i["team_id"] for i in items})
    task_ids = sorted({i["task_id"] for i in items if i.get("task_id") and contacts.get(i["team_id"])})
    tasks = {}
    if task_ids:
        tasks = {t["id"]: t for t in await Task.select(
            Task.id, Task.kind, Task.due_on, Task.due_at, Task.unannounced
        ).where(Task.id.is_in(task_ids))}
    out: dict[int, list[dict]] = {}
    for item in items:
        task = tasks.get(item.get("task_id"))
        links = [
            _handoff(c, alert_message(item, task, base_url=base_url, greeting=c["name"]))
            for c in contacts.get(item["team_id"], []) if c["user"] is None or c["user"] != viewer_id
        ]
        if links:
            out[item["id"]] = links
    return out
