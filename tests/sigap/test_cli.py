"""The ``sigap`` console script, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sigap.tables import AuditEvent, User
from tests.conftest import ROOT

SIGAP = [str(Path(sys.executable).parent / "sigap")]


def sigap(*args: str, stdin: str | None = None, lang: str = "id") -> subprocess.CompletedProcess:
    return subprocess.run(
        SIGAP + list(args),
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "SIGAP_LANG": lang},
        timeout=60,
    )


def test_console_script_is_installed_in_the_virtualenv():
    assert Path(SIGAP[0]).is_file()
    r = sigap("--help")
    assert r.returncode == 0 and "serve" in r.stdout and "migrate" in r.stdout


def test_user_create_set_password_deactivate(call):
    r = sigap("user", "create", "--username", "Andi", "--role", "staff", "--full-name", "Andi W", "--password-stdin", stdin="Kuat-Sekali-2026\n")
    assert r.returncode == 0, r.stderr
    assert "Pengguna andi dibuat" in r.stdout
    row = call(User.select().where(User.username == "andi").first().run)
    assert row["role"] == "staff" and row["full_name"] == "Andi W"

    r = sigap("user", "set-password", "--username", "andi", "--password-stdin", stdin="Lebih-Kuat-2027\n")
    assert r.returncode == 0, r.stderr
    assert call(User.select(User.auth_epoch).where(User.id == row["id"]).first().run)["auth_epoch"] == 1

    r = sigap("user", "deactivate", "--username", "andi")
    assert r.returncode == 0 and "dinonaktifkan" in r.stdout
    assert call(User.select(User.is_active).where(User.id == row["id"]).first().run)["is_active"] is False

    actions = [e["action"] for e in call(AuditEvent.select(AuditEvent.action, AuditEvent.actor_username).run)]
    assert actions == ["user.create", "user.password_reset", "user.deactivate"]


def test_manager_needs_an_existing_lks(call, make_lks):
    r = sigap("user", "create", "--username", "pengurus1", "--role", "manager", "--password-stdin", stdin="Kuat-Sekali-2026\n")
    assert r.returncode == 1 and "harus terhubung ke satu LKS" in r.stderr
    r = sigap("user", "create", "--username", "pengurus1", "--role", "manager", "--lks", "9999", "--password-stdin", stdin="Kuat-Sekali-2026\n")
    assert r.returncode == 1 and "9999" in r.stderr
    lks = make_lks("LKSA Pengurus")
    r = sigap("user", "create", "--username", "pengurus1", "--role", "manager", "--lks", str(lks["id"]), "--password-stdin", stdin="Kuat-Sekali-2026\n")
    assert r.returncode == 0, r.stderr
    assert call(User.select(User.lks_id).where(User.username == "pengurus1").first().run)["lks_id"] == lks["id"]


def test_clear_errors_and_nonzero_exit(call):
    ok = sigap("user", "create", "--username", "andi", "--role", "staff", "--password-stdin", stdin="Kuat-Sekali-2026\n")
    assert ok.returncode == 0
    cases = [
        (("user", "create", "--username", "budi", "--role", "raja", "--password-stdin"), "Kuat-Sekali-2026\n", "Peran raja tidak dikenal"),
        (("user", "create", "--username", "andi", "--role", "staff", "--password-stdin"), "Kuat-Sekali-2026\n", "sudah dipakai"),
        (("user", "create", "--username", "budi", "--role", "staff", "--password-stdin"), "lemah\n", "minimal 10 karakter"),
        (("user", "create", "--username", "budi", "--role", "staff", "--password-stdin"), "\n", "Tidak ada kata sandi"),
        (("user", "create", "--username", "budi", "--role", "staff"), None, "--password-stdin"),
        (("user", "set-password", "--username", "siapa", "--password-stdin"), "Kuat-Sekali-2026\n", "Pengguna tidak ditemukan"),
        (("user", "deactivate", "--username", "siapa"), None, "Pengguna tidak ditemukan"),
    ]
    for args, stdin, message in cases:
        r = sigap(*args, stdin=stdin)
        assert r.returncode == 1, (args, r.returncode, r.stderr)
        assert message in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr
    assert call(User.count().run) == 1


def test_messages_follow_sigap_lang():
    r = sigap("user", "create", "--username", "budi", "--role", "raja", "--password-stdin", stdin="Kuat-Sekali-2026\n", lang="en")
    assert r.returncode == 1 and "Unknown role raja" in r.stderr


def test_usage_errors_exit_2():
    r = sigap("user", "create", "--role", "staff")
    assert r.returncode == 2 and "--username" in r.stderr


def test_migrate_is_idempotent():
    r = sigap("migrate")
    assert r.returncode == 0, r.stderr


def test_demo_is_safe_to_repeat(call, settings):
    first = sigap("demo")
    assert first.returncode == 0, first.stderr
    second = sigap("demo")
    assert second.returncode == 0, second.stderr
    roles = sorted(r["role"] for r in call(User.select(User.role).run))
    assert roles == ["admin", *["inspector"] * 13, "manager", "partner", "staff"]  # an inspector leads each team
    from registry.tables import Lks

    assert call(Lks.count().where(Lks.name.like("%(Demo)")).run) == 72
    assert call(Lks.count().where(Lks.accreditation_status == "accredited").run) == 17
    assert call(Lks.count().where(Lks.accreditation_status == "in_process").run) == 12
    assert len({r["kecamatan_code"] for r in call(Lks.select(Lks.kecamatan_code).run)}) == 13
    from inspections.teams.tables import Team, TeamMember

    assert call(Team.count().run) == 13
    leads = call(TeamMember.select(TeamMember.team.area_code, TeamMember.user.username).where(TeamMember.is_lead == True).run)  # noqa: E712
    by_area = {r["team.area_code"]: r["user.username"] for r in leads}
    assert len(leads) == len(by_area) == 13 and by_area["36.71.11"] == "inspector"
    assert by_area["36.71.01"] == "ketua.367101"
    # The same credentials are printed both times and they work.
    assert first.stdout == second.stdout
    creds = (settings.var_dir / "demo_credentials.txt").read_text()
    assert oct((settings.var_dir / "demo_credentials.txt").stat().st_mode & 0o777) == "0o600"
    admin_password = [line.split(": ", 1)[1] for line in creds.splitlines() if line.startswith("admin:")][0]
    assert admin_password in first.stdout
