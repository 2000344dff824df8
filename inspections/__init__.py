"""Joint monitoring: teams, risk-based plan, tasks, alerts, incidents.
Wired into the app and the CLI by ``inspections.plugin.InspectionsPlugin``."""
