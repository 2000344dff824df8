"""How a domain plugs into the shell, explicitly.

Each domain package exposes one plugin (``registry.plugin.RegistryPlugin``,
``inspections.plugin.InspectionsPlugin``, ...). A plugin is a Litestar init
plugin: ``create_app`` passes it to ``Litestar(plugins=[...])`` and the
framework calls ``on_app_init``. The CLI installs the same plugins without
an app (``Wiring.install``), so ``sigap jobs run`` and ``sigap demo`` see
exactly the jobs and demo loaders the app sees.

What a plugin contributes is written into one ``Wiring`` object per app (or
CLI run), never into another module's globals:

- menu entries (``add_menu``, in a group of ``sigap.menu`` or not),
  template globals (``add_template_globals``)
  and filters (``add_template_filters``: called directly, cheaper than a
  global in a long loop);
- scheduled jobs (``add_job``), demo loaders (``add_demo``), CLI commands
  (``add_cli``);
- contributions to another domain's pages through hooks that domain offers
  (``contribute(hook, fn)``; the offering domain reads ``hook(name)``);
- route handlers (``DomainPlugin.route_handlers``, imported lazily so the
  CLI never imports controllers).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

from litestar.config.app import AppConfig
from markupsafe import Markup
from litestar.plugins import InitPluginProtocol

from sigap.menu import MenuGroup, MenuLink, NavGroup, NavItem, build
from sigap.tables import Role

JobFn = Callable[..., Awaitable[object]]
DemoLoader = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Job:
    name: str
    fn: JobFn
    cron: dict  # APScheduler CronTrigger fields, in WIB
    run_at_start: bool = True  # catch up a run missed while the app was down


# Hooks the shell itself offers.
LKS_EXISTS = "sigap.lks_exists"  # async (lks_id) -> bool: is this an LKS a manager may be bound to?
AFTER_MIGRATE = "sigap.after_migrate"  # async () -> None: load data the domain ships (regions, checklists)
# async (q, *, limit) -> [{"id", "name", "address", "kelurahan_name"}]: LKS by name, for the admin's manager binding
LKS_SEARCH = "sigap.lks_search"
# sigap.audit_view.EntityNamer: names one entity type in the audit log (one query per type per page)
ENTITY_NAMES = "sigap.entity_names"
# dict {action: English message id}: the audit log's words for a domain's actions
ACTION_LABELS = "sigap.action_labels"
# async (user, now) -> dict | None: a panel on the signed-in home page,
# ``{"template": ..., "order": int, **context}`` (the template is included
# with the page's context, ``panel`` being this dict), or ``{"html": Markup,
# "order": int}`` (markup the provider rendered already, e.g. with
# ``Wiring.render``, and may keep), or None when this user should see
# nothing from that provider. Panels show in ``order``; the home page falls
# back to the menu's tiles when no provider answers.
HOME_PANELS = "sigap.home_panels"

# ``configure(subparsers)`` adds a domain's CLI commands to ``sigap``; each
# sets ``handler`` (taking the parsed args) and ``is_async`` as its defaults.
CliConfigurer = Callable[[Any], None]


class Wiring:
    """What the installed domains contribute, gathered in one place."""

    def __init__(
        self,
        template_globals: MutableMapping[str, Any] | None = None,
        template_filters: MutableMapping[str, Any] | None = None,
        templates: Any = None,
    ) -> None:
        self.templates = templates  # the app's Jinja environment (None in the CLI)
        self.menu: list[NavItem] = []
        self.template_globals: MutableMapping[str, Any] = template_globals if template_globals is not None else {}
        self.template_filters: MutableMapping[str, Any] = template_filters if template_filters is not None else {}
        self.jobs: dict[str, Job] = {}
        self.demo_loaders: list[tuple[int, str, DemoLoader]] = []
        self.cli: list[CliConfigurer] = []
        self.plugins: list[DomainPlugin] = []
        self._hooks: dict[str, list[Any]] = {}

    # --- installing ---------------------------------------------------------

    def install(self, plugins: Iterable[DomainPlugin]) -> Wiring:
        for plugin in plugins:
            self.install_one(plugin)
        return self

    def install_one(self, plugin: DomainPlugin) -> bool:
        """Wire ``plugin`` unless a plugin of its kind is already in; True if it was wired now."""
        if any(type(p) is type(plugin) for p in self.plugins):
            return False
        self.plugins.append(plugin)
        plugin.wire(self)
        return True

    # --- contributions --------------------------------------------------------

    def add_menu(
        self, label: str, href: str, roles: Iterable[Role], order: int = 100, group: NavGroup | None = None
    ) -> None:
        item = NavItem(label, href, frozenset(roles), order, group)
        if item not in self.menu:
            self.menu.append(item)
            self.menu.sort(key=lambda i: i.order)

    def nav_for(self, user: Any) -> list[NavItem]:
        if user is None:
            return []
        return [item for item in self.menu if user.role in item.roles]

    def menu_for(self, user: Any, path: str) -> list[MenuLink | MenuGroup]:
        """The main menu ``user`` sees on ``path``: grouped when they have many entries (``sigap.menu``)."""
        return build(self.nav_for(user), path)

    def add_template_globals(self, **values: Any) -> None:
        clash = set(values) & set(self.template_globals)
        clash = {k for k in clash if self.template_globals[k] is not values[k]}
        if clash:
            raise RuntimeError(f"template globals defined twice: {sorted(clash)}")
        self.template_globals.update(values)

    def add_template_filters(self, **values: Any) -> None:
        clash = {k for k in set(values) & set(self.template_filters) if self.template_filters[k] is not values[k]}
        if clash:
            raise RuntimeError(f"template filters defined twice: {sorted(clash)}")
        self.template_filters.update(values)

    def add_job(self, name: str, fn: JobFn, *, run_at_start: bool = True, **cron: object) -> None:
        if name in self.jobs and self.jobs[name].fn is not fn:
            raise RuntimeError(f"job {name!r} defined twice")
        self.jobs[name] = Job(name, fn, dict(cron), run_at_start)

    def add_demo(self, name: str, loader: DemoLoader, *, order: int) -> None:
        """``loader(now=, storage=, context=)`` adds demo data; ``context`` is a
        dict the loaders share (the registry puts the demo manager's LKS there)."""
        self.demo_loaders.append((order, name, loader))
        self.demo_loaders.sort(key=lambda item: item[0])

    def add_cli(self, configure: CliConfigurer) -> None:
        if configure not in self.cli:
            self.cli.append(configure)

    def contribute(self, hook: str, fn: Any) -> None:
        fns = self._hooks.setdefault(hook, [])
        if fn not in fns:
            fns.append(fn)

    def hook(self, name: str) -> list[Any]:
        return list(self._hooks.get(name, ()))

    def render(self, template: str, **context: Any) -> Markup:
        """``template`` rendered with ``context`` and the template globals
        only: no request, no signed-in user, so the markup can show nothing
        of theirs it was not given (safe to keep and show to others)."""
        if self.templates is None:
            raise RuntimeError("no templates: an app's wiring renders, the CLI's does not")
        return Markup(self.templates.get_template(template).render(**context))

    def first(self, name: str) -> Any | None:
        fns = self._hooks.get(name)
        return fns[0] if fns else None


class DomainPlugin(InitPluginProtocol):
    """A domain's one entry: ``wire`` adds its non-HTTP parts to the wiring,
    ``route_handlers`` its controllers (imported only when an app is built)."""

    name = "domain"

    def wire(self, wiring: Wiring) -> None:  # pragma: no cover - each domain overrides
        raise NotImplementedError

    def route_handlers(self) -> list[Any]:
        return []

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        wiring: Wiring = app_config.state["wiring"]
        if wiring.install_one(self):  # the same domain given twice adds its routes once
            app_config.route_handlers.extend(self.route_handlers())
        return app_config


def wiring_of(connection: Any) -> Wiring:
    return connection.app.state.wiring

