"""Joint monitoring: teams, risk-based plan, tasks, alerts, incidents."""

import registry  # noqa: F401  (the registry comes first)


def _install() -> None:
    import inspections.jobs  # noqa: F401  (registers the scheduled jobs)


_install()
