"""Every answer carries the security headers; signed-in answers are never
stored by a browser or proxy; HSTS only behind HTTPS."""

from __future__ import annotations

import re
from dataclasses import replace

from sigap.app import create_app
from tests.conftest import app_client, login


def test_headers_on_public_and_signed_in_pages(client, make_user):
    make_user("rina", "staff")
    public = client.get("/login")
    csp = public.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert public.headers["x-frame-options"] == "DENY"
    assert public.headers["x-content-type-options"] == "nosniff"
    assert public.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in public.headers["permissions-policy"] and "geolocation=()" in public.headers["permissions-policy"]
    assert "strict-transport-security" not in public.headers  # plain HTTP here
    assert "no-store" not in public.headers.get("cache-control", "")

    login(client, "rina")
    for path in ("/", "/lks", "/api/v1/lks", "/account", "/tasks"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["cache-control"] == "private, no-store", path
        assert r.headers["x-frame-options"] == "DENY"
    css = re.search(r'href="(/static/[^"]+)"', client.get("/").text).group(1)
    assert "immutable" in client.get(css).headers["cache-control"]  # static files keep their own rule


def test_pages_have_no_inline_script(client, make_user):
    """The policy forbids inline script, so no page may rely on one."""
    make_user("rina", "staff")
    login(client, "rina")
    for path in ("/login", "/", "/lks", "/lks/new", "/tasks", "/incidents", "/teams", "/alerts", "/account"):
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+=\"", html), path


def test_hsts_behind_https(settings):
    app = create_app(replace(settings, cookie_secure=True))
    with app_client(app) as (client, _call):
        r = client.get("/login")
        assert r.headers["strict-transport-security"].startswith("max-age=31536000")
