"""The registry's one entry into the app and the CLI."""

from __future__ import annotations

from typing import Any

from registry import audit_names, cli, jobs, lookup
from registry.access import lks_exists
from registry.regions import ensure_shipped_regions
from registry.sightings import services as sightings
from registry.transfer import staging
from sigap.i18n import N_, labeller
from sigap.retention import RETENTION
from sigap.tables import Role
from sigap.wiring import (
    ACTION_LABELS,
    AFTER_MIGRATE,
    ENTITY_NAMES,
    LKS_EXISTS,
    LKS_SEARCH,
    DomainPlugin,
    Wiring,
)


class RegistryPlugin(DomainPlugin):
    name = "registry"

    def wire(self, wiring: Wiring) -> None:
        from registry.labels import TEMPLATE_GLOBALS

        wiring.add_menu(N_("LKS"), "/lks", {Role.admin, Role.staff}, order=10)
        wiring.add_menu(N_("My LKS"), "/lks", {Role.manager}, order=10)
        wiring.add_menu(N_("Unregistered LKS reports"), "/sightings", {Role.admin, Role.staff, Role.partner}, order=15)
        wiring.add_template_globals(sighting_outcome_label=labeller(sightings.OUTCOME_LABELS))
        wiring.add_template_globals(**TEMPLATE_GLOBALS)
        wiring.add_job("expire-registrations", jobs.expire_registrations, hour=0, minute=5)
        wiring.add_demo("registry", jobs.load_demo, order=10)
        wiring.contribute(LKS_EXISTS, lks_exists)
        wiring.contribute(LKS_SEARCH, lookup.search_names)
        for namer in audit_names.NAMERS:
            wiring.contribute(ENTITY_NAMES, namer)
        wiring.contribute(ACTION_LABELS, audit_names.ACTION_LABELS)
        wiring.contribute(AFTER_MIGRATE, ensure_shipped_regions)
        wiring.add_cli(cli.configure)
        wiring.contribute(RETENTION, staging.purge_for_retention)

    def route_handlers(self) -> list[Any]:
        from registry.controllers import route_handlers
        from registry.sightings.controllers import route_handlers as sighting_handlers

        return [*route_handlers, *sighting_handlers]
