"""The domains this SIGAP is made of, in dependency order. Only the shell's
wiring modules (``sigap.app``, ``sigap.cli``) import this."""

from __future__ import annotations

from sigap.wiring import DomainPlugin


def default_plugins() -> list[DomainPlugin]:
    from accreditation.plugin import AccreditationPlugin
    from inspections.plugin import InspectionsPlugin
    from overview.plugin import OverviewPlugin
    from registry.plugin import RegistryPlugin
    from sigap.plugin import ShellPlugin

    return [ShellPlugin(), RegistryPlugin(), InspectionsPlugin(), AccreditationPlugin(), OverviewPlugin()]
