"""Accounts, passwords, sign-in with throttling, and API tokens.

Plain async functions taking the acting user and ``now`` explicitly; every
change is audited in the same transaction.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sigap import audit
from sigap.audit import Actor
from sigap.db import built_once, fetch_where, icontains, write_transaction
from sigap.errors import (
    Conflict,
    Forbidden,
    InvalidCredentials,
    NotFound,
    Throttled,
    ValidationError,
)
from sigap.i18n import N_, _, format_datetime
from sigap.settings import Settings, get_settings
from sigap.tables import ApiToken, LoginAttempt, Role, User

ROLE_LABELS = {
    Role.admin: N_("Administrator"),
    Role.staff: N_("Dinsos staff"),
    Role.inspector: N_("Inspector"),
    Role.partner: N_("Joint-team partner"),
    Role.manager: N_("LKS manager"),
}

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 10
# The most common choices seen in leaked password lists, plus local ones.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890", "12345678910", "0123456789", "qwertyuiop", "password12",
        "password123", "password1234", "passw0rd123", "iloveyou123", "qwerty1234",
        "1q2w3e4r5t", "abcdef1234", "admin12345", "administrator", "welcome123",
        "indonesia1", "indonesia123", "jakarta123", "tangerang123", "bismillah",
        "bismillah123", "sayang1234", "rahasia123", "dinsos123", "dinsos2024",
        "sigap12345", "sigap123456", "kotatangerang",
    }
)

HASH_PROFILES = {
    "standard": {},  # argon2-cffi's defaults: RFC 9106 low-memory profile
    "fast": {"time_cost": 1, "memory_cost": 8 * 1024, "parallelism": 1},  # tests only
}


@functools.cache
def _hasher(profile: str) -> PasswordHasher:
    return PasswordHasher(**HASH_PROFILES[profile])


def hasher() -> PasswordHasher:
    return _hasher(get_settings().password_hash_profile)


@functools.cache
def _dummy_hash(profile: str) -> str:
    # Verified against when the username is unknown, so that a wrong
    # username costs the same time as a wrong password.
    return _hasher(profile).hash(secrets.token_urlsafe(16))


# Whether an LKS exists is the registry's to say (the shell does not import
# domain packages): callers pass the registry's check, which the shell's
# wiring offers as the LKS_EXISTS hook.
LksCheck = Callable[[int], Awaitable[bool]]


async def _check_lks_exists(lks_id: int | None, lks_exists: LksCheck | None) -> None:
    if lks_id and lks_exists is not None and not await lks_exists(lks_id):
        raise ValidationError(
            _("LKS number %(id)s does not exist.", id=lks_id), fields={"lks_id": _("No LKS with this number.")}
        )


def role_label(role: str | Role) -> str:
    return _(ROLE_LABELS[Role(role)])


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()


def password_problems(password: str, username: str = "") -> list[str]:
    """What is wrong with a new password, in the current language."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(_("The password must be at least %(n)s characters long.", n=MIN_PASSWORD_LENGTH))
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(password)) < 4:
        problems.append(_("This password is too easy to guess; choose another."))
    if username and normalize_username(username) in lowered:
        problems.append(_("The password must not contain the username."))
    return problems


