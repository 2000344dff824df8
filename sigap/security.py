"""Security headers on every answer, and ``Cache-Control: private, no-store``
on everything a signed-in user receives (pages and API answers carry
personal data; a shared computer's back button or a proxy must not keep
them). Static files and answers that set their own Cache-Control keep it."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders, ResponseHeader
from litestar.types import Message, Scope

# Scripts and styles only from our own origin: no inline script anywhere.
_IMG_SRC = "img-src 'self' data: blob:"
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    _IMG_SRC,
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def policy_with_images_from(*sources: str) -> str:
    """The policy with images also allowed from ``sources`` (e.g. the map
    page's tile server), for the one route that needs them."""
    return CONTENT_SECURITY_POLICY.replace(_IMG_SRC, " ".join([_IMG_SRC, *sources]), 1)


# Camera and position are off everywhere; the visit form's route turns on
# what it needs with its own header (PERMISSIONS_FOR_VISITS).
PERMISSIONS_POLICY = "camera=(), geolocation=(), microphone=(), payment=(), usb=()"
PERMISSIONS_FOR_VISITS = "camera=(self), geolocation=(self), microphone=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"
NO_STORE = "private, no-store"


def security_headers(*, https: bool) -> list[ResponseHeader]:
    headers = [
        ResponseHeader(name="Content-Security-Policy", value=CONTENT_SECURITY_POLICY),
        ResponseHeader(name="X-Frame-Options", value="DENY"),
        ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
        ResponseHeader(name="Referrer-Policy", value="strict-origin-when-cross-origin"),
        ResponseHeader(name="Permissions-Policy", value=PERMISSIONS_POLICY),
        ResponseHeader(name="Cross-Origin-Opener-Policy", value="same-origin"),
    ]
    if https:  # only behind HTTPS: a browser would otherwise refuse plain HTTP for a year
        headers.append(ResponseHeader(name="Strict-Transport-Security", value=HSTS))
    return headers


async def no_store_for_signed_in(message: Message, scope: Scope) -> None:
    """``before_send`` hook: a signed-in answer without its own caching rule
    is never stored."""
    if message["type"] != "http.response.start" or not scope.get("user"):
        return
    headers = MutableScopeHeaders.from_message(message)
    if "cache-control" not in headers:
        headers["Cache-Control"] = NO_STORE
