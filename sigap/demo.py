"""Demo accounts for ``make run``: one per role (the manager is bound to a
demo LKS the registry creates). Safe to repeat: what exists is kept.

Demo passwords are random, made on the first run and kept in
``var/demo_credentials.txt`` (readable by the owner only)."""

from __future__ import annotations

import os
import secrets
from datetime import datetime

from sigap import accounts
from sigap.audit import Actor
from sigap.settings import get_settings
from sigap.tables import User

DEMO_USERS = [
    ("admin", "admin", "Admin SIGAP (demo)"),
    ("staff", "staff", "Petugas Dinsos (demo)"),
    ("inspector", "inspector", "Inspektur Lapangan (demo)"),
    ("partner", "partner", "Satpol PP Pinang (demo)"),
]


def _credentials_path():
    return get_settings().var_dir / "demo_credentials.txt"


def _load_credentials() -> dict[str, str]:
    path = _credentials_path()
    if not path.exists():
        return {}
    pairs = (line.split(":", 1) for line in path.read_text().splitlines() if ":" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def _save_credentials(creds: dict[str, str]) -> None:
    path = _credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        for username, password in creds.items():
            fh.write(f"{username}: {password}\n")


async def load_demo(*, now: datetime, print_credentials: bool = False, manager_lks_id: int | None = None) -> dict[str, str]:
    actor = Actor.system("demo")
    creds = _load_credentials()
    users = list(DEMO_USERS)
    if manager_lks_id is not None:
        users.append(("manager", "manager", "Pengurus LKS (demo)"))
    for username, role, full_name in users:
        if await User.exists().where(User.username == username):
            continue
        password = creds.get(username) or f"demo-{secrets.token_urlsafe(9)}"
        await accounts.create_user(
            actor, username=username, role=role, password=password, now=now, full_name=full_name,
            lks_id=manager_lks_id if role == "manager" else None,
        )
        creds[username] = password
    _save_credentials(creds)
    if print_credentials:
        print("Demo accounts (also in var/demo_credentials.txt):")
        for username, password in creds.items():
            print(f"  {username:<10} {password}")
    return creds
