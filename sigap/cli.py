"""The ``sigap`` command: serve, migrate, manage users, load demo data."""

from __future__ import annotations

import argparse
import functools
import asyncio
import os
import sys
from datetime import datetime, timezone

from sigap.i18n import _, use_locale


def _read_password(args: argparse.Namespace) -> str:
    if not args.password_stdin:
        raise SystemExit(_("Give the password on standard input with --password-stdin."))
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise SystemExit(_("No password was given on standard input."))
    return password


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _cli_actor():
    from sigap.audit import Actor

    return Actor.system(f"cli:{os.environ.get('USER', 'unknown')}"[:64])


async def _migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="all")
    if not result.success:
        raise SystemExit(result.message or _("Migration failed."))
    from sigap.wiring import AFTER_MIGRATE

    for load_shipped_data in _wiring().hook(AFTER_MIGRATE):
        await load_shipped_data()


async def _user_create(args: argparse.Namespace) -> None:
    from sigap import accounts

    password = _read_password(args)
    from sigap.wiring import LKS_EXISTS

    row = await accounts.create_user(
        _cli_actor(),
        lks_exists=_wiring().first(LKS_EXISTS),
        username=args.username,
        role=args.role,
        password=password,
        now=_now(),
        full_name=args.full_name or "",
        email=args.email,
        lks_id=args.lks,
    )
    print(_("User %(username)s created (id %(id)s, role %(role)s).", username=row["username"], id=row["id"], role=row["role"]))


async def _user_set_password(args: argparse.Namespace) -> None:
    from sigap import accounts

    password = _read_password(args)
    row = await accounts.get_user_by_username(args.username)
    await accounts.set_password(_cli_actor(), row["id"], password, now=_now())
    print(_("Password of %(username)s changed; their sessions have ended.", username=row["username"]))


async def _user_deactivate(args: argparse.Namespace) -> None:
    from sigap import accounts

    row = await accounts.get_user_by_username(args.username)
    await accounts.set_active(_cli_actor(), row["id"], False, now=_now())
    print(_("User %(username)s deactivated.", username=row["username"]))


@functools.cache
def _wiring():
    """The same domains the app installs, without an app."""
    from sigap.domains import default_plugins
    from sigap.wiring import Wiring

    return Wiring().install(default_plugins())


async def _demo(args: argparse.Namespace) -> None:
    from sigap.settings import get_settings
    from sigap.storage import make_storage

    settings = get_settings()
    storage = make_storage(settings.storage_url, settings.s3_endpoint_url)
    context: dict = {}
    try:
        for _order, _name, loader in _wiring().demo_loaders:
            await loader(now=_now(), storage=storage, context=context)
    finally:
        storage.close()


async def _jobs_run(args: argparse.Namespace) -> None:
    from sigap.scheduler import run_job

    jobs = _wiring().jobs
    if args.name not in jobs:
        raise SystemExit(_("Unknown job %(name)s. Jobs: %(names)s.", name=args.name, names=", ".join(sorted(jobs))))
    now = None
    if args.now:
        try:
            now = datetime.fromisoformat(args.now)
        except ValueError:
            raise SystemExit(_("--now must be an ISO-8601 date and time, for example 2026-11-22T01:00:00+07:00.")) from None
        if now.tzinfo is None:
            raise SystemExit(_("--now needs a time zone, for example 2026-11-22T01:00:00+07:00."))
    from sigap import db

    await db.start()  # a pool (PostgreSQL) or the shared connection (SQLite)
    try:
        result = await run_job(jobs[args.name], now=now)
    finally:
        await db.stop()
    print(_("Job %(name)s done: %(result)s.", name=args.name, result=result))


async def _backup(args: argparse.Namespace) -> None:
    from pathlib import Path

    from sigap.backup import BackupError, backup
    from sigap.settings import get_settings
    from sigap.storage import make_storage

    settings = get_settings()
    storage = make_storage(settings.storage_url, settings.s3_endpoint_url)
    try:
        result = await backup(settings, storage, Path(args.path), now=_now())
    except BackupError as exc:
        raise SystemExit(str(exc)) from None
    finally:
        storage.close()
    print(_("Backup written: %(result)s.", result=result))


async def _restore(args: argparse.Namespace) -> None:
    from pathlib import Path

    from sigap.backup import BackupError, restore
    from sigap.settings import get_settings
    from sigap.storage import make_storage

    settings = get_settings()
    storage = make_storage(settings.storage_url, settings.s3_endpoint_url)
    try:
        manifest = await restore(settings, storage, Path(args.path))
    except (BackupError, OSError) as exc:
        raise SystemExit(str(exc)) from None
    finally:
        storage.close()
    print(_("Restored the backup of %(at)s: the database and %(n)s documents, every checksum verified.",
            at=manifest["created_at"], n=manifest["documents"]))


