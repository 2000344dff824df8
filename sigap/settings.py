"""Configuration read from ``SIGAP_*`` environment variables.

Every runtime part (database, document storage, sessions, e-mail) is chosen
here, never by editing code. The defaults make a bare checkout run on one
machine: a SQLite file and a document folder under ``var/``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_workers() -> int:
    """One web worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


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


class SettingsError(ValueError):
    """One or more ``SIGAP_*`` variables have values SIGAP cannot use; the
    message names each variable, its value and what is expected."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("SIGAP cannot start, the configuration has errors:\n" + "\n".join(f"  - {p}" for p in problems))


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
HASH_PROFILES = ("standard", "fast")
LANGUAGES = ("id", "en")


class _Reader:
    """Reads ``SIGAP_*`` variables, collecting every problem before failing,
    so one start-up shows all mistakes at once."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def text(self, name: str, default: str) -> str:
        return self.env.get(name, default).strip() or default

    def optional(self, name: str) -> str | None:
        return self.env.get(name, "").strip() or None

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problems.append(f"{name}={raw!r}: expected a whole number from {low} to {high}")
            return default
        if not low <= value <= high:
            self.problems.append(f"{name}={raw!r}: expected a whole number from {low} to {high}")
            return default
        return value

    def number(self, name: str, default: float, *, low: float, high: float) -> float:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not low <= value <= high:
            self.problems.append(f"{name}={raw!r}: expected a number from {low:g} to {high:g}")
            return default
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.env.get(name, "").strip().lower()
        if not raw:
            return default
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        self.problems.append(f"{name}={raw!r}: expected 1/0, true/false, yes/no or on/off")
        return default

    def choice(self, name: str, default: str, choices: tuple[str, ...], *, upper: bool = False) -> str:
        raw = self.env.get(name, "").strip()
        value = (raw.upper() if upper else raw.lower()) if raw else default
        if value not in choices:
            self.problems.append(f"{name}={raw!r}: expected one of {', '.join(choices)}")
            return default
        return value

    def url(self, name: str, default: str | None, schemes: tuple[str, ...]) -> str | None:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        if not raw.startswith(tuple(f"{s}://" for s in schemes)):
            self.problems.append(f"{name}={raw!r}: expected a URL starting with {' or '.join(s + '://' for s in schemes)}")
            return default
        return raw

    def tiles(self, name: str, default: str) -> str:
        """A map tile URL template: http(s), with {z}, {x} and {y}."""
        value = self.url(name, default, ("https", "http")) or default
        if value != default and not all(p in value for p in ("{z}", "{x}", "{y}")):
            self.problems.append(f"{name}={value!r}: expected a tile URL template with {{z}}, {{x}} and {{y}}")
            return default
        return value


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
    max_photo_mb: int = 5  # largest visit report photo
    scheduler_enabled: bool = True
    scheduler_retry_s: float = 30.0  # how often a standby instance tries to become the scheduler leader
    workers: int = 1  # `sigap serve` processes (SIGAP_WORKERS; default: the machine's cores)
    sqlite_readers: int = 4  # read connections per process on SQLite (WAL lets them read at once)
    # Routine visit interval by risk level, in months.
    visit_months_high: int = 3
    visit_months_medium: int = 6
    visit_months_low: int = 12
    base_url: str = "http://127.0.0.1:8000"  # links in e-mails
    mail_from: str = "sigap@localhost"
    s3_endpoint_url: str | None = None
    cli_language: str = "id"
    backup_dir: Path | None = None  # the nightly backup's folder; unset: no nightly backup
    backup_keep: int = 7  # archives kept by the nightly backup
    retention_login_days: int = 90  # sign-in attempts (usernames, addresses) are kept this long
    retention_outbox_days: int = 30  # sent or abandoned e-mails are kept this long
    public_rate_limit: int = 60  # requests per minute per address to the public pages (0: no limit)
    dashboard_cache: bool = True  # the staff home keeps its figures a minute (overview.dashboard.panel)
    # The map's tiles: a {z}/{x}/{y} template (OpenStreetMap's standard tiles by default) and its credit line.
    map_tiles_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_tiles_attribution: str = "© OpenStreetMap contributors"
    extra: dict = field(default_factory=dict)

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def visit_interval_months(self) -> dict[str, int]:
        return {"high": self.visit_months_high, "medium": self.visit_months_medium, "low": self.visit_months_low}

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        """Read and check every ``SIGAP_*`` variable; raise ``SettingsError``
        naming each bad one (the app never starts half-configured)."""
        env = dict(os.environ if env is None else env)
        var_dir = Path(env.get("SIGAP_VAR_DIR") or _var_dir()).resolve()
        r = _Reader(env)
        settings = cls(
            database_url=r.url("SIGAP_DATABASE_URL", f"sqlite:///{var_dir / 'sigap.sqlite3'}", ("sqlite", "postgresql", "postgres")),
            storage_url=r.url("SIGAP_STORAGE_URL", f"file://{var_dir / 'documents'}", ("file", "s3")),
            secret_key="",
            var_dir=var_dir,
            smtp_url=r.url("SIGAP_SMTP_URL", None, ("smtp", "smtps")),
            redis_url=r.url("SIGAP_REDIS_URL", None, ("redis", "rediss", "unix")),
            host=r.text("SIGAP_HOST", "127.0.0.1"),
            port=r.integer("SIGAP_PORT", 8000, low=1, high=65535),
            region=r.text("SIGAP_REGION", "36.71"),
            session_idle_minutes=r.integer("SIGAP_SESSION_IDLE_MINUTES", 8 * 60, low=1, high=60 * 24 * 30),
            cookie_secure=r.flag("SIGAP_COOKIE_SECURE", False),
            trust_proxy_headers=r.flag("SIGAP_TRUST_PROXY", False),
            log_level=r.choice("SIGAP_LOG_LEVEL", "INFO", LOG_LEVELS, upper=True),
            password_hash_profile=r.choice("SIGAP_PASSWORD_HASH_PROFILE", "standard", HASH_PROFILES),
            registration_validity_years=r.integer("SIGAP_REGISTRATION_VALIDITY_YEARS", 3, low=1, high=10),
            max_upload_mb=r.integer("SIGAP_MAX_UPLOAD_MB", 20, low=1, high=2048),
            max_photo_mb=r.integer("SIGAP_MAX_PHOTO_MB", 5, low=1, high=50),
            scheduler_enabled=r.flag("SIGAP_SCHEDULER", True),
            scheduler_retry_s=r.number("SIGAP_SCHEDULER_RETRY_S", 30.0, low=0.1, high=3600),
            workers=r.integer("SIGAP_WORKERS", default_workers(), low=1, high=64),
            sqlite_readers=r.integer("SIGAP_SQLITE_READERS", 4, low=1, high=32),
            visit_months_high=r.integer("SIGAP_VISIT_MONTHS_HIGH", 3, low=1, high=60),
            visit_months_medium=r.integer("SIGAP_VISIT_MONTHS_MEDIUM", 6, low=1, high=60),
            visit_months_low=r.integer("SIGAP_VISIT_MONTHS_LOW", 12, low=1, high=60),
            base_url=r.url("SIGAP_BASE_URL", "http://127.0.0.1:8000", ("http", "https")).rstrip("/"),
            mail_from=r.text("SIGAP_MAIL_FROM", "sigap@localhost"),
            s3_endpoint_url=r.url("SIGAP_S3_ENDPOINT_URL", None, ("http", "https")),
            cli_language=r.choice("SIGAP_LANG", "id", LANGUAGES),
            backup_dir=Path(r.optional("SIGAP_BACKUP_DIR")).resolve() if r.optional("SIGAP_BACKUP_DIR") else None,
            backup_keep=r.integer("SIGAP_BACKUP_KEEP", 7, low=1, high=365),
            retention_login_days=r.integer("SIGAP_RETENTION_LOGIN_DAYS", 90, low=1, high=3650),
            retention_outbox_days=r.integer("SIGAP_RETENTION_OUTBOX_DAYS", 30, low=1, high=3650),
            public_rate_limit=r.integer("SIGAP_PUBLIC_RATE_LIMIT", 60, low=0, high=100_000),
            dashboard_cache=r.flag("SIGAP_DASHBOARD_CACHE", True),
            map_tiles_url=r.tiles("SIGAP_MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
            map_tiles_attribution=r.text("SIGAP_MAP_TILES_ATTRIBUTION", "© OpenStreetMap contributors")[:300],
        )
        if r.problems:
            raise SettingsError(r.problems)
        secret = env.get("SIGAP_SECRET_KEY") or _load_or_create_secret(var_dir)
        return replace(settings, secret_key=secret)


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
