"""The shell's own entry: sign-in, accounts, admin pages, health probes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sigap import audit_chain, backup, menu, retention
from sigap.accounts import role_label
from sigap.i18n import N_
from sigap.tables import Role
from sigap.wiring import DomainPlugin, Wiring


async def _demo_accounts(*, now: datetime, storage: Any, context: dict) -> None:
    from sigap.demo import load_demo

    await load_demo(now=now, print_credentials=True, manager_lks_id=context.get("manager_lks_id"))


class ShellPlugin(DomainPlugin):
    name = "sigap"

    def wire(self, wiring: Wiring) -> None:
        wiring.add_menu(N_("Home"), "/", frozenset(Role), order=0)
        wiring.add_menu(N_("Users"), "/admin/users", {Role.admin}, order=900, group=menu.ADMINISTRATION)
        wiring.add_menu(N_("Audit log"), "/admin/audit", {Role.admin}, order=910, group=menu.ADMINISTRATION)
        wiring.add_template_globals(role_label=role_label, nav_for=wiring.nav_for, menu_for=wiring.menu_for)
        wiring.add_demo("accounts", _demo_accounts, order=20)
        wiring.add_job("backup", backup.nightly, hour=2, minute=30, run_at_start=False)
        wiring.add_job("audit-seal", audit_chain.seal, minute="*")
        wiring.add_job("retention", retention.job(wiring), hour=3, minute=15)

    def route_handlers(self) -> list[Any]:
        from sigap.controllers import route_handlers

        return list(route_handlers)
