"""Tables of the application shell: accounts, sessions, tokens, sign-in
attempts and the audit log shared by every domain."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class Role(str, Enum):
    admin = "admin"
    staff = "staff"
    inspector = "inspector"
    partner = "partner"
    manager = "manager"


class User(Table, tablename="sigap_user"):
    username = Varchar(length=64, unique=True, index=True)
    full_name = Varchar(length=200, default="")
    email = Varchar(length=254, null=True, default=None)
    role = Varchar(length=16, choices=Role, index=True)
    # The LKS a manager runs; the registry validates it.
    lks_id = Integer(null=True, default=None, index=True)
    password_hash = Text()
    is_active = Boolean(default=True)
    locale = Varchar(length=5, default="id")
    # Bumped when the password changes or the account is deactivated: every
    # session carrying an older value stops working.
    auth_epoch = Integer(default=0)
    version = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    last_login_at = Timestamptz(null=True, default=None)


class ApiToken(Table, tablename="sigap_api_token"):
    user = ForeignKey(references=User, index=True)
    name = Varchar(length=100)
    token_hash = Varchar(length=64, unique=True, index=True)
    prefix = Varchar(length=16)
    created_at = Timestamptz()
    expires_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = ForeignKey(references=User, null=True, default=None)


class WebSession(Table, tablename="sigap_session"):
    """Server-side sessions when no Redis is configured. ``key_hash`` is the
    SHA-256 of the cookie value, so the table never holds a usable cookie."""

    key_hash = Varchar(length=64, unique=True, index=True)
    user = ForeignKey(references=User, index=True)
    auth_epoch = Integer(default=0)
    created_at = Timestamptz()
    expires_at = Timestamptz(index=True)


class LoginAttempt(Table, tablename="sigap_login_attempt"):
    username = Varchar(length=64, index=True)
    address = Varchar(length=45, index=True)
    at = Timestamptz(index=True)
    success = Boolean(default=False)


class AuditEvent(Table, tablename="sigap_audit_event"):
    at = Timestamptz(index=True)
    actor_id = Integer(null=True, default=None, index=True)
    actor_username = Varchar(length=64, default="")
    action = Varchar(length=64, index=True)
    entity_type = Varchar(length=32, index=True)
    entity_id = Varchar(length=64, default="", index=True)
    before = JSON(null=True, default=None)
    after = JSON(null=True, default=None)
    address = Varchar(length=45, default="")
    request_id = Varchar(length=64, default="")
    # The hash chain (sigap.audit_chain): position, the previous event's
    # hash and this one's, filled in by the "audit-seal" job.
    seq = BigInt(null=True, default=None, index=True)
    prev_hash = Varchar(length=64, default="")
    hash = Varchar(length=64, null=True, default=None)
