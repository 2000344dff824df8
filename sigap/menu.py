"""The main menu: the entries the domains add, grouped for the roles that have many.

Each domain adds its entries from its plugin (``Wiring.add_menu``) and may
put one in a group. The groups are declared here, once, with their
translated label and their place in the menu, because several domains fill
the same group: "LKS" holds the registry's list and the overview's map,
"System administration" the shell's users and inspections' checklists.

What a user sees (``build``):

- a role with few entries (at most ``FLAT_UP_TO``: inspectors, partners,
  LKS managers) gets them all in one row, groups ignored, so none of their
  jobs is behind an extra click;
- a role with more (staff, admins) gets each group as one entry that opens
  its list (a ``<details>`` dropdown in ``base.html``); a group that holds
  only one of the user's entries shows as that entry;
- a group may declare a lead, the entry of its main job (the LKS list, the
  task list): it shows as an ordinary link, one click away, followed by a
  small button that opens the group's other entries.

The current page: the entry whose address is the longest one the path
equals or lies under (``/accreditation/improvement/5`` is "Improvement
plans", not "Accreditation"); ``aria-current`` is "page" on the page
itself and "true" on a page under it, and the group holding it says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sigap.i18n import N_
from sigap.tables import Role

# A role with this many entries or fewer sees no groups.
FLAT_UP_TO = 7


@dataclass(frozen=True)
class NavGroup:
    key: str
    label: str  # an English message id, translated when shown
    order: int  # its place among the entries outside groups
    lead: str | None = None  # the address of the entry shown as the group's own link (its main job)


LKS = NavGroup("lks", N_("LKS"), 10, lead="/lks")
MONITORING = NavGroup("monitoring", N_("Monitoring"), 20, lead="/tasks")
INCIDENTS = NavGroup("incidents", N_("Incidents"), 35, lead="/incidents")
ACCREDITATION = NavGroup("accreditation", N_("Accreditation"), 45, lead="/accreditation")
ADMINISTRATION = NavGroup("administration", N_("System administration"), 890)


@dataclass(frozen=True)
class NavItem:
    label: str  # an English message id, translated when shown
    href: str
    roles: frozenset[Role]
    order: int = 100
    group: NavGroup | None = None


@dataclass(frozen=True)
class MenuLink:
    is_group: ClassVar[bool] = False
    label: str
    href: str
    current: str | None = None  # "page", "true" or None: the value of aria-current


@dataclass(frozen=True)
class MenuGroup:
    is_group: ClassVar[bool] = True
    key: str
    label: str
    links: tuple[MenuLink, ...]  # the entries in the list (without the lead)
    lead: MenuLink | None = None  # shown beside the list's button, one click away

    @property
    def current(self) -> bool:
        return bool(self.lead and self.lead.current) or any(link.current for link in self.links)


def _under(path: str, href: str) -> bool:
    if path == href:
        return True
    return href != "/" and path.startswith(href.rstrip("/") + "/")


def current_href(items: list[NavItem], path: str) -> str | None:
    """The address of the entry ``path`` belongs to: the longest that it equals or lies under."""
    matching = [item.href for item in items if _under(path, item.href)]
    return max(matching, key=len, default=None)


def build(items: list[NavItem], path: str) -> list[MenuLink | MenuGroup]:
    """``items`` (one user's entries, in order) as the menu they see on ``path``."""
    here = current_href(items, path)

    def link(item: NavItem) -> MenuLink:
        current = None if item.href != here else ("page" if path == here else "true")
        return MenuLink(item.label, item.href, current)

    if len(items) <= FLAT_UP_TO:
        return [link(item) for item in items]
    members: dict[NavGroup, list[NavItem]] = {}
    for item in items:
        if item.group is not None:
            members.setdefault(item.group, []).append(item)
    placed: list[tuple[int, MenuLink | MenuGroup]] = []
    for item in items:
        if item.group is None or len(members[item.group]) == 1:
            placed.append((item.order, link(item)))
    for group, grouped in members.items():
        if len(grouped) > 1:
            lead = next((i for i in grouped if i.href == group.lead), None)
            rest = tuple(link(i) for i in grouped if i is not lead)
            menu_group = MenuGroup(group.key, group.label, rest, link(lead) if lead else None)
            placed.append((group.order, menu_group))
    placed.sort(key=lambda entry: entry[0])  # stable: a group after the entry of the same order
    return [entry for _order, entry in placed]
