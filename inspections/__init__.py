"""Joint monitoring: teams, risk-based plan, tasks, alerts, incidents."""

import registry  # noqa: F401  (the registry comes first)


def _install() -> None:
    import inspections.jobs  # noqa: F401  (registers the scheduled jobs)
    import inspections.alerts  # noqa: F401  (registers the "alerts" job)
    import inspections.notify  # noqa: F401  (registers the "notify" job)
    from sigap import nav
    from sigap.i18n import N_
    from sigap.tables import Role

    nav.register(N_("Alerts"), "/alerts", {Role.admin, Role.staff, Role.inspector, Role.partner, Role.manager}, order=30)
    nav.register(N_("Tasks"), "/tasks", {Role.admin, Role.staff, Role.inspector, Role.partner}, order=20)
    nav.register(N_("Incidents"), "/incidents", {Role.admin, Role.staff}, order=35)
    nav.register(N_("Teams"), "/teams", {Role.admin, Role.staff}, order=40)

    from inspections.panels import risk_panel
    from registry.controllers import DETAIL_PANELS

    if risk_panel not in DETAIL_PANELS:
        DETAIL_PANELS.append(risk_panel)


_install()
