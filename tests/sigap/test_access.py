"""Each role's access to each route, allowed and denied.

ROUTES is the access policy of the shell, written out. A route added to the
app without an entry here fails ``test_every_route_has_a_policy``; later
issues add their routes to their own domain's table the same way."""

from __future__ import annotations

import pytest

from sigap.tables import Role
from tests.conftest import csrf_token, login

PUBLIC = "public"
ANY = frozenset(Role)
ADMIN = frozenset({Role.admin})
STAFF = frozenset({Role.admin, Role.staff})
STAFF_MANAGER = frozenset({Role.admin, Role.staff, Role.manager})
FIELD_STAFF = frozenset({Role.admin, Role.staff, Role.inspector, Role.partner})
MANAGER = frozenset({Role.manager})
REPORTERS = frozenset({Role.admin, Role.staff, Role.partner})  # unregistered-LKS reports
FILERS = frozenset({Role.admin, Role.staff, Role.inspector})
NOT_MANAGER = ANY - MANAGER  # API tokens are for the office's devices, not an LKS's

# (method, path, who may use it). {user} and {token} are replaced by ids of
# another user's account and token.
ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/", PUBLIC),
    ("GET", "/login", PUBLIC),
    ("POST", "/login", PUBLIC),
    ("POST", "/logout", PUBLIC),
    ("POST", "/lang", PUBLIC),
    ("GET", "/healthz", PUBLIC),
    ("GET", "/readyz", PUBLIC),
    ("POST", "/api/v1/auth/login", PUBLIC),
    ("POST", "/api/v1/auth/logout", PUBLIC),
    # The public register and certificate check: no sign-in, no session.
    ("GET", "/register", PUBLIC),
    ("GET", "/verify", PUBLIC),
    ("GET", "/verify/{token:path}", PUBLIC),
    ("GET", "/api/v1/public/lks", PUBLIC),
    ("GET", "/api/v1/public/verify/{token:path}", PUBLIC),
    # Public reports (/lapor): anyone sends one and follows it by its code.
    ("GET", "/lapor", PUBLIC),
    ("POST", "/lapor", PUBLIC),
    ("GET", "/lapor/cek", PUBLIC),
    ("GET", "/lapor/{code:str}", PUBLIC),
    ("GET", "/api/v1/public/reports/form", PUBLIC),
    ("POST", "/api/v1/public/reports", PUBLIC),
    ("GET", "/api/v1/public/reports/{code:str}", PUBLIC),
    ("GET", "/account", ANY),
    ("POST", "/account/password", ANY),
    ("POST", "/account/tokens", NOT_MANAGER),
    ("POST", "/account/tokens/{token}/revoke", ANY),
    ("GET", "/api/v1/auth/me", ANY),
    ("GET", "/api/v1/auth/tokens", ANY),
    ("POST", "/api/v1/auth/tokens", NOT_MANAGER),
    ("DELETE", "/api/v1/auth/tokens/{token}", ANY),
    ("GET", "/admin/users", ADMIN),
    ("GET", "/admin/users/new", ADMIN),
    ("POST", "/admin/users", ADMIN),
    ("GET", "/admin/users/{user}", ADMIN),
    ("POST", "/admin/users/{user}", ADMIN),
    ("POST", "/admin/users/{user}/password", ADMIN),
    ("POST", "/admin/users/{user}/deactivate", ADMIN),
    ("POST", "/admin/users/{user}/activate", ADMIN),
    ("GET", "/admin/users/{user}/tokens", ADMIN),
    ("POST", "/admin/tokens/{token}/revoke", ADMIN),
    ("GET", "/admin/audit", ADMIN),
    ("GET", "/api/v1/users", ADMIN),
    ("POST", "/api/v1/users", ADMIN),
    ("GET", "/api/v1/users/{user}", ADMIN),
    ("PATCH", "/api/v1/users/{user}", ADMIN),
    ("GET", "/api/v1/audit", ADMIN),
    # registry: a manager passes the role guard, then sees only their own LKS
    # (another one is 404: see tests/registry/test_manager_portal.py).
    ("GET", "/lks", STAFF_MANAGER),
    ("GET", "/lks/new", STAFF),
    ("POST", "/lks", STAFF),
    ("GET", "/lks/{lks}", STAFF_MANAGER),
    ("GET", "/lks/{lks}/edit", STAFF_MANAGER),
    ("POST", "/lks/{lks}/edit", STAFF_MANAGER),
    ("POST", "/lks/{lks}/workflow", STAFF_MANAGER),
    ("POST", "/lks/{lks}/documents", STAFF_MANAGER),
    ("POST", "/lks/{lks}/documents/review", STAFF),
    ("GET", "/lks/{lks}/certificate.pdf", STAFF_MANAGER),
    ("GET", "/documents/{document}/content", STAFF_MANAGER),
    ("POST", "/documents/{document}/review", STAFF),
    ("GET", "/api/v1/lks", STAFF),
    ("POST", "/api/v1/lks", STAFF),
    ("GET", "/api/v1/lks/{lks}", STAFF_MANAGER),
    ("PATCH", "/api/v1/lks/{lks}", STAFF_MANAGER),
    ("POST", "/api/v1/lks/{lks}/transitions", STAFF_MANAGER),
    ("GET", "/api/v1/lks/{lks}/documents", STAFF_MANAGER),
    ("POST", "/api/v1/lks/{lks}/documents", STAFF_MANAGER),
    ("GET", "/api/v1/documents/{document}/content", STAFF_MANAGER),
    ("POST", "/api/v1/documents/{document}/review", STAFF),
    ("GET", "/api/v1/regions", STAFF_MANAGER),
    ("GET", "/lks/import", STAFF),
    ("GET", "/lks/import/template.xlsx", STAFF),
    ("POST", "/lks/import", STAFF),
    ("POST", "/lks/import/commit", STAFF),
    ("POST", "/lks/import/mapping", STAFF),
    ("POST", "/api/v1/lks/imports", STAFF),
    ("POST", "/api/v1/lks/imports/{import_id:str}/commit", STAFF),
    ("GET", "/lks/export.csv", STAFF),
    ("GET", "/lks/export.xlsx", STAFF),
    # inspections: tasks, teams, incidents. An inspector or partner passes the
    # role guard, then sees only their teams' tasks (another is 404: see
    # tests/inspections/test_tasks.py); incidents are staff-only.
    ("GET", "/tasks", FIELD_STAFF),
    ("GET", "/tasks/calendar", FIELD_STAFF),
    ("POST", "/tasks/feed", FIELD_STAFF),
    ("GET", "/tasks/feed/{feed_token:str}", PUBLIC),  # the token authenticates
    ("GET", "/tasks/{task}", FIELD_STAFF),
    ("POST", "/tasks/{task}/action", FIELD_STAFF),
    ("GET", "/lks/{lks}/monitoring", FIELD_STAFF),
    ("GET", "/api/v1/tasks", FIELD_STAFF),
    ("GET", "/api/v1/tasks/{task}", FIELD_STAFF),
    ("POST", "/api/v1/tasks/{task}/actions", FIELD_STAFF),
    ("GET", "/teams", STAFF),
    ("GET", "/teams/new", STAFF),
    ("POST", "/teams", STAFF),
    ("GET", "/teams/{team}", STAFF),
    ("POST", "/teams/{team}/members", STAFF),
    ("POST", "/teams/{team}/members/{member}/remove", STAFF),
    ("GET", "/api/v1/teams", STAFF),
    ("POST", "/api/v1/teams", STAFF),
    ("GET", "/api/v1/teams/{team}", STAFF),
    ("GET", "/incidents", STAFF),
    ("GET", "/incidents/new", STAFF),
    ("POST", "/incidents", STAFF),
    ("GET", "/incidents/{incident}", STAFF),
    ("POST", "/incidents/{incident}/actions", STAFF),
    ("POST", "/incidents/{incident}/close", STAFF),
    ("GET", "/api/v1/incidents", STAFF),
    ("POST", "/api/v1/incidents", STAFF),
    ("GET", "/api/v1/incidents/{incident}", STAFF),
    ("GET", "/alerts", ANY),
    ("POST", "/alerts/{alert}/ack", ANY),
    ("GET", "/api/v1/alerts", ANY),
    ("POST", "/api/v1/alerts/{alert}/ack", ANY),
    # findings: managers answer their own LKS's, staff decide; the field view.
    ("GET", "/findings", STAFF_MANAGER),
    ("GET", "/findings/{finding}", STAFF),
    ("POST", "/findings/{finding}/responses", MANAGER),
    ("POST", "/findings/{finding}/decision", STAFF),
    ("GET", "/api/v1/findings", STAFF_MANAGER),
    ("POST", "/api/v1/findings/{finding}/responses", MANAGER),
    ("POST", "/api/v1/findings/{finding}/close", STAFF),
    ("GET", "/api/v1/lks/{lks}/field", FIELD_STAFF),
    # visit reports: the team and staff read them (the services narrow it to
    # the team's tasks), staff review; admins edit checklists as new versions.
    ("GET", "/api/v1/checklists", FIELD_STAFF),
    ("GET", "/api/v1/visits", FIELD_STAFF),
    ("POST", "/api/v1/visits", FIELD_STAFF),
    ("GET", "/api/v1/visits/{visit}", FIELD_STAFF),
    ("POST", "/api/v1/visits/{visit}/resubmit", FIELD_STAFF),
    ("POST", "/api/v1/visits/{visit}/review", STAFF),
    ("POST", "/api/v1/visits/{visit}/photos", FIELD_STAFF),
    ("GET", "/visits", FIELD_STAFF),
    ("GET", "/visits/{visit}", FIELD_STAFF),
    ("POST", "/visits/{visit}/review", STAFF),
    ("GET", "/visits/{visit}/photos/{photo}", FIELD_STAFF),
    ("GET", "/visits/{visit}/report.pdf", FIELD_STAFF),
    ("GET", "/admin/checklists", ADMIN),
    ("GET", "/admin/checklists/{code:str}/new", ADMIN),
    ("POST", "/admin/checklists/{code:str}/new", ADMIN),
    # the tablet's visit form (partners co-sign, they do not file), its
    # outbox page, and the service worker and manifest every page may fetch.
    ("GET", "/tasks/{task}/visit", FILERS),
    ("GET", "/visits/outbox", FIELD_STAFF),
    ("GET", "/sw.js", PUBLIC),
    ("GET", "/manifest.webmanifest", PUBLIC),
    # Unregistered-LKS reports ({sighting} is another user's report: a
    # partner gets 404 for it, never 403) and the admin's LKS search.
    ("GET", "/sightings", REPORTERS),
    ("GET", "/sightings/new", REPORTERS),
    ("POST", "/sightings", REPORTERS),
    ("GET", "/sightings/{sighting}", REPORTERS),
    ("POST", "/sightings/{sighting}/outcome", STAFF),
    ("GET", "/sightings/{sighting}/photo", REPORTERS),
    ("GET", "/api/v1/sightings", REPORTERS),
    ("POST", "/api/v1/sightings", REPORTERS),
    ("GET", "/api/v1/sightings/{sighting}", REPORTERS),
    ("POST", "/api/v1/sightings/{sighting}/outcome", STAFF),
    ("GET", "/api/v1/sightings/lks", REPORTERS),
    ("GET", "/admin/lks-search", ADMIN),
    # the map of LKS (overview/map): Dinas Sosial only.
    ("GET", "/map", STAFF),
    ("GET", "/api/v1/map/lks", STAFF),
    # the dashboard's figures and the monthly report (overview): Dinas Sosial only.
    ("GET", "/api/v1/dashboard", STAFF),
    ("GET", "/reports/monthly", STAFF),
    ("POST", "/reports/monthly", STAFF),
    ("POST", "/reports/monthly/subscription", STAFF),
    ("GET", "/reports/monthly/{month:str}/{kind:str}", STAFF),
    ("GET", "/api/v1/reports/monthly", STAFF),
    ("POST", "/api/v1/reports/monthly", STAFF),
    ("PUT", "/api/v1/reports/monthly/subscription", STAFF),
    ("GET", "/api/v1/reports/monthly/{month:str}", STAFF),
    # the triage of public reports: staff only (the reporter's contact is restricted).
    ("GET", "/public-reports", STAFF),
    ("GET", "/public-reports/{report}", STAFF),
    ("GET", "/public-reports/{report}/photo", STAFF),
    ("POST", "/public-reports/{report}/incident", STAFF),
    ("POST", "/public-reports/{report}/sighting", STAFF),
    ("POST", "/public-reports/{report}/close", STAFF),
    ("GET", "/api/v1/public-reports", STAFF),
    ("GET", "/api/v1/public-reports/{report}", STAFF),
    ("POST", "/api/v1/public-reports/{report}/triage", STAFF),
    # improvement plans: managers answer their own LKS's actions, staff plan and decide.
    ("GET", "/accreditation/improvement", STAFF_MANAGER),
    ("GET", "/accreditation/improvement/new", STAFF),
    ("POST", "/accreditation/improvement", STAFF),
    ("GET", "/accreditation/improvement/{action}", STAFF_MANAGER),
    ("POST", "/accreditation/improvement/{action}/answers", MANAGER),
    ("POST", "/accreditation/improvement/{action}/decision", STAFF),
    ("GET", "/api/v1/accreditation/improvement/actions", STAFF_MANAGER),
    ("POST", "/api/v1/accreditation/improvement/actions", STAFF),
    ("GET", "/api/v1/accreditation/improvement/actions/{action}", STAFF_MANAGER),
    ("POST", "/api/v1/accreditation/improvement/actions/{action}/answers", MANAGER),
    ("POST", "/api/v1/accreditation/improvement/actions/{action}/decision", STAFF),
    # pembinaan: staff only, but a manager prints their own LKS's certificates and reads its record.
    ("GET", "/accreditation/training", STAFF),
    ("POST", "/accreditation/training", STAFF),
    ("GET", "/accreditation/training/coverage", STAFF),
    ("GET", "/accreditation/training/{session}", STAFF),
    ("POST", "/accreditation/training/{session}/attendance", STAFF),
    ("POST", "/accreditation/training/{session}/attendance/{attendance}/delete", STAFF),
    ("GET", "/accreditation/training/certificates/{attendance}/sertifikat.pdf", STAFF_MANAGER),
    ("GET", "/api/v1/accreditation/training/sessions", STAFF),
    ("POST", "/api/v1/accreditation/training/sessions", STAFF),
    ("GET", "/api/v1/accreditation/training/sessions/{session}", STAFF),
    ("POST", "/api/v1/accreditation/training/sessions/{session}/attendance", STAFF),
    ("GET", "/api/v1/accreditation/training/coverage", STAFF),
    ("GET", "/api/v1/accreditation/training/lks/{lks}", STAFF_MANAGER),
    # accreditation: staff run the board and the records, managers read their
    # own LKS's record and fill in its self-assessment, admins the instrument.
    ("GET", "/accreditation", STAFF),
    ("GET", "/accreditation/export.xlsx", STAFF),
    ("GET", "/api/v1/accreditation/pipeline", STAFF),
    ("GET", "/accreditation/lks/{lks}", STAFF_MANAGER),
    ("POST", "/accreditation/lks/{lks}/cycles", STAFF),
    ("POST", "/accreditation/lks/{lks}/stage", STAFF),
    ("POST", "/accreditation/lks/{lks}/decision", STAFF),
    ("GET", "/api/v1/accreditation/lks/{lks}", STAFF_MANAGER),
    ("POST", "/api/v1/accreditation/lks/{lks}/cycles", STAFF),
    ("POST", "/api/v1/accreditation/cycles/{cycle}/stage", STAFF),
    ("POST", "/api/v1/accreditation/cycles/{cycle}/decision", STAFF),
    ("GET", "/accreditation/self-assessment", MANAGER),
    ("POST", "/accreditation/lks/{lks}/assessment", STAFF_MANAGER),
    ("GET", "/accreditation/assessments/{assessment}", STAFF_MANAGER),
    ("POST", "/accreditation/assessments/{assessment}", MANAGER),
    ("POST", "/accreditation/assessments/{assessment}/review", STAFF),
    ("POST", "/accreditation/assessments/{assessment}/assessor", STAFF),
    ("GET", "/accreditation/assessments/{assessment}/letter.pdf", STAFF_MANAGER),
    ("POST", "/api/v1/accreditation/lks/{lks}/assessment", STAFF_MANAGER),
    ("GET", "/api/v1/accreditation/assessments/{assessment}", STAFF_MANAGER),
    ("PUT", "/api/v1/accreditation/assessments/{assessment}", MANAGER),
    ("POST", "/api/v1/accreditation/assessments/{assessment}/review", STAFF),
    ("POST", "/api/v1/accreditation/assessments/{assessment}/assessor", STAFF),
    ("GET", "/api/v1/accreditation/assessments/{assessment}/weakest", STAFF_MANAGER),
    ("GET", "/admin/accreditation", ADMIN),
    ("POST", "/admin/accreditation/grading", ADMIN),
    ("POST", "/admin/accreditation/instrument", ADMIN),
    ("GET", "/api/v1/accreditation/instrument", ANY),
    ("POST", "/api/v1/accreditation/instrument", ADMIN),
]


