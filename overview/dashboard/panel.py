"""The staff dashboard as a home page panel (``sigap.home_panels``): the
snapshot's figures, the link of the list each one counts, and the charts.
Staff and admins only; every other role gets None (their home is another
provider's).

The figures are the whole region's, the same for every staff member and
admin: each app (each worker process) keeps the last snapshot and its
rendered markup per language for ``CACHE_SECONDS``, and the panel says the
time they were counted ("As of ..., renewed every minute"). Workers do not
share it; each states its own time. ``SIGAP_DASHBOARD_CACHE=0`` turns it off. Nothing of the user is in the markup
(``Wiring.render`` renders it without the request)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup

from overview.dashboard import charts
from overview.dashboard.services import snapshot
from registry.access import STAFF_ROLES
from sigap.i18n import get_locale
from sigap.settings import get_settings

CACHE_SECONDS = 60  # stated on the panel ("renewed every minute"): change both together

href = charts.href


def links(snap: dict) -> dict:
    """The list each figure counts; the list shows the same number."""
    k = snap.get("kecamatan")
    return {
        "total": href("/lks", kecamatan=k),
        "registration": {s: href("/lks", registration_status=s, kecamatan=k) for s in snap["registration"]},
        "accreditation": {a: href("/lks", accreditation_status=a, kecamatan=k) for a in snap["accreditation"]},
        "grades": {g: href("/lks", accreditation_status="accredited", accreditation_grade=g, kecamatan=k) for g in snap["grades"]},
        "expiring": href("/accreditation", kecamatan=k) + "#expiring-title",
        "risk": {r: href("/lks", risk_level=r, kecamatan=k) for r in snap["risk"] if r != "none"},
        "open_incidents": href("/incidents", status="open", kecamatan=k),
        "overdue_tasks": href("/tasks", status="active", overdue=1, kecamatan=k),
        "overdue_findings": href("/findings", overdue=1, kecamatan=k),
        "alerts": {s: href("/alerts", all=1, severity=s) for s in snap["alerts"]},
        "visits_this_month": href("/visits", month=snap["month"], kecamatan=k),
        "progress": href("/accreditation", kecamatan=k),
    }


def kecamatan_links(row: dict) -> dict:
    code = row["code"]
    return {
        "lks": href("/lks", kecamatan=code),
        "registered": href("/lks", kecamatan=code, registration_status="registered"),
        "expired": href("/lks", kecamatan=code, registration_status="expired"),
        "accredited": href("/lks", kecamatan=code, accreditation_status="accredited"),
        "high_risk": href("/lks", kecamatan=code, risk_level="high"),
        "open_incidents": href("/incidents", status="open", kecamatan=code),
        "overdue_tasks": href("/tasks", status="active", overdue=1, kecamatan=code),
    }


def panel_context(snap: dict, now: datetime) -> dict:
    """What templates/overview/dashboard.html shows: the figures counted at ``now``."""
    return {
        "snap": snap,
        "links": links(snap),
        "rows": [{**row, "links": kecamatan_links(row)} for row in snap["by_kecamatan"]],
        "charts": charts.charts(snap),
        "now": now,
    }


class DashboardPanel:
    """The home page provider with its cache (one per app: ``render`` is
    the app's ``Wiring.render``). ``clear()`` forgets what it keeps."""

    def __init__(self, render, ttl: timedelta = timedelta(seconds=CACHE_SECONDS)) -> None:
        self._render = render
        self.ttl = ttl
        self._counted: dict | None = None  # panel_context() of the last snapshot
        self._html: dict[str, Markup] = {}  # that context rendered, per language
        self._lock: asyncio.Lock | None = None

    def clear(self) -> None:
        self._counted, self._html = None, {}

    def _fresh(self, now: datetime) -> bool:
        counted = self._counted
        if counted is None or not get_settings().dashboard_cache:
            return False
        # Either way: a request that waited for the lock may be a little older than the count.
        return abs(now - counted["now"]) < self.ttl

    async def __call__(self, user: Any, now: datetime) -> dict | None:
        if user is None or user.role not in STAFF_ROLES:
            return None
        if not self._fresh(now):
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:  # many requests at once count once
                if not self._fresh(now):
                    context = panel_context(await snapshot(now), now)
                    self._counted, self._html = context, {}
        context = self._counted
        locale = get_locale()
        html = self._html.get(locale)
        if html is None:
            html = self._html[locale] = self._render("overview/dashboard.html", panel=context)
        return {"order": 10, "html": html, "as_of": context["now"]}
