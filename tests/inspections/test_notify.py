"""The notify job against a real SMTP server (aiosmtpd on a loopback port):
one digest per user per day from 07:00 WIB, in the user's language, with the
alerts they may see; nothing sent twice; a server that is down is retried;
never an incident's description in a message."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest

from inspections.alerts import jobs as notify
from inspections.alerts import services as alerts
from inspections.alerts.jobs import raise_alerts
from inspections.alerts.tables import Alert, Notification
from inspections.incidents import services as incidents
from inspections.planning.tables import Task
from inspections.teams import services as teams
from registry.tables import Lks
from sigap import mail
from sigap.audit import Actor
from sigap.i18n import WIB
from sigap.settings import Settings, get_settings, set_settings
from sigap.tables import Role, User
from tests.conftest import free_port

STAFF = Actor(user_id=None, username="test", role=Role.staff)
SECRET = "RAHASIA-7731"  # in the incident description: must never reach a message


def wib(y: int, m: int, d: int, h: int = 9, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, s, tzinfo=WIB)


class Collector:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        parsed = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append({"to": list(envelope.rcpt_tos), "from": envelope.mail_from, "message": parsed,
                                  "body": parsed.get_body(("plain",)).get_content()})
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[dict]:
        return [m for m in self.messages if address in m["to"]]


def _start(handler, **kwargs):
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, port


@pytest.fixture
def smtp():
    handler = Collector()
    controller, port = _start(handler)
    handler.url = f"smtp://127.0.0.1:{port}"
    yield handler
    controller.stop()


@pytest.fixture
def restore_settings():
    before = get_settings()
    yield
    set_settings(before)


def actor(user: dict) -> Actor:
    return Actor(user_id=user["id"], username=user["username"], role=Role(user["role"]), lks_id=user["lks_id"])


def make_task(call, lks_id: int, due_on: date, team: int | None) -> int:
    now = datetime.now(timezone.utc)
    return call(Task.insert(Task(lks=lks_id, kind="routine", status="open", team=team, due_on=due_on,
                                 unique_key=f"test:{uuid.uuid4().hex}", created_at=now, updated_at=now)).returning(Task.id).run)[0]["id"]


@pytest.fixture
def world(call, make_lks, make_user):
    """Two LKS, a team, users of every kind, and alerts raised on 2027-03-10."""
    home = make_lks("LKSA Kasih Ibu")
    other = make_lks("LKSA Sukarasa", kelurahan_code="36.71.01.1001")
    for lks, until in ((home, date(2027, 3, 30)), (other, date(2030, 1, 1))):
        call(Lks.update({Lks.registration_status: "registered", Lks.valid_until: until}).where(Lks.id == lks["id"]).run)
    users = {
        "staff_id": make_user("staf_id", "staff", email="staf.id@dinsos.example", locale="id"),
        "staff_en": make_user("staf_en", "staff", email="staf.en@dinsos.example", locale="en"),
        "inspector": make_user("petugas", "inspector", email="petugas@dinsos.example", locale="id"),
        "outsider": make_user("petugas_lain", "inspector", email="lain@dinsos.example"),
        "manager": make_user("pengurus", "manager", email="pengurus@lksa.example", lks_id=home["id"], locale="en"),
        "no_email": make_user("tanpa_surel", "staff"),
    }
    team = call(teams.create_team, STAFF, name="Tim Pinang", area_code="36.71.11", now=datetime.now(timezone.utc))
    call(teams.add_member, STAFF, team["id"], agency="dinsos", user_id=users["inspector"]["id"], is_lead=True,
         now=datetime.now(timezone.utc))
    task = make_task(call, home["id"], date(2027, 3, 1), team["id"])
    incident = call(incidents.record_incident, STAFF, lks_id=home["id"], source="public_complaint", category="sexual_abuse",
                    severity="critical", occurred_on="2027-03-05", description=f"Laporan: {SECRET}, korban berusia 9 tahun.",
                    now=wib(2027, 3, 6, 10))
    call(raise_alerts, now=wib(2027, 3, 10, 6))
    return {"users": users, "home": home, "task": task, "incident": incident, "team": team["id"]}


def run(call, now: datetime, url: str | None):
    return call(notify.notify, now=now, settings=replace(get_settings(), smtp_url=url))


def test_daily_digest_once_per_user_in_their_language(call, smtp, world, monkeypatch, restore_settings):
    users = world["users"]
    # The URL comes from the environment, as in production.
    monkeypatch.setenv("SIGAP_SMTP_URL", smtp.url)
    monkeypatch.setenv("SIGAP_BASE_URL", "https://sigap.example.go.id")
    monkeypatch.setenv("SIGAP_MAIL_FROM", "SIGAP Dinsos <sigap@dinsos.example>")
    set_settings(Settings.from_env())

    before = call(notify.notify, now=wib(2027, 3, 10, 6, 59))
    assert before.digests == 0 and smtp.messages == [] and call(Notification.count().run) == 0

    first = call(notify.notify, now=wib(2027, 3, 10, 7, 0))
    assert (first.digests, first.sent, first.failed) == (4, 4, 0)
    # Users with an address and alerts they may see; the outsider's team has none.
    assert sorted(a for m in smtp.messages for a in m["to"]) == sorted(
        users[k]["email"] for k in ("staff_id", "staff_en", "inspector", "manager"))
    keys = {r["unique_key"] for r in call(Notification.select(Notification.unique_key).run)}
    assert keys == {f"digest:{users[k]['id']}:2027-03-10" for k in ("staff_id", "staff_en", "inspector", "manager")}

    base = "https://sigap.example.go.id"
    staff_en = smtp.to(users["staff_en"]["email"])[0]
    assert staff_en["message"]["Content-Language"] == "en"
    assert "SIGAP daily digest" in staff_en["body"] and "10 March 2027" in staff_en["body"]
    assert "SIGAP Dinsos <sigap@dinsos.example>" in staff_en["message"]["From"]
    assert f"{base}/incidents/{world['incident']['id']}" in staff_en["body"]
    assert f"{base}/tasks/{world['task']}" in staff_en["body"]
    assert f"{base}/lks/{world['home']['id']}" in staff_en["body"] and "LKSA Kasih Ibu" in staff_en["body"]
    assert f"{base}/alerts" in staff_en["body"]
    staff_id = smtp.to(users["staff_id"]["email"])[0]
    assert staff_id["message"]["Content-Language"] == "id" and "10 Maret 2027" in staff_id["body"]

    inspector = smtp.to(users["inspector"]["email"])[0]["body"]
    assert f"{base}/tasks/{world['task']}" in inspector and "/incidents/" not in inspector
    manager = smtp.to(users["manager"]["email"])[0]["body"]
    assert f"{base}/lks/{world['home']['id']}" in manager
    assert "/tasks/" not in manager and "/incidents/" not in manager and "ncident" not in manager
    for m in smtp.messages:
        assert SECRET not in m["body"] and SECRET not in str(m["message"]["Subject"])
        assert "korban" not in m["body"]

    # The same day, however often the job runs: nothing new, nothing resent.
    for now in (wib(2027, 3, 10, 7, 1), wib(2027, 3, 10, 7, 1), wib(2027, 3, 10, 15), wib(2027, 3, 10, 23, 59)):
        again = call(notify.notify, now=now)
        assert (again.digests, again.sent) == (0, 0)
    assert len(smtp.messages) == 4
    assert all(r["sent_at"] == wib(2027, 3, 10, 7) and r["attempts"] == 1 and r["last_error"] == ""
               for r in call(Notification.select().run))

    # The manager acknowledges their alert: no digest for them the next day.
    for item in call(alerts.inbox, actor(users["manager"]), now=wib(2027, 3, 10, 8)):
        call(alerts.acknowledge, actor(users["manager"]), item["id"], now=wib(2027, 3, 10, 8))
    call(raise_alerts, now=wib(2027, 3, 11, 6))
    assert call(notify.notify, now=wib(2027, 3, 11, 6, 30)).digests == 0
    nextday = call(notify.notify, now=wib(2027, 3, 11, 7, 5))
    assert (nextday.digests, nextday.sent) == (3, 3)
    assert len(smtp.to(users["manager"]["email"])) == 1 and len(smtp.to(users["staff_en"]["email"])) == 2


def test_digest_lists_alerts_by_severity(call, smtp, world):
    run(call, wib(2027, 3, 10, 7), smtp.url)
    body = smtp.to(world["users"]["staff_en"]["email"])[0]["body"]
    assert smtp.to(world["users"]["staff_en"]["email"])[0]["message"]["Subject"] == "SIGAP: 4 alerts need your attention"
    assert "more alert" not in body
    # critical (incident, urgent task) before medium (overdue routine task, registration in 20 days)
    assert body.index("CRITICAL (") < body.index("MEDIUM (")
    staff_actor = Actor(user_id=world["users"]["staff_en"]["id"], username="staf_en", role=Role.staff)
    from sigap.i18n import use_locale

    with use_locale("en"):
        expected = call(alerts.inbox, staff_actor, now=wib(2027, 3, 10, 7), limit=None)
    assert len(expected) == call(Alert.count().where(Alert.resolved_at.is_null()).run)
    for item in expected:
        assert item["title"] in body
    assert smtp.to(world["users"]["staff_en"]["email"])[0]["message"]["Subject"].startswith("SIGAP: ")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_down_counts_attempts_and_retries_later(call, world):
    users = world["users"]
    handler = Collector()
    port = free_port()  # nothing listens here yet
    url = f"smtp://sigap:pa55-rahasia@127.0.0.1:{port}"

    down = run(call, wib(2027, 3, 10, 7), url)
    assert (down.digests, down.sent, down.failed) == (4, 0, 4)
    rows = call(Notification.select().run)
    assert all(r["sent_at"] is None and r["attempts"] == 1 and r["last_error"] for r in rows)
    assert not any("pa55-rahasia" in r["last_error"] for r in rows)
    # Too early for the second attempt: nobody tries.
    assert run(call, wib(2027, 3, 10, 7, 0, 30), url).failed == 0
    assert {r["attempts"] for r in call(Notification.select(Notification.attempts).run)} == {1}

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login, auth_data.password) == (b"sigap", b"pa55-rahasia")
        return AuthResult(success=ok, handled=False)

    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False, auth_required=True)
    controller.start()
    try:
        up = run(call, wib(2027, 3, 10, 7, 2), url)
        assert (up.sent, up.failed) == (4, 0)
        assert sorted(a for m in handler.messages for a in m["to"]) == sorted(
            users[k]["email"] for k in ("staff_id", "staff_en", "inspector", "manager"))
        assert all(r["attempts"] == 2 and r["sent_at"] == wib(2027, 3, 10, 7, 2) and r["last_error"] == ""
                   for r in call(Notification.select().run))
        assert run(call, wib(2027, 3, 10, 8), url).sent == 0
        assert len(handler.messages) == 4

        # A wrong password is a failure like any other, and never stored.
        call(raise_alerts, now=wib(2027, 3, 11, 6))
        bad = run(call, wib(2027, 3, 11, 7), f"smtp://sigap:salah-sandi@127.0.0.1:{port}")
        assert bad.failed == 4 and len(handler.messages) == 4
        errors = [r["last_error"] for r in call(Notification.select().where(Notification.sent_at.is_null()).run)]
        assert len(errors) == 4 and not any("salah-sandi" in e for e in errors)
    finally:
        controller.stop()


def test_gives_up_after_five_attempts(call, world):
    url = f"smtp://127.0.0.1:{free_port()}"
    start = wib(2027, 3, 10, 7)
    for minutes in (0, 1, 5, 30, 120, 240, 600):
        run(call, start + timedelta(minutes=minutes), url)
    rows = call(Notification.select().run)
    assert len(rows) == 4 and all(r["attempts"] == 5 and r["sent_at"] is None for r in rows)


def test_concurrent_jobs_send_each_message_once(call, smtp, world):
    settings = replace(get_settings(), smtp_url=smtp.url)

    async def four_at_once():
        return await asyncio.gather(*(notify.notify(now=wib(2027, 3, 10, 7), settings=settings) for _ in range(4)))

    results = call(four_at_once)
    assert sum(r.digests for r in results) == 4 and sum(r.sent for r in results) == 4
    assert len(smtp.messages) == 4 and len({m["to"][0] for m in smtp.messages}) == 4
    assert call(Notification.count().run) == 4
    assert {m["message"]["Message-ID"] for m in smtp.messages} == {
        f"<sigap-digest-{u}-2027-03-10@localhost>" for u in call(Notification.select(Notification.user).output(as_list=True).run)}


def test_without_smtp_the_log_shows_the_message(call, world, caplog):
    caplog.set_level(logging.INFO, logger="sigap.mail")
    result = run(call, wib(2027, 3, 10, 7), None)
    assert (result.digests, result.sent) == (4, 4)
    records = [r for r in caplog.records if r.name == "sigap.mail"]
    assert len(records) == 4 and all(r.levelno == logging.INFO for r in records)
    assert all(r.subject.startswith("SIGAP: ") and SECRET not in r.body for r in records)
    assert not any("@" in r.getMessage() for r in records)
    assert all(r["sent_at"] is not None for r in call(Notification.select().run))


def test_a_claimed_message_is_not_sent_by_another_job(call, smtp, world):
    call(notify.build_digests, now=wib(2027, 3, 10, 7))
    [first, *rest] = call(Notification.select().order_by(Notification.id).run)
    # Another job claimed this one a minute ago and is still sending it.
    call(Notification.update({Notification.sent_at: wib(2027, 3, 10, 7), Notification.attempts: 1,
                              Notification.last_error: mail.SENDING}).where(Notification.id == first["id"]).run)
    assert run(call, wib(2027, 3, 10, 7, 1), smtp.url).sent == len(rest)
    assert smtp.to(call(User.select(User.email).where(User.id == first["user"]).first().run)["email"]) == []
    # That job died: after the lease the message is released and sent.
    assert run(call, wib(2027, 3, 10, 7, 20), smtp.url).sent == 1
    assert len(smtp.messages) == len(rest) + 1


def test_a_long_digest_shows_the_most_urgent_and_counts_the_rest(call, smtp, world, monkeypatch):
    monkeypatch.setattr(notify, "DIGEST_MAX_ITEMS", 2)
    run(call, wib(2027, 3, 10, 7), smtp.url)
    message = smtp.to(world["users"]["staff_en"]["email"])[0]
    assert message["message"]["Subject"] == "SIGAP: 4 alerts need your attention"
    assert "…and 2 more alerts." in message["body"]
    assert "CRITICAL (2)" in message["body"] and "MEDIUM (" not in message["body"]
