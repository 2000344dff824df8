"""``create_app()``: the Litestar application with every domain wired in."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, Template, pass_eval_context, select_autoescape
from jinja2.nodes import EvalContext
from markupsafe import Markup
from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from sigap import db, i18n
from sigap.domains import default_plugins
from sigap.error_pages import error_handler
from sigap.logs import configure_logging
from sigap.openapi import declare_errors
from sigap.security import no_store_for_signed_in, security_headers
from sigap.sessions import make_store
from sigap.settings import PROJECT_ROOT, Settings, get_settings, set_settings
from sigap.static import StaticFiles
from sigap.storage import make_storage
from sigap.web import (
    AuthMiddleware,
    CSRFCookieMiddleware,
    RequestContextMiddleware,
    app_guard,
    no_nul_in_body,
)
from sigap.wiring import DomainPlugin, Wiring

log = logging.getLogger("sigap")


# Already-compressed or streamed downloads are sent as they are.
NOT_COMPRESSED = [r"/content$", r"\.pdf$", r"\.xlsx$"]
STATIC_MAX_AGE = 365 * 24 * 3600  # URLs carry the file's content hash


@lru_cache(maxsize=8192)
def _safe_translation(locale: str, message: str) -> Markup:
    """A template's translated text, as Jinja's i18n extension makes it in
    an autoescaped template (the translation is trusted markup)."""
    return Markup(i18n.translations(locale).gettext(message))


@lru_cache(maxsize=8192)
def _safe_text(locale: str, message: str) -> Markup:
    return _safe_translation(locale, message) % {}


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, message: str, **variables: object) -> str:
    """``_()`` in templates: what ``install_gettext_callables(newstyle=True)``
    gives (the text always treated as a %-format, the variables escaped in
    autoescaped templates), in one call instead of four, the translated
    Markup kept per language: a page calls it a hundred times or more."""
    if not eval_ctx.autoescape:
        return i18n.translations(i18n.get_locale()).gettext(message) % variables
    if not variables:
        return _safe_text(i18n.get_locale(), message)
    return _safe_translation(i18n.get_locale(), message) % variables


_DICT_ATTRIBUTES = frozenset(dir(dict))


class ImportingTemplate(Template):
    """A template whose ``{% from ... import %}`` of another costs
    microseconds: on each import Jinja checks whether the importing
    template sees globals the imported one does not (then it renders the
    imported module anew), comparing sixty names one by one through a
    ChainMap, about 35 us; the LKS page imports five times. When every
    such name is an environment global (always, here) the answer is no and
    Jinja's cached module is the result; otherwise Jinja decides."""

    def _get_default_module(self, ctx=None):
        if ctx is not None and ctx.globals_keys.issubset(self.environment.globals):
            ctx = None
        return super()._get_default_module(ctx)


class TemplateEnvironment(Environment):
    """Jinja's environment, reading ``row.name`` from a dict row (every
    database row is one) without first failing to find an attribute
    ``name``: Jinja tries the attribute, catches the AttributeError, then
    the key; a list page does that over a thousand times. The result is
    the same as Jinja's (a dict's own methods, ``d.items``, still win)."""

    template_class = ImportingTemplate

    def getattr(self, obj, attribute):
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def make_template_environment(static: StaticFiles) -> Environment:
    env = TemplateEnvironment(
        loader=FileSystemLoader(PROJECT_ROOT / "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the code: read and compiled once per process,
        # not checked on disk on every render (restart to see an edit).
        auto_reload=False,
    )
    env.install_gettext_callables(
        gettext=lambda message: i18n.gettext(message),
        ngettext=lambda singular, plural, n: i18n.translations(i18n.get_locale()).ngettext(singular, plural, n),
        newstyle=True,
    )
    env.globals["_"] = template_gettext
    env.filters["wib"] = i18n.format_datetime
    env.filters["tanggal"] = i18n.format_date
    env.globals.update(
        current_locale=i18n.get_locale,
        locale_names=i18n.LOCALE_NAMES,
        static_url=static.url,
    )
    return env


def create_app(settings: Settings | None = None, plugins: list[DomainPlugin] | None = None) -> Litestar:
    """The app with the given domains (default: all of them). Each domain's
    plugin adds its routes, menu, template globals, jobs and hooks to this
    app's ``Wiring`` (``app.state.wiring``); nothing is registered globally."""
    settings = settings or get_settings()
    set_settings(settings)
    configure_logging(settings.log_level)
    db.configure_engine(settings.database_url)
    session_store = make_store(settings.redis_url, settings.session_idle_minutes)
    storage = make_storage(settings.storage_url, settings.s3_endpoint_url)
    static = StaticFiles(PROJECT_ROOT / "static")
    templates = make_template_environment(static)
    wiring = Wiring(template_globals=templates.globals, template_filters=templates.filters, templates=templates)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            await db.start(sqlite_readers=settings.sqlite_readers)
        except Exception as exc:  # the database may come up later: /readyz tells
            log.error("database connection pool not started", extra={"error": type(exc).__name__})
        from sigap.scheduler import JobRunner

        jobs = JobRunner(
            settings.database_url,
            wiring.jobs,
            retry_s=settings.scheduler_retry_s,
            lock_path=settings.var_dir / "scheduler.lock" if settings.is_sqlite else None,
        )
        if settings.scheduler_enabled:
            await jobs.start()
        app.state.jobs = jobs
        try:
            yield
        finally:
            await jobs.stop()
            await db.stop()
            await session_store.close()
            storage.close()

    app = Litestar(
        route_handlers=[
            create_static_files_router(
                path="/static",
                directories=[static.root],
                include_in_schema=False,
                cache_control=CacheControlHeader(max_age=STATIC_MAX_AGE, public=True, immutable=True),
            ),
        ],
        plugins=list(plugins if plugins is not None else default_plugins()),
        lifespan=[lifespan],
        state=State({"settings": settings, "session_store": session_store, "storage": storage, "wiring": wiring}),
        compression_config=CompressionConfig(backend="gzip", gzip_compress_level=6, minimum_size=1024, exclude=NOT_COMPRESSED),
        middleware=[RequestContextMiddleware, AuthMiddleware, CSRFCookieMiddleware],
        response_headers=security_headers(https=settings.cookie_secure),
        before_send=[no_store_for_signed_in],
        guards=[app_guard],
        before_request=no_nul_in_body,
        template_config=TemplateConfig(
            engine=JinjaTemplateEngine.from_environment(templates)
        ),
        exception_handlers={Exception: error_handler},
        openapi_config=OpenAPIConfig(
            title="SIGAP API",
            version="1",
            description="JSON API of SIGAP. Authenticate with a session cookie (and X-CSRFToken) or a bearer token.",
            path="/schema",
            # JSON at /schema itself: no UI that would fetch scripts from a CDN.
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"]), YamlRenderPlugin()],
        ),
        logging_config=None,
        # Uploads stream to temporary files; the document service enforces
        # SIGAP_MAX_UPLOAD_MB itself, this only stops absurd bodies early.
        request_max_body_size=settings.max_upload_bytes + 1024 * 1024,
        debug=False,
    )
    declare_errors(app)
    return app


def app_from_environment() -> Litestar:
    """The app as each worker of ``sigap serve --workers N`` builds it (an
    import-string factory: uvicorn starts the workers in new processes)."""
    return create_app(get_settings())