def _app_routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        if route.path.startswith(("/static", "/schema")):
            continue
        for method in getattr(route, "methods", ()):
            if method in {"HEAD", "OPTIONS"}:
                continue
            path = route.path
            for name, param in (("user_id", "{user}"), ("token_id", "{token}"), ("lks_id", "{lks}"), ("document_id", "{document}"),
                                ("task_id", "{task}"), ("team_id", "{team}"), ("member_id", "{member}"), ("incident_id", "{incident}"), ("alert_id", "{alert}"),
                                ("finding_id", "{finding}"), ("visit_id", "{visit}"), ("photo_id", "{photo}"), ("sighting_id", "{sighting}"),
                                ("action_id", "{action}"), ("session_id", "{session}"), ("attendance_id", "{attendance}"),
                                ("assessment_id", "{assessment}"), ("cycle_id", "{cycle}"), ("report_id", "{report}")):
                path = path.replace("{" + name + ":int}", param)
            found.add((method, path.rstrip("/") or "/"))
    return found


def test_every_route_has_a_policy(app):
    declared = {(m, p) for m, p, _who in ROUTES}
    assert _app_routes(app) == declared


def test_every_non_public_route_has_a_role_guard(app):
    for route in app.routes:
        if route.path.startswith(("/static", "/schema")):
            continue
        for handler in route.route_handlers:
            if handler.opt.get("public") or handler.http_methods == {"OPTIONS"}:
                continue
            guards = [g for layer in handler.ownership_layers for g in (layer.guards or [])]
            role_guards = [g for g in guards if hasattr(g, "roles")]
            assert role_guards, f"{route.path} {handler.http_methods} has no role guard"