async def hash_password(password: str) -> str:
    # Argon2 takes tens of milliseconds of CPU: never on the event loop.
    return await anyio.to_thread.run_sync(hasher().hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    def _verify() -> bool:
        try:
            return hasher().verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(_verify)


def public_user(row: dict) -> dict:
    """The fields of a user that may leave the server."""
    return {
        "id": row["id"],
        "username": row["username"],
        "full_name": row["full_name"],
        "email": row["email"],
        "role": row["role"],
        "lks_id": row["lks_id"],
        "is_active": row["is_active"],
        "locale": row["locale"],
        "version": row["version"],
        "created_at": row["created_at"],
        "last_login_at": row["last_login_at"],
    }


async def get_user(user_id: int) -> dict:
    # The SELECT of every column is written once (Piccolo took longer to
    # build it than the database to answer).
    rows = await fetch_where(built_once("accounts.user", User.select), User.id == user_id, " LIMIT 1")
    if not rows:
        raise NotFound(_("User not found."))
    return rows[0]


async def get_user_by_username(username: str) -> dict:
    row = await User.select().where(User.username == normalize_username(username)).first()
    if row is None:
        raise NotFound(_("User not found."))
    return row


async def list_users(*, role: str | None = None, query: str = "", include_inactive: bool = True) -> list[dict]:
    select = User.select().order_by(User.username)
    if role:
        select = select.where(User.role == role)
    if query:
        needle = query.strip()
        select = select.where(icontains(User.username, needle) | icontains(User.full_name, needle))
    if not include_inactive:
        select = select.where(User.is_active == True)  # noqa: E712
    return await select


def _check_role_and_lks(role: str, lks_id: int | None) -> tuple[Role, int | None]:
    try:
        parsed = Role(role)
    except ValueError:
        raise ValidationError(
            _("Unknown role %(role)s. Choose one of: %(roles)s.", role=role, roles=", ".join(r.value for r in Role)),
            fields={"role": _("Unknown role.")},
        ) from None
    if parsed == Role.manager and not lks_id:
        raise ValidationError(
            _("An LKS manager account must be bound to one LKS."),
            fields={"lks_id": _("Choose the LKS this manager runs.")},
        )
    if parsed != Role.manager and lks_id:
        raise ValidationError(
            _("Only LKS manager accounts are bound to an LKS."),
            fields={"lks_id": _("Leave empty for this role.")},
        )
    return parsed, (lks_id if parsed == Role.manager else None)


async def create_user(
    actor: Actor,
    *,
    username: str,
    role: str,
    password: str,
    now: datetime,
    full_name: str = "",
    email: str | None = None,
    lks_id: int | None = None,
    locale: str = "id",
    lks_exists: LksCheck | None = None,
) -> dict:
    username = normalize_username(username)
    fields: dict[str, str] = {}
    if not USERNAME_RE.match(username):
        fields["username"] = _(
            "Use 3 to 64 characters: lowercase letters, digits, dot, dash or underscore."
        )
    problems = password_problems(password, username)
    if problems:
        fields["password"] = " ".join(problems)
    if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
        fields["email"] = _("Enter a valid e-mail address.")
    if fields:
        raise ValidationError(_("Please correct the marked fields."), fields=fields)
    parsed_role, lks_id = _check_role_and_lks(role, lks_id)
    await _check_lks_exists(lks_id, lks_exists)
    password_hash = await hash_password(password)
    async with write_transaction():
        if await User.exists().where(User.username == username):
            raise Conflict(
                _("The username %(username)s is already taken.", username=username),
                fields={"username": _("Already taken.")},
            )
        user = User(
            username=username,
            full_name=full_name.strip(),
            email=(email or None),
            role=parsed_role.value,
            lks_id=lks_id,
            password_hash=password_hash,
            is_active=True,
            locale=locale,
            created_at=now,
            updated_at=now,
        )
        await user.save()
        row = await get_user(user.id)
        await audit.record(actor, "user.create", "user", user.id, now=now, after=public_user(row))
    return row


async def update_user(
    actor: Actor,
    user_id: int,
    *,
    version: int,
    now: datetime,
    full_name: str | None = None,
    email: str | None = None,
    role: str | None = None,
    lks_id: int | None = None,
    lks_exists: LksCheck | None = None,
) -> dict:
    """Change profile fields or the role; ``version`` guards against a stale edit."""
    async with write_transaction():
        before = await get_user(user_id)
        if before["version"] != version:
            raise Conflict(
                _("Someone else changed this account in the meantime. Reload the page and apply your change again.")
            )
        new_role = role if role is not None else before["role"]
        new_lks = lks_id if role is not None else before["lks_id"]
        parsed_role, new_lks = _check_role_and_lks(new_role, new_lks)
        if new_lks != before["lks_id"]:
            await _check_lks_exists(new_lks, lks_exists)
        if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
            raise ValidationError(_("Please correct the marked fields."), fields={"email": _("Enter a valid e-mail address.")})
        if before["id"] == actor.user_id and parsed_role != Role(before["role"]):
            raise Forbidden(_("You cannot change your own role."))
        changes = {
            User.full_name: (full_name if full_name is not None else before["full_name"]).strip(),
            User.email: (email if email is not None else before["email"]) or None,
            User.role: parsed_role.value,
            User.lks_id: new_lks,
            User.version: before["version"] + 1,
            User.updated_at: now,
        }
        updated = await User.update(changes).where((User.id == user_id) & (User.version == version)).returning(User.id)
        if not updated:
            raise Conflict(
                _("Someone else changed this account in the meantime. Reload the page and apply your change again.")
            )
        after = await get_user(user_id)
        action = "user.role_change" if after["role"] != before["role"] else "user.update"
        await audit.record(actor, action, "user", user_id, now=now, before=public_user(before), after=public_user(after))
    return after


async def _new_password_hash(user: dict, password: str, current_password: str | None) -> str:
    """Check a new password (and the current one, for an own change) and hash
    it, before anything is written."""
    if current_password is not None and not await verify_password(user["password_hash"], current_password):
        raise ValidationError(
            _("The current password is not correct."), fields={"current_password": _("Not correct.")}
        )
    problems = password_problems(password, user["username"])
    if problems:
        raise ValidationError(" ".join(problems), fields={"password": " ".join(problems)})
    return await hash_password(password)


async def _store_password(actor: Actor, user_id: int, password_hash: str, *, now: datetime) -> None:
    async with write_transaction():
        await User.update(
            {
                User.password_hash: password_hash,
                User.auth_epoch: User.auth_epoch + 1,
                User.version: User.version + 1,
                User.updated_at: now,
            }
        ).where(User.id == user_id)
        action = "user.password_change" if actor.user_id == user_id else "user.password_reset"
        await audit.record(actor, action, "user", user_id, now=now)
        await _revoke_tokens(actor, user_id, now=now, reason=action)


async def set_password(actor: Actor, user_id: int, password: str, *, now: datetime, current_password: str | None = None) -> None:
    """Reset (admin) or change (own, with the current password) a password.
    Every existing session and API token of the account ends."""
    password_hash = await _new_password_hash(await get_user(user_id), password, current_password)
    await _store_password(actor, user_id, password_hash, now=now)


async def update_account(
    actor: Actor,
    user_id: int,
    *,
    version: int,
    now: datetime,
    profile: dict[str, Any],
    is_active: bool | None = None,
    password: str | None = None,
    lks_exists: LksCheck | None = None,
) -> dict:
    """Profile, role, activation and password in one go: everything is
    checked first and written in one transaction, so a bad password changes
    nothing else."""
    password_hash = None
    if password is not None:
        password_hash = await _new_password_hash(await get_user(user_id), password, None)
    async with write_transaction():
        row = await update_user(actor, user_id, version=version, now=now, lks_exists=lks_exists, **profile)
        if is_active is not None:
            row = await set_active(actor, user_id, is_active, now=now)
        if password_hash is not None:
            await _store_password(actor, user_id, password_hash, now=now)
            row = await get_user(user_id)
    return row


async def set_active(actor: Actor, user_id: int, active: bool, *, now: datetime) -> dict:
    async with write_transaction():
        before = await get_user(user_id)
        if not active and actor.user_id == user_id:
            raise Forbidden(_("You cannot deactivate your own account."))
        if before["is_active"] == active:
            return before
        await User.update(
            {
                User.is_active: active,
                User.auth_epoch: User.auth_epoch + 1,
                User.version: User.version + 1,
                User.updated_at: now,
            }
        ).where(User.id == user_id)
        after = await get_user(user_id)
        if not active:
            await _revoke_tokens(actor, user_id, now=now, reason="user.deactivate")
        await audit.record(
            actor,
            "user.activate" if active else "user.deactivate",
            "user",
            user_id,
            now=now,
            before=public_user(before),
            after=public_user(after),
        )
    return after


async def _revoke_tokens(actor: Actor, user_id: int, *, now: datetime, reason: str) -> None:
    """A new password or a deactivation ends the account's API tokens too
    (a tablet signs in again and makes a new one); reactivating an account
    does not bring them back. Runs inside the caller's transaction."""
    revoked = await ApiToken.update({ApiToken.revoked_at: now, ApiToken.revoked_by: actor.user_id}).where(
        (ApiToken.user == user_id) & ApiToken.revoked_at.is_null()
    ).returning(ApiToken.id)
    if revoked:
        await audit.record(actor, "token.revoke_all", "user", user_id, now=now,
                           after={"tokens": len(revoked), "because": reason})


async def set_locale(actor: Actor, user_id: int, locale: str, *, now: datetime) -> None:
    async with write_transaction():
        before = await User.select(User.locale).where(User.id == user_id).first()
        if before is None or before["locale"] == locale:
            return
        await User.update({User.locale: locale, User.updated_at: now}).where(User.id == user_id)
        await audit.record(actor, "user.locale", "user", user_id, now=now, before=before, after={"locale": locale})


# --- sign-in -----------------------------------------------------------------


@dataclass(frozen=True)
class ThrottleState:
    blocked: bool
    retry_at: datetime | None = None


async def _throttle(username: str, address: str, *, now: datetime, settings: Settings) -> ThrottleState:
    window = timedelta(minutes=settings.login_window_minutes)
    since = now - window
    last_success = (
        await LoginAttempt.select(LoginAttempt.at)
        .where((LoginAttempt.username == username) & (LoginAttempt.success == True))  # noqa: E712
        .order_by(LoginAttempt.at, ascending=False)
        .first()
    )
    user_since = max(since, last_success["at"]) if last_success else since
    retry_at: datetime | None = None
    for column, value, start, limit in (
        (LoginAttempt.username, username, user_since, settings.login_max_failures_user),
        (LoginAttempt.address, address, since, settings.login_max_failures_address),
    ):
        failures = (
            await LoginAttempt.select(LoginAttempt.at)
            .where((column == value) & (LoginAttempt.success == False) & (LoginAttempt.at > start))  # noqa: E712
            .order_by(LoginAttempt.at, ascending=False)
            .limit(limit)
        )
        if len(failures) >= limit:
            # Blocked until the oldest of the last `limit` failures leaves the window.
            candidate = failures[-1]["at"] + window
            retry_at = max(retry_at, candidate) if retry_at else candidate
    return ThrottleState(blocked=retry_at is not None, retry_at=retry_at)


async def authenticate(username: str, password: str, *, address: str, now: datetime, settings: Settings, request_id: str = "") -> dict:
    """Check a username and password; throttled per username and per address.

    Raises Throttled (429) or InvalidCredentials (401); both are audited."""
    username = normalize_username(username)[:64]
    address = address[:45]
    anonymous = Actor(user_id=None, username=username, address=address, request_id=request_id)
    state = await _throttle(username, address, now=now, settings=settings)
    if state.blocked:
        assert state.retry_at is not None
        await audit.record(anonymous, "auth.login_throttled", "user", username, now=now)
        wait_s = max(1, int((state.retry_at - now).total_seconds()) + 1)
        minutes = max(1, -(-wait_s // 60))
        raise Throttled(
            _(
                "Too many failed sign-in attempts. Try again after %(time)s (in about %(minutes)s minutes).",
                time=format_datetime(state.retry_at),
                minutes=minutes,
            ),
            retry_at=state.retry_at,
            retry_after_s=wait_s,
        )
    row = await User.select().where(User.username == username).first()
    dummy = _dummy_hash(get_settings().password_hash_profile)
    ok = await verify_password(row["password_hash"] if row else dummy, password)
    ok = ok and row is not None and row["is_active"]
    async with write_transaction():
        await LoginAttempt.insert(LoginAttempt(username=username, address=address, at=now, success=ok))
        if not ok:
            await audit.record(
                Actor(user_id=row["id"] if row else None, username=username, address=address, request_id=request_id),
                "auth.login_failed",
                "user",
                row["id"] if row else username,
                now=now,
            )
        else:
            assert row is not None
            await User.update({User.last_login_at: now}).where(User.id == row["id"])
            await audit.record(
                Actor(user_id=row["id"], username=username, role=Role(row["role"]), address=address, request_id=request_id),
                "auth.login",
                "user",
                row["id"],
                now=now,
            )
    if not ok:
        raise InvalidCredentials(_("Wrong username or password, or the account is inactive."))
    return row
