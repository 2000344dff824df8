"""Languages: every message has its Indonesian text; WIB dates; the switch."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

from babel.messages.pofile import read_po

from sigap import i18n
from sigap.tables import AuditEvent, User
from tests.conftest import ROOT, form, login


def test_every_message_in_code_and_templates_has_an_indonesian_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
            "-k", "_", "-k", "N_", "-k", "gettext", "-k", "ngettext:1,2", "--no-location", "-o", str(pot), ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    assert len(wanted) > 100
    with (ROOT / "sigap/locale/id/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(str(m) for m in wanted - translated)
    assert missing == [], f"untranslated (run `make messages` and fill sigap/locale/id): {missing}"


def test_placeholders_survive_translation():
    import re

    with (ROOT / "sigap/locale/id/LC_MESSAGES/messages.po").open("rb") as fh:
        for m in read_po(fh):
            if not (m.id and m.string):
                continue
            ids = m.id if isinstance(m.id, tuple) else (m.id,)
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            wanted = set(re.findall(r"%\(\w+\)s", ids[-1]))
            for text in strings:
                assert set(re.findall(r"%\(\w+\)s", text)) == wanted, m.id


def test_dates_are_shown_in_wib():
    instant = datetime(2026, 11, 22, 17, 30, tzinfo=timezone.utc)  # 00:30 next day in Jakarta
    with i18n.use_locale("id"):
        assert i18n.format_datetime(instant) == "23 Nov 2026, 00.30 WIB"
        assert i18n.format_date(instant) == "23 November 2026"
    with i18n.use_locale("en"):
        assert i18n.format_datetime(instant) == "23 Nov 2026, 00.30 WIB"
        assert i18n.format_date(instant, "d MMMM yyyy") == "23 November 2026"


def test_language_switch_is_remembered_per_user(client, make_user, call):
    user = make_user("rina", "staff")
    login(client, "rina")
    assert "Selamat datang" in client.get("/").text
    r = form(client, "/lang", {"locale": "en", "next": "/account"})
    assert r.status_code == 303 and r.headers["location"] == "/account"
    assert "My account" in client.get("/account").text
    assert call(User.select(User.locale).where(User.id == user["id"]).first().run)["locale"] == "en"
    [event] = call(AuditEvent.select().where(AuditEvent.action == "user.locale").run)
    assert event["actor_id"] == user["id"] and '"en"' in event["after"] and '"id"' in event["before"]
    # A new browser (no language cookie): the account remembers.
    client.cookies.clear()
    login(client, "rina")
    page = client.get("/")
    assert "Welcome" in page.text and '<html lang="en">' in page.text


def test_anonymous_visitor_can_switch_and_unknown_language_falls_back(client):
    assert '<html lang="id">' in client.get("/login").text
    form(client, "/lang", {"locale": "en", "next": "/login"})
    assert "Sign in to SIGAP" in client.get("/login").text
    form(client, "/lang", {"locale": "xx", "next": "/login"})
    assert "Masuk ke SIGAP" in client.get("/login").text


def test_api_messages_follow_the_language(client, make_user):
    make_user("rina", "staff")
    login(client, "rina")
    form(client, "/lang", {"locale": "en", "next": "/"})
    r = client.get("/api/v1/users")
    assert r.json()["message"] == "Your role does not allow this action."


def test_language_chosen_before_signing_in_is_kept(client, make_user, call):
    user = make_user("rina", "staff")
    form(client, "/lang", {"locale": "en", "next": "/login"})
    login(client, "rina")
    assert "Welcome" in client.get("/").text
    assert call(User.select(User.locale).where(User.id == user["id"]).first().run)["locale"] == "en"
