"""Navigation by role. Each domain adds its entries with ``register``; the
layout shows a signed-in user only the entries their role may open."""

from __future__ import annotations

from dataclasses import dataclass

from sigap.i18n import N_
from sigap.tables import Role


@dataclass(frozen=True)
class NavItem:
    label: str  # an English message id, translated when shown
    href: str
    roles: frozenset[Role]
    order: int = 100


_items: list[NavItem] = []


def register(label: str, href: str, roles: set[Role] | frozenset[Role], order: int = 100) -> None:
    if not any(item.href == href and item.roles == frozenset(roles) for item in _items):
        _items.append(NavItem(label, href, frozenset(roles), order))
        _items.sort(key=lambda item: item.order)


def nav_for(user) -> list[NavItem]:
    if user is None:
        return []
    return [item for item in _items if user.role in item.roles]


ALL_ROLES = frozenset(Role)
register(N_("Home"), "/", ALL_ROLES, order=0)
register(N_("Users"), "/admin/users", {Role.admin}, order=900)
register(N_("Audit log"), "/admin/audit", {Role.admin}, order=910)
