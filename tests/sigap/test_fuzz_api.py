"""Property-based fuzzing of the JSON API from its OpenAPI schema
(Schemathesis + Hypothesis): whatever a client sends, no answer is a 5xx,
and every answer has a status code and a body shape the schema declares.
It runs against a real server with a database of its own, signed in as an
admin with a bearer token (so every route is reachable), with a fixed
budget of examples per operation."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import response_schema_conformance, status_code_conformance
from schemathesis.core.failures import FailureGroup

from tests.conftest import BACKEND, ROOT, TMP, ServerProcess, free_port, password_for, pg_admin, pg_url

EXAMPLES = int(os.environ.get("SIGAP_FUZZ_EXAMPLES", "12"))


@pytest.fixture(scope="module")
def fuzz_server():
    """A server and a database of its own (the suite's database is emptied
    after every test; the fuzzer's records live for the whole module)."""
    folder = TMP / f"fuzz-{uuid.uuid4().hex[:6]}"
    env = {"SIGAP_VAR_DIR": str(folder / "var"), "SIGAP_SCHEDULER": "0", "SIGAP_STORAGE_URL": f"file://{folder / 'documents'}"}
    dbname = f"sigap_fuzz_{uuid.uuid4().hex[:8]}"
    if BACKEND == "postgres":
        pg_admin(f'CREATE DATABASE "{dbname}"')
        env["SIGAP_DATABASE_URL"] = pg_url(dbname)
    else:
        env["SIGAP_DATABASE_URL"] = f"sqlite:///{folder / 'sigap.sqlite3'}"

    def sigap(*args: str, stdin: str | None = None) -> None:
        done = subprocess.run([sys.executable, "-m", "sigap.cli", *args], cwd=ROOT, env={**os.environ, **env},
                              input=stdin, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr

    sigap("migrate")
    # Demo records (72 LKS, teams, tasks, documents): ids the fuzzer sends then
    # often name a real record, so it gets past 404 to the checks behind it.
    sigap("demo")
    sigap("user", "create", "--username", "fuzzadmin", "--role", "admin", "--password-stdin", stdin=password_for("fuzzadmin"))
    server = ServerProcess(env, free_port())
    server.wait_healthy()
    client = httpx.Client(base_url=server.url)
    client.get("/login")
    assert client.post("/api/v1/auth/login", json={"username": "fuzzadmin", "password": password_for("fuzzadmin")}).status_code == 200
    token = client.post("/api/v1/auth/tokens", json={"name": "fuzz"}, headers={"X-CSRFToken": client.cookies["sigap_csrf"]}).json()["token"]
    yield server, token
    server.stop()
    if BACKEND == "postgres":
        pg_admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


SKIPPED = {
    # Revoking the fuzzer's own token or signing out would end the run; both have their own tests.
    ("POST", "/api/v1/auth/logout"), ("DELETE", "/api/v1/auth/tokens/{token_id}"),
}


def test_no_input_makes_the_api_answer_5xx(fuzz_server):
    """Every JSON API operation, EXAMPLES generated requests each (valid and
    invalid bodies, odd path and query values); every 5xx is listed."""
    from hypothesis import given

    server, token = fuzz_server
    schema = schemathesis.openapi.from_url(server.url + "/schema/openapi.json").include(path_regex="^/api/v1/")
    failures: list[str] = []
    statuses: dict[int, int] = {}
    reached: set[str] = set()  # operations that got at least one 2xx
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def run(case):
            response = case.call(base_url=server.url, headers={"Authorization": f"Bearer {token}"})
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if 200 <= response.status_code < 300:
                reached.add(f"{operation.method.upper()} {operation.path}")
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")
                return
            try:  # the answer is one the schema declares, in the shape it declares
                case.validate_response(response, checks=[status_code_conformance, response_schema_conformance])
            except (AssertionError, FailureGroup) as exc:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code} not as documented: {str(exc)[:300]}")

        run()
    print(f"fuzz: {operations} operations, answers by status: {dict(sorted(statuses.items()))}")
    print(f"fuzz: {len(reached)} of {operations} operations answered 2xx at least once; never: "
          + ", ".join(sorted({f'{o.method.upper()} {o.path}' for o in (r.ok() for r in schema.get_all_operations())} - reached)))
    assert operations > 30
    assert not failures, "\n".join(sorted(set(failures)))
