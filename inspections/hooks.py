"""Hooks joint monitoring offers to the domains built beside it.

Inspections never imports those domains, and they never import
inspections: a contribution is a plain function or dict, added with
``wiring.contribute(HOOK, value)``. The plugin binds the contributions into
the jobs and pages that read them, read lazily at run time (plugins are
wired in order, so a contribution may arrive after the job was added).
With no contributions everything works as before.

``ALERT_SOURCES``: ``async (today) -> list[dict]``, the alerts another
domain's data calls for today, each ``{"kind", "severity", "unique_key",
"lks", "link", "params"}`` (kind: an
:class:`inspections.alerts.tables.AlertKind` value, whose title, label and
manager visibility live with the alerts; other kinds are ignored;
severity: low/medium/high/critical; unique key: ≤ 120 characters naming
the occurrence). The hourly alerts job merges them with its own conditions
by unique key: raised once, resolved when no longer wanted, reopened when
wanted again.

``RISK_FACTORS``: ``async (lks_ids | None, today) -> {lks_id: [(code,
points, params)]}``, set-based (one or two queries for all LKS; ``None``
means every LKS). ``RISK_REASONS``: dicts ``{code: English message id}``,
the reason shown (translated, params filled in) on the LKS risk panel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

ALERT_SOURCES = "inspections.alert_sources"
RISK_FACTORS = "inspections.risk_factors"
RISK_REASONS = "inspections.risk_reasons"

AlertSource = Callable[[date], Awaitable[list[Mapping[str, Any]]]]
RiskFactor = Callable[[list[int] | None, date], Awaitable[Mapping[int, list]]]


@dataclass(frozen=True)
class RiskContributions:
    """What other domains add to the risk: factors and their reason texts."""

    factors: Sequence[RiskFactor] = ()
    texts: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, wiring: Any) -> RiskContributions:
        texts: dict[str, str] = {}
        for contribution in wiring.hook(RISK_REASONS):
            texts.update(contribution)
        return cls(tuple(wiring.hook(RISK_FACTORS)), texts)


NONE = RiskContributions()


def lazy_risk(wiring: Any) -> Callable[[], RiskContributions]:
    """The risk contributions as wired when called."""
    return lambda: RiskContributions.of(wiring)


def lazy_alert_sources(wiring: Any) -> Callable[[], list[AlertSource]]:
    return lambda: wiring.hook(ALERT_SOURCES)
