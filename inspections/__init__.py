"""Joint monitoring: teams, risk-based plan, tasks, alerts, incidents.

Sub-domains, each with the same inner shape (``tables``, ``services``,
``controllers``, ``jobs`` where it has scheduled work): ``teams``,
``planning`` (risk, the plan, tasks, calendar feed, findings),
``incidents``, ``alerts`` (alerts, acknowledgements, the daily digest).
Wired into the app and the CLI by ``inspections.plugin.InspectionsPlugin``."""
