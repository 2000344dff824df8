"""The accreditation domain's one entry into the app and the CLI: menu
entries, template globals, the expiry job, the instrument loader, demo
cycles, the panel on the LKS page, and (when an app is built) its routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accreditation import jobs
from accreditation.instruments.services import load_shipped_instruments
from sigap.wiring import AFTER_MIGRATE, DomainPlugin, Wiring


async def _demo(*, now: datetime, storage: Any, context: dict) -> None:
    from accreditation.demo import load_accreditation_demo

    await load_accreditation_demo(now=now, context=context)


class AccreditationPlugin(DomainPlugin):
    name = "accreditation"

    def wire(self, wiring: Wiring) -> None:
        wiring.contribute(AFTER_MIGRATE, load_shipped_instruments)
        wiring.add_job("expire-accreditations", jobs.expire_grades, hour=0, minute=10)
        wiring.add_demo("accreditation", _demo, order=20)
