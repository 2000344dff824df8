"""The registry domain: LKS records, regions, registration, documents."""

from sigap import accounts


def _install() -> None:
    import registry.jobs  # noqa: F401  (registers the scheduled jobs)
    from registry.services import lks_exists
    from sigap import nav
    from sigap.i18n import N_
    from sigap.tables import Role

    accounts.set_lks_checker(lks_exists)
    nav.register(N_("LKS"), "/lks", {Role.admin, Role.staff}, order=10)
    nav.register(N_("My LKS"), "/lks", {Role.manager}, order=10)


_install()
