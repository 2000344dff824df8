"""Liveness and readiness probes for the operator."""

from __future__ import annotations

from litestar import Controller, Request, Response, get

from sigap import db
from sigap.controllers.common import (
    PUBLIC,
    log,
)
from sigap.storage import Storage

# --- operations ----------------------------------------------------------------


class Health(Controller):
    include_in_schema = False
    opt = PUBLIC

    @get("/healthz")
    async def healthz(self) -> dict:
        return {"status": "ok"}

    @get("/readyz")
    async def readyz(self, request: Request) -> Response[dict]:
        checks: dict[str, str] = {}
        try:
            await db.ping()
            checks["database"] = "ok"
        except Exception as exc:  # any failure means "not ready"
            checks["database"] = "error"
            log.warning("readiness: database unreachable", extra={"error": type(exc).__name__})
        storage: Storage = request.app.state.storage
        try:
            await storage.check()
            checks["storage"] = "ok"
        except Exception as exc:
            checks["storage"] = "error"
            log.warning("readiness: storage unreachable", extra={"error": type(exc).__name__})
        store = request.app.state.session_store
        if hasattr(store, "ping"):
            try:
                await store.ping()
                checks["sessions"] = "ok"
            except Exception as exc:
                checks["sessions"] = "error"
                log.warning("readiness: session store unreachable", extra={"error": type(exc).__name__})
        ready = all(v == "ok" for v in checks.values())
        jobs = getattr(request.app.state, "jobs", None)
        body = {"status": "ok" if ready else "unavailable", "checks": checks, "scheduler": jobs.role if jobs else "off"}
        return Response(body, status_code=200 if ready else 503)
