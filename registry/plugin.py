"""The registry's one entry into the app and the CLI."""

from __future__ import annotations

from typing import Any

from litestar.config.app import AppConfig

from registry import audit_names, cli, jobs, lookup
from registry.home import manager_registration
from registry.access import lks_exists
from registry.public import jobs as public_jobs
from registry.regions import ensure_shipped_regions
from registry.sightings import services as sightings
from registry.transfer import staging
from sigap import menu
from sigap.i18n import N_, labeller
from sigap.retention import RETENTION
from sigap.tables import Role
from sigap.wiring import (
    ACTION_LABELS,
    AFTER_MIGRATE,
    ENTITY_NAMES,
    HOME_PANELS,
    LKS_EXISTS,
    LKS_SEARCH,
    DomainPlugin,
    Wiring,
)


class RegistryPlugin(DomainPlugin):
    name = "registry"

    def wire(self, wiring: Wiring) -> None:
        from registry.badges import TEMPLATE_FILTERS as BADGE_FILTERS
        from registry.badges import TEMPLATE_GLOBALS as BADGES
        from registry.labels import TEMPLATE_GLOBALS

        wiring.add_menu(N_("LKS"), "/lks", {Role.admin, Role.staff}, order=10, group=menu.LKS)
        wiring.add_menu(N_("My LKS"), "/lks", {Role.manager}, order=10)
        wiring.add_menu(N_("Unregistered LKS reports"), "/sightings", {Role.admin, Role.staff, Role.partner}, order=15, group=menu.LKS)
        wiring.add_template_globals(sighting_outcome_label=labeller(sightings.OUTCOME_LABELS))
        wiring.add_template_globals(**TEMPLATE_GLOBALS, **BADGES)
        wiring.add_template_filters(
            **BADGE_FILTERS, kind_label=TEMPLATE_GLOBALS["kind_label"], doc_type_label=TEMPLATE_GLOBALS["doc_type_label"]
        )
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
        wiring.add_job("purge-rate-limits", public_jobs.purge_rate_limits, minute=17)
        wiring.contribute(HOME_PANELS, manager_registration)  # an LKS manager's home: status and documents

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config = super().on_app_init(app_config)
        # The public pages' rate-limit store, shared by the workers (registry.public.http).
        from registry.public.http import STORE_NAME, make_store

        stores = app_config.stores
        store = make_store(app_config.state["settings"])
        if stores is None:
            app_config.stores = {STORE_NAME: store}
        elif isinstance(stores, dict):
            stores.setdefault(STORE_NAME, store)
        elif STORE_NAME not in stores._stores:
            stores.register(STORE_NAME, store)
        return app_config

    def route_handlers(self) -> list[Any]:
        from registry.controllers import route_handlers
        from registry.public.controllers import route_handlers as public_handlers
        from registry.sightings.controllers import route_handlers as sighting_handlers

        return [*route_handlers, *sighting_handlers, *public_handlers]