def _request(client, method: str, path: str):
    headers = {"X-CSRFToken": csrf_token(client)}
    if path.startswith("/api/"):
        return client.request(method, path, json={} if method in {"POST", "PATCH"} else None, headers=headers)
    if method == "GET":
        return client.get(path, follow_redirects=False)
    return client.post(path, data={"_csrf_token": csrf_token(client)}, follow_redirects=False)


@pytest.fixture
def targets(make_user, make_lks, call, app):
    """Another user's account, API token, LKS and document, for the paths."""
    import io
    from datetime import datetime, timezone

    from registry import documents
    from sigap import tokens
    from sigap.audit import Actor

    now = datetime.now(timezone.utc)
    other = make_user("target", "staff")
    actor = Actor(user_id=other["id"], username="target", role=Role.staff)
    _raw, token = call(tokens.create_token, actor, name="target token", now=now)
    lks = make_lks("LKS Sasaran")
    document, _created = call(
        documents.upload, actor, lks["id"], doc_type="npwp", filename="npwp.pdf",
        fileobj=io.BytesIO(b"%PDF-1.4 sasaran"), now=now, storage=app.state.storage, max_bytes=10**6,
    )
    from inspections.incidents import services as incidents
    from inspections.planning.services import search_tasks
    from inspections.teams import services as teams

    team = call(teams.create_team, actor, name="Tim Sasaran", area_code="36.71.11", now=now)
    member = call(teams.add_member, actor, team["id"], agency="rt_rw", name="Ketua RT Sasaran", now=now)
    incident = call(
        incidents.record_incident, actor, lks_id=lks["id"], source="police", category="neglect", severity="high",
        occurred_on=now.date(), description="Sasaran uji akses: penelantaran.", now=now,
    )
    task = call(search_tasks, actor, lks_id=lks["id"])[0]
    from datetime import timedelta

    from inspections.alerts.jobs import raise_alerts
    from inspections.alerts.tables import Alert

    call(raise_alerts, now=now + timedelta(days=3))
    alert = call(Alert.select(Alert.id).first().run)
    from inspections.findings.tables import Finding

    finding = call(Finding.insert(Finding(lks=lks["id"], severity="minor", description="Sasaran uji akses", due_on=now.date(),
                                          created_at=now)).returning(Finding.id).run)[0]
    from registry.sightings import services as sightings

    sighting, _created = call(sightings.create, actor, {"lks_id": str(lks["id"]), "seen": "Sasaran uji akses."}, now=now,
                              storage=app.state.storage, max_photo_bytes=10**6)
    return {"{sighting}": str(sighting["id"]), "{alert}": str(alert["id"]), "{user}": str(other["id"]), "{token}": str(token["id"]), "{lks}": str(lks["id"]), "{document}": str(document["id"]),
            "{task}": str(task["id"]), "{team}": str(team["id"]), "{member}": str(member["id"]), "{incident}": str(incident["id"]),
            "{finding}": str(finding["id"]), "{visit}": "999999", "{photo}": "999999",
            "{action}": "999999", "{session}": "999999", "{attendance}": "999999", "{assessment}": "999999", "{cycle}": "999999",
            "{report}": "999999", "{month:str}": "2026-10", "{kind:str}": "pdf"}


@pytest.mark.parametrize("role", [r.value for r in Role] + ["anonymous"])
def test_role_access(role, client, make_user, targets):
    if role != "anonymous":
        make_user(f"{role}-user", role)
        login(client, f"{role}-user")
    else:
        client.get("/login")  # a CSRF cookie, as any browser would have
    for method, template, who in ROUTES:
        if who == PUBLIC or (method, template) == ("POST", "/logout"):
            continue
        path = template
        for key, value in targets.items():
            path = path.replace(key, value)
        response = _request(client, method, path)
        where = f"{role} {method} {path} -> {response.status_code}"
        if role == "anonymous":
            if path.startswith("/api/"):
                assert response.status_code == 401, where
                assert response.json()["error"] == "signin_required", where
            else:
                assert response.status_code == 303, where
                assert response.headers["location"].startswith("/login?next="), where
        elif Role(role) in who:
            assert response.status_code not in (401, 403), where
        else:
            assert response.status_code == 403, where
            if path.startswith("/api/"):
                assert response.json()["error"] == "forbidden", where
            else:
                assert "Akses ditolak" in response.text, where
