"""Configuration read from ``SIGAP_*`` environment variables.

Every runtime part (database, document storage, sessions, e-mail) is chosen
here, never by editing code. The defaults make a bare checkout run on one
machine: a SQLite file and a document folder under ``var/``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _var_dir() -> Path:
    return Path(os.environ.get("SIGAP_VAR_DIR", PROJECT_ROOT / "var")).resolve()


def _load_or_create_secret(var_dir: Path) -> str:
    """The secret key: from the environment, else kept in ``var/secret_key``."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Create with 0600 so other local users cannot read it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


@dataclass(frozen=True)
class Settings:
    database_url: str
    storage_url: str
    secret_key: str
    var_dir: Path
    smtp_url: str | None = None
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    region: str = "36.71"
    session_idle_minutes: int = 8 * 60
    login_max_failures_user: int = 5
    login_max_failures_address: int = 20
    login_window_minutes: int = 15
    cookie_secure: bool = False
    trust_proxy_headers: bool = False
    log_level: str = "INFO"
    # "standard": argon2-cffi's RFC 9106 low-memory profile (t=3, 64 MiB, p=4).
    # "fast" exists for the test suite only (t=1, 8 MiB, p=1).
    password_hash_profile: str = "standard"
    registration_validity_years: int = 3
    max_upload_mb: int = 20
    scheduler_enabled: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        var_dir = Path(env.get("SIGAP_VAR_DIR", _var_dir())).resolve()
        secret = env.get("SIGAP_SECRET_KEY") or _load_or_create_secret(var_dir)
        return cls(
            database_url=env.get("SIGAP_DATABASE_URL", f"sqlite:///{var_dir / 'sigap.sqlite3'}"),
            storage_url=env.get("SIGAP_STORAGE_URL", f"file://{var_dir / 'documents'}"),
            secret_key=secret,
            var_dir=var_dir,
            smtp_url=env.get("SIGAP_SMTP_URL") or None,
            redis_url=env.get("SIGAP_REDIS_URL") or None,
            host=env.get("SIGAP_HOST", "127.0.0.1"),
            port=int(env.get("SIGAP_PORT", "8000")),
            region=env.get("SIGAP_REGION", "36.71"),
            session_idle_minutes=int(env.get("SIGAP_SESSION_IDLE_MINUTES", str(8 * 60))),
            cookie_secure=env.get("SIGAP_COOKIE_SECURE", "0").lower() in {"1", "true", "yes"},
            trust_proxy_headers=env.get("SIGAP_TRUST_PROXY", "0").lower() in {"1", "true", "yes"},
            log_level=env.get("SIGAP_LOG_LEVEL", "INFO").upper(),
            password_hash_profile=env.get("SIGAP_PASSWORD_HASH_PROFILE", "standard"),
            registration_validity_years=int(env.get("SIGAP_REGISTRATION_VALIDITY_YEARS", "3")),
            max_upload_mb=int(env.get("SIGAP_MAX_UPLOAD_MB", "20")),
            scheduler_enabled=env.get("SIGAP_SCHEDULER", "1").lower() not in {"0", "false", "no"},
        )


_current: Settings | None = None


def get_settings() -> Settings:
    """Settings of this process, read once from the environment."""
    global _current
    if _current is None:
        _current = Settings.from_env()
    return _current


def set_settings(settings: Settings) -> None:
    """Replace the process settings (used by ``create_app`` and tests)."""
    global _current
    _current = settings
