"""The LKS a manager account is bound to, chosen by name: the admin's form
sends the id picked from the suggestions, or (without script) only the
name typed, which is looked up here through the ``LKS_SEARCH`` hook."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sigap.controllers.common import int_or_none
from sigap.errors import ValidationError
from sigap.i18n import _

Search = Callable[..., Awaitable[list[dict]]]
MAX_MATCHES = 10


class ChooseLks(ValidationError):
    """Several LKS match the name typed: the form lists them to choose one."""

    def __init__(self, matches: list[dict]) -> None:
        message = _("Several LKS match this name: choose one.")
        super().__init__(message, fields={"lks_id": message})
        self.matches = matches


def _plain(text: str) -> str:
    return " ".join(text.casefold().split())


async def resolve(lks_id: str, q: str, search: Search | None) -> int | None:
    """The LKS id the form means, or ValidationError / ChooseLks."""
    if (lks_id or "").strip():
        return int_or_none(lks_id)
    q = (q or "").strip()[:100]
    if not q or search is None:
        return None
    matches = await search(q, limit=MAX_MATCHES)
    exact = [m for m in matches if _plain(m["name"]) == _plain(q)]
    if len(matches) == 1 or len(exact) == 1:
        return (exact or matches)[0]["id"]
    if not matches:
        message = _("No LKS has this name: check the spelling or search with part of the name.")
        raise ValidationError(message, fields={"lks_id": message})
    raise ChooseLks(matches)
