"""Who may reach the registry's pages and API (the services check again,
per LKS)."""

from __future__ import annotations

from sigap.tables import Role
from sigap.web import requires

STAFF = requires(Role.admin, Role.staff)
STAFF_OR_MANAGER = requires(Role.admin, Role.staff, Role.manager)