async def _audit_verify(args: argparse.Namespace) -> None:
    from sigap import audit_chain, db

    await db.start()
    try:
        sealed = await audit_chain.seal(now=_now())
        verdict = await audit_chain.verify()
    finally:
        await db.stop()
    if not verdict.intact:
        broken = verdict.broken_at
        raise SystemExit(_("The audit log was changed: event %(id)s (number %(seq)s): %(problem)s. The %(n)s events before it are intact.",
                           id=broken["id"], seq=broken["seq"], problem=broken["problem"], n=verdict.checked))
    print(_("The audit log is intact: %(n)s events chained (%(sealed)s sealed now). Last hash: %(hash)s.",
            n=verdict.checked, sealed=sealed, hash=verdict.last_hash or "-"))


def _serve(args: argparse.Namespace) -> None:
    from sigap.serving import serve
    from sigap.settings import get_settings

    settings = get_settings()
    workers = args.workers or settings.workers
    options = dict(
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=settings.trust_proxy_headers,
        server_header=False,
    )
    if workers == 1:
        from sigap.app import create_app

        serve(create_app(settings), workers=1, **options)
    else:
        # Each worker is a new process that builds the app from the same
        # environment; the scheduler runs in one of them (sigap.scheduler).
        serve("sigap.app:app_from_environment", factory=True, workers=workers, **options)


def _worker_count(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("from 1 to 64")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sigap", description="SIGAP: LKS registry and compliance system")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the web application")
    serve.add_argument("--host", default=None, help="address to listen on (SIGAP_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (SIGAP_PORT, default 8000)")
    serve.add_argument(
        "--workers", type=_worker_count, default=None, help="worker processes (SIGAP_WORKERS, default: the number of cores)"
    )
    serve.set_defaults(handler=_serve, is_async=False)

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(handler=lambda a: _migrate(), is_async=True)

    demo = sub.add_parser("demo", help="load demo data (safe to repeat)")
    demo.set_defaults(handler=_demo, is_async=True)

    jobs = sub.add_parser("jobs", help="scheduled jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    jobs_run = jobs_sub.add_parser("run", help="run one job now")
    jobs_run.add_argument("name", help="the job's name, e.g. expire-registrations")
    jobs_run.add_argument("--now", default=None, help="pretend it is this time (ISO-8601 with time zone)")
    jobs_run.set_defaults(handler=_jobs_run, is_async=True)

    user = sub.add_parser("user", help="manage user accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    create = user_sub.add_parser("create", help="create an account")
    create.add_argument("--username", required=True)
    create.add_argument("--role", required=True, help="admin, staff, inspector, partner or manager")
    create.add_argument("--lks", type=int, default=None, help="the LKS id a manager is bound to")
    create.add_argument("--full-name", default="")
    create.add_argument("--email", default=None)
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.set_defaults(handler=_user_create, is_async=True)
    setpw = user_sub.add_parser("set-password", help="set a new password (ends the user's sessions)")
    setpw.add_argument("--username", required=True)
    setpw.add_argument("--password-stdin", action="store_true")
    setpw.set_defaults(handler=_user_set_password, is_async=True)
    deact = user_sub.add_parser("deactivate", help="deactivate an account")
    deact.add_argument("--username", required=True)
    deact.set_defaults(handler=_user_deactivate, is_async=True)
    audit = sub.add_parser("audit", help="the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_verify = audit_sub.add_parser("verify", help="check the audit log's hash chain")
    audit_verify.set_defaults(handler=_audit_verify, is_async=True)

    backup = sub.add_parser("backup", help="write a backup archive (database + documents + SHA-256 manifest)")
    backup.add_argument("path", help="the archive file, or a folder to write sigap-YYYYmmdd-HHMMSS.tar into")
    backup.set_defaults(handler=_backup, is_async=True)
    restore = sub.add_parser("restore", help="restore a backup archive into an empty database and storage")
    restore.add_argument("path", help="the archive written by sigap backup")
    restore.set_defaults(handler=_restore, is_async=True)

    for configure in _wiring().cli:  # the domains' own commands
        configure(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from sigap.errors import DomainError
    from sigap.settings import SettingsError, get_settings

    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    with use_locale(settings.cli_language):
        try:
            if args.is_async:
                asyncio.run(args.handler(args))
            else:
                args.handler(args)
        except DomainError as exc:
            print(_("Error: %(message)s", message=exc.message), file=sys.stderr)
            for field, problem in exc.fields.items():
                print(f"  {field}: {problem}", file=sys.stderr)
            return 1
        except SystemExit as exc:
            if isinstance(exc.code, str):
                print(_("Error: %(message)s", message=exc.code), file=sys.stderr)
                return 1
            raise
    return 0


if __name__ == "__main__":
    sys.exit(main())

