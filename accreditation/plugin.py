"""The accreditation domain's entry (its pages and jobs come with its issue)."""

from __future__ import annotations

from sigap.wiring import DomainPlugin, Wiring


class AccreditationPlugin(DomainPlugin):
    name = "accreditation"

    def wire(self, wiring: Wiring) -> None:
        """Nothing to add yet."""
