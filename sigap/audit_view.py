"""The audit log in words: who acted (their name, not a user id), what they
did (a translated label, not ``lks.update``) and on what (an LKS's name, a
user's name, ...). The shell names users and tokens; each domain names its
own entities through the ``ENTITY_NAMES`` hook and labels its actions through
``ACTION_LABELS``. Set-based: one query per entity type shown on a page."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from sigap.i18n import N_, _
from sigap.tables import ApiToken, User

Names = Callable[[set[str]], Awaitable[dict[str, str]]]


@dataclass(frozen=True)
class EntityNamer:
    """How the audit log names one entity type: ``label`` (an English
    message id), ``names(ids) -> {id: name}`` in one query, and an optional
    link (``href % id``)."""

    entity_type: str
    label: str
    names: Names
    href: str = ""


SHELL_ACTIONS = {
    "auth.login": N_("Signed in"),
    "auth.login_failed": N_("Failed sign-in"),
    "auth.login_throttled": N_("Sign-in blocked after too many attempts"),
    "auth.logout": N_("Signed out"),
    "user.create": N_("Created a user"),
    "user.update": N_("Changed a user"),
    "user.role_change": N_("Changed a user's role"),
    "user.password_change": N_("Changed their password"),
    "user.password_reset": N_("Reset a user's password"),
    "user.activate": N_("Activated a user"),
    "user.deactivate": N_("Deactivated a user"),
    "user.locale": N_("Changed the language"),
    "token.create": N_("Created an API token"),
    "token.revoke": N_("Revoked an API token"),
    "token.revoke_all": N_("Revoked all API tokens of a user"),
}


def _ids(values: Iterable[str]) -> list[int]:
    return sorted({int(v) for v in values if isinstance(v, str) and v.isdigit() and len(v) < 19})


def person(row: dict) -> str:
    full = (row.get("full_name") or "").strip()
    return f"{full} ({row['username']})" if full else row["username"]


async def user_names(ids: set[str]) -> dict[str, str]:
    numbers = _ids(ids)
    if not numbers:
        return {}
    rows = await User.select(User.id, User.username, User.full_name).where(User.id.is_in(numbers))
    return {str(r["id"]): person(r) for r in rows}


async def token_names(ids: set[str]) -> dict[str, str]:
    numbers = _ids(ids)
    if not numbers:
        return {}
    rows = await ApiToken.select(ApiToken.id, ApiToken.name, ApiToken.user.username.as_alias("owner")).where(
        ApiToken.id.is_in(numbers)
    )
    return {str(r["id"]): f"{r['name']} ({r['owner']})" for r in rows}


SHELL_NAMERS = (
    EntityNamer("user", N_("User"), user_names, "/admin/users/%s"),
    EntityNamer("api_token", N_("API token"), token_names),
)


async def in_words(events: list[dict], namers: Iterable[EntityNamer], action_labels: Iterable[dict]) -> list[dict]:
    """Adds ``actor_name``, ``action_label``, ``entity_label``,
    ``entity_name`` and ``entity_href`` to each event (in place)."""
    by_type = {n.entity_type: n for n in (*SHELL_NAMERS, *namers)}
    labels: dict[str, str] = dict(SHELL_ACTIONS)
    for mapping in action_labels:
        labels.update(mapping)
    wanted: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event["entity_type"] in by_type and event["entity_id"]:
            wanted[event["entity_type"]].add(event["entity_id"])
        if event.get("actor_id") is not None:
            wanted["user"].add(str(event["actor_id"]))  # actors are named with the users: one query
    names = {t: await by_type[t].names(ids) for t, ids in wanted.items()}
    for event in events:
        namer = by_type.get(event["entity_type"])
        entity_id = event["entity_id"]
        event["actor_name"] = (
            names.get("user", {}).get(str(event["actor_id"])) if event.get("actor_id") is not None else None
        ) or event["actor_username"] or _("system")
        label = labels.get(event["action"])
        event["action_label"] = _(label) if label else event["action"]
        event["entity_label"] = _(namer.label) if namer else event["entity_type"]
        name = names.get(event["entity_type"], {}).get(entity_id) if namer else None
        event["entity_name"] = name or (f"#{entity_id}" if entity_id.isdigit() else entity_id)
        event["entity_href"] = (namer.href % entity_id) if namer and namer.href and name else ""
    return events


def filter_choices(namers: Iterable[EntityNamer], action_labels: Iterable[dict]) -> tuple[list, list]:
    """(action, label) and (entity type, label) pairs for the log's filters, by label."""
    labels: dict[str, str] = dict(SHELL_ACTIONS)
    for mapping in action_labels:
        labels.update(mapping)
    actions = sorted(((code, _(msgid)) for code, msgid in labels.items()), key=lambda p: p[1].casefold())
    types = sorted(((n.entity_type, _(n.label)) for n in (*SHELL_NAMERS, *namers)), key=lambda p: p[1].casefold())
    return actions, types
