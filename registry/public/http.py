"""HTTP plumbing of the public pages: the per-address rate limit and the
shared-cache headers (``Cache-Control: public`` + ``ETag``, 304 on a match).

Rate limit: Litestar's own ``RateLimitMiddleware`` (a sliding window of
``SIGAP_PUBLIC_RATE_LIMIT`` requests a minute per address; 0 turns it off)
on a store every worker of an instance shares:

* ``SIGAP_REDIS_URL`` set: Redis, shared by every worker of every instance;
* otherwise a folder under ``SIGAP_VAR_DIR`` (Litestar's ``FileStore``):
  shared by the workers of one machine (``sigap serve --workers N``); two
  instances on two machines without Redis count separately. A per-process
  memory store would have let N workers take N times the limit.

The window is read and written without a lock between processes, so under
a burst from one address a few requests more than the limit may pass; the
limit is against scraping and floods, not an exact quota. Addresses are
stored only as an HMAC with the secret key (no raw IP address on disk), and
the ``purge-rate-limits`` job removes expired entries hourly.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from registry.public.services import rate_limit_folder
from sigap.i18n import normalize_locale
from sigap.settings import Settings
from sigap.web import client_address, settings_of

STORE_NAME = "sigap_public_rate_limit"
MAX_AGE = 60  # seconds a browser or proxy may reuse a public answer


def make_store(settings: Settings) -> Store:
    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(url=settings.redis_url, namespace="sigap_rate_limit")
    folder = rate_limit_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    return FileStore(folder)


def _identifier(request: Request) -> str:
    secret = settings_of(request).secret_key.encode()
    return hmac.new(secret, b"rate-limit\x00" + client_address(request).encode(), hashlib.sha256).hexdigest()[:32]


class PublicRateLimit(RateLimitMiddleware):
    """Litestar's rate limit with the app's configured limit (read per app,
    so two apps in one process can differ)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = scope["litestar_app"].state.settings.public_rate_limit
        if not limit:
            await self.app(scope, receive, send)
            return
        self.max_requests = limit
        await super().__call__(scope, receive, send)

    def create_send_wrapper(self, send: Send, cache_object: Any) -> Send:
        # The answers are shared by caches: per-address RateLimit-* headers
        # would be wrong there. Only a 429 carries them (and Retry-After).
        return send


RATE_LIMIT = RateLimitConfig(
    rate_limit=("minute", 60),
    store=STORE_NAME,
    identifier_for_request=_identifier,
    middleware_class=PublicRateLimit,
).middleware


class PublicCache:
    """A 200 answer to GET gets ``Cache-Control: public, max-age=60`` and a
    weak ETag of its body; a request whose ``If-None-Match`` names it gets
    304 without the body. The body is the same for everyone (no session is
    read on these routes); the language comes from ``?lang=`` or, without
    it, the language cookie (then ``Vary: Cookie``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                if message["status"] != 200:
                    await send(message)
                return
            if start.get("status") != 200:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            etag = 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            headers = MutableScopeHeaders.from_message(start)  # type: ignore[arg-type]
            headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
            headers["ETag"] = etag
            lang = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [""])[-1]
            if not normalize_locale(lang):  # the language cookie chose the language
                headers["Vary"] = "Cookie"
            sent = dict(scope["headers"]).get(b"if-none-match", b"").decode("latin-1")
            if etag in [t.strip() for t in sent.split(",")] or sent.strip() == "*":
                start["status"] = 304
                del headers["Content-Length"]
                del headers["Content-Type"]
                await send(start)
                await send({"type": "http.response.body", "body": b""})
                return
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffered)
