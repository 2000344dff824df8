"""Sessions in Redis (``SIGAP_REDIS_URL``), against the real Redis server."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests.conftest import CI, REDIS_URL, password_for


def _redis_or_fail():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        if CI:
            raise
        pytest.fail(f"Redis at {REDIS_URL} is not reachable ({exc}); scripts/test-services.sh starts it")
    return client


def test_redis_store_round_trip_and_expiry():
    from sigap.sessions import RedisSessionStore

    raw = _redis_or_fail()

    async def scenario():
        store = RedisSessionStore(REDIS_URL, timedelta(minutes=30))
        try:
            now = datetime.now(timezone.utc)
            key = await store.create(42, 3, now=now)
            name = store.prefix + hashlib.sha256(key.encode()).hexdigest()
            assert 0 < raw.ttl(name) <= 30 * 60
            assert key not in str(raw.get(name))  # only the hash is a key
            data = await store.get(key, now=now)
            assert (data.user_id, data.auth_epoch) == (42, 3)
            assert await store.get(key, now=now + timedelta(minutes=31)) is None
            await store.extend(key, now=now + timedelta(minutes=20))
            assert await store.get(key, now=now + timedelta(minutes=45)) is not None
            await store.delete(key)
            assert await store.get(key, now=now) is None
            assert raw.exists(name) == 0
        finally:
            await store.close()

    asyncio.run(scenario())


def test_app_keeps_sessions_in_redis(start_server, make_user):
    raw = _redis_or_fail()
    make_user("rina", "staff")
    server = start_server({"SIGAP_REDIS_URL": REDIS_URL})
    with httpx.Client(base_url=server.url) as http:
        r = http.post("/api/v1/auth/login", json={"username": "rina", "password": password_for("rina")})
        assert r.status_code == 200
        key = http.cookies["sigap_session"]
        name = "sigap:session:" + hashlib.sha256(key.encode()).hexdigest()
        assert raw.exists(name) == 1
        assert http.get("/api/v1/auth/me").status_code == 200
        ready = http.get("/readyz").json()
        assert ready["checks"]["sessions"] == "ok"
        r = http.post("/api/v1/auth/logout", headers={"X-CSRFToken": http.cookies["sigap_csrf"]})
        assert r.status_code == 204
        assert raw.exists(name) == 0
        assert http.get("/api/v1/auth/me").status_code == 401


def test_readyz_503_when_redis_is_down(start_server):
    server = start_server({"SIGAP_REDIS_URL": "redis://127.0.0.1:1/0"})
    r = httpx.get(server.url + "/readyz", timeout=15)
    assert r.status_code == 503 and r.json()["checks"]["sessions"] == "error"
