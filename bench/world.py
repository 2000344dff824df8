"""The world the page scenarios look at: the demo data (``sigap demo``:
accounts of every role, 72 LKS with documents, a joint team per kecamatan),
then the plan and alerts jobs (``sigap jobs run``), so that tasks and
alerts exist. Every demo role is signed in, and the ids the pages open are
found through the JSON API as a person would find them:

- ``lks``: the manager's own LKS (staff open it too);
- ``task``: the first task on the demo inspector's list (Pinang's team,
  which the inspector leads: the visit form is theirs to fill)."""

from __future__ import annotations

import httpx

from bench.servers import BenchError, SigapApp

ROLES = ("admin", "staff", "inspector", "partner", "manager")


def _credentials(app: SigapApp) -> dict[str, str]:
    from pathlib import Path

    path = Path(app.env["SIGAP_VAR_DIR"]) / "demo_credentials.txt"
    pairs = (line.split(":", 1) for line in path.read_text().splitlines() if ":" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def load(env_cli) -> None:
    """Before the server starts: demo data, then the jobs (``env_cli`` runs
    ``sigap ARGS`` on the benchmark's database)."""
    env_cli("demo")
    env_cli("jobs", "run", "plan")
    env_cli("jobs", "run", "alerts")


def sign_in_all(app: SigapApp) -> tuple[dict[str, dict[str, str]], dict[str, int]]:
    """Sessions of every demo role, and the ids the page scenarios open."""
    creds = _credentials(app)
    sessions: dict[str, dict[str, str]] = {}
    for role in ROLES:
        if role not in creds:
            raise BenchError(f"the demo data has no {role} account: cannot measure its pages")
        response = httpx.post(
            app.url + "/api/v1/auth/login", json={"username": role, "password": creds[role]}, timeout=30
        )
        if response.status_code != 200 or "sigap_session" not in response.cookies:
            raise BenchError(f"sign-in as demo {role} failed: HTTP {response.status_code} {response.text[:300]}")
        sessions[role] = dict(response.cookies)

    def get(role: str, path: str) -> dict:
        cookie = "; ".join(f"{k}={v}" for k, v in sessions[role].items())
        response = httpx.get(app.url + path, headers={"Cookie": cookie}, timeout=60)
        if response.status_code != 200:
            raise BenchError(f"GET {path} as {role} answered {response.status_code}: {response.text[:300]}")
        return response.json()

    manager_lks = get("manager", "/api/v1/auth/me")["user"]["lks_id"]
    tasks = get("inspector", "/api/v1/tasks")["items"]
    if not manager_lks or not tasks:
        raise BenchError("the demo world has no LKS for the manager or no task for the inspector")
    return sessions, {"lks": manager_lks, "task": tasks[0]["id"]}
