"""The registration workflow of an LKS: applications and their steps, the
actions each role may take next, the Tanda Daftar (number and validity),
the history of status changes, and the expiry of registrations.

Plain async functions taking the acting user and ``now``; every change is
audited inside its own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from registry import documents
from registry.access import ensure_can_see, get_lks, is_staff
from registry.hooks import ApprovalCheck, VerificationStarted
from registry.labels import STATUS_LABELS
from registry.services import decode
from registry.tables import Application, ApplicationKind, ApplicationStep, Lks, RegistrationStatus, StatusChange
from sigap import audit
from sigap.audit import Actor
from sigap.db import fetch, lock_row, select_all, write_transaction
from sigap.errors import Conflict, Forbidden, ValidationError
from sigap.i18n import N_, WIB, _, choice_label
from sigap.settings import get_settings
from sigap.tables import Role

S = RegistrationStatus
OPEN_STEPS = (ApplicationStep.applied, ApplicationStep.document_check, ApplicationStep.field_verification)


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    staff_only: bool
    needs_reason: bool


ACTIONS = {
    a.name: a
    for a in (
        Action("submit", N_("Submit registration application"), False, False),
        Action("renew", N_("Apply for renewal"), False, False),
        Action("start_document_check", N_("Start document check"), True, False),
        Action("return_to_applicant", N_("Return to applicant"), True, True),
        Action("start_field_verification", N_("Start field verification"), True, False),
        Action("approve", N_("Approve and issue the Tanda Daftar"), True, False),
        Action("reject", N_("Reject the application"), True, True),
        Action("suspend", N_("Suspend registration"), True, True),
        Action("reinstate", N_("Lift suspension"), True, True),
        Action("revoke", N_("Revoke registration"), True, True),
        Action("close", N_("Mark as closed"), True, True),
        Action("reopen", N_("Record as operating again"), True, True),
    )
}
RENEWAL_WINDOW_DAYS = 180


_OPEN_STEPS_SQL = ", ".join(f"'{s.value}'" for s in OPEN_STEPS)  # enum values: no quoting needed


async def open_application(lks_id: int) -> dict | None:
    # Read on every view of the LKS page: the statement is built once.
    rows = await fetch(
        f'{select_all(Application)} WHERE "registry_application"."lks" = {{}} '
        f'AND "registry_application"."step" IN ({_OPEN_STEPS_SQL}) ORDER BY "registry_application"."id" DESC LIMIT 1',
        lks_id,
    )
    return rows[0] if rows else None


def available_actions(actor: Actor, lks: dict, application: dict | None, today: date) -> list[Action]:
    """What this actor may do next with this LKS (for buttons and checks)."""
    status = S(lks["registration_status"])
    step = ApplicationStep(application["step"]) if application else None
    names: list[str] = []
    if status == S.closed:
        names = ["reopen"]
    elif step is None:
        if status in (S.unregistered, S.revoked):
            names.append("submit")
        if status == S.expired or (
            status == S.registered and lks["valid_until"] and (lks["valid_until"] - today).days <= RENEWAL_WINDOW_DAYS
        ):
            names.append("renew")
    elif step == ApplicationStep.applied:
        names += ["start_document_check", "reject"]
    elif step == ApplicationStep.document_check:
        names += ["start_field_verification", "return_to_applicant", "reject"]
    elif step == ApplicationStep.field_verification:
        names += ["approve", "return_to_applicant", "reject"]
    if status == S.registered:
        names.append("suspend")
    if status == S.suspended:
        names.append("reinstate")
    if status in (S.registered, S.suspended, S.expired):
        names.append("revoke")
    if status != S.closed:
        names.append("close")
    actions = [ACTIONS[n] for n in names]
    if is_staff(actor):
        return actions
    if actor.role == Role.manager and actor.lks_id == lks["id"]:
        return [a for a in actions if not a.staff_only]
    return []


async def next_certificate_number(now: datetime) -> str:
    year = now.astimezone(WIB).year
    region = get_settings().region
    suffix = f"/TD-LKS/{region}/{year}"
    rows = await Lks.select(Lks.certificate_number).where(Lks.certificate_number.like(f"%{suffix}"))
    numbers = [int(r["certificate_number"].split("/")[0]) for r in rows if r["certificate_number"].split("/")[0].isdigit()]
    return f"{(max(numbers) + 1) if numbers else 1:04d}{suffix}"


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


async def approval_problems(lks: dict, application: dict, checks: Sequence[ApprovalCheck]) -> list[str]:
    problems: list[str] = []
    for check in checks:
        problems += await check(lks, application)
    return problems


async def transition(
    actor: Actor, lks_id: int, action_name: str, *, now: datetime, reason: str = "",
    approval_checks: Sequence[ApprovalCheck] = (), verification_started: Sequence[VerificationStarted] = (),
) -> dict:
    """Apply one workflow action; refuses with a clear message what the
    status, the role, missing documents or an ``approval_checks`` problem
    (hooks.REGISTRATION_APPROVAL_CHECKS) do not allow. Starting field
    verification runs ``verification_started`` (hooks.FIELD_VERIFICATION_STARTED)
    in the same transaction."""
    reason = " ".join((reason or "").split())[:1000]
    today = now.astimezone(WIB).date()
    async with write_transaction():
        await lock_row(Lks, lks_id)  # concurrent actions on one LKS: one at a time, the next sees the result
        lks = await get_lks(actor, lks_id)
        application = await open_application(lks_id)
        allowed = {a.name: a for a in available_actions(actor, lks, application, today)}
        action = ACTIONS.get(action_name)
        if action is None:
            raise ValidationError(_("Unknown action."))
        if action_name not in allowed:
            if action.staff_only and not is_staff(actor):
                raise Forbidden(_("Only Dinas Sosial staff can do this."))
            raise Conflict(
                _(
                    "This is not possible while the status is “%(status)s”.",
                    status=choice_label(STATUS_LABELS, lks["registration_status"]),
                )
            )
        if action.needs_reason and len(reason) < 5:
            raise ValidationError(_("Give a reason (at least 5 characters): the LKS manager will see it."), fields={"reason": _("Required.")})

        status = S(lks["registration_status"])
        new_status = status
        changes: dict = {}
        app_id = application["id"] if application else None

        if action_name in ("submit", "renew"):
            kind = ApplicationKind.renewal if action_name == "renew" else ApplicationKind.new
            app = Application(lks=lks_id, kind=kind.value, step=ApplicationStep.applied.value, opened_at=now, status_before=status.value)
            await app.save()
            app_id = app.id
            if status != S.registered:
                new_status = S.applied
        elif action_name in ("start_document_check", "start_field_verification", "return_to_applicant"):
            step = {
                "start_document_check": ApplicationStep.document_check,
                "start_field_verification": ApplicationStep.field_verification,
                "return_to_applicant": ApplicationStep.applied,
            }[action_name]
            if action_name == "start_field_verification":
                missing = await documents.missing_required(lks_id, today=today)
                if missing:
                    raise Conflict(
                        _(
                            "Field verification can start only when every required document is verified. Missing or not yet verified: %(names)s.",
                            names=", ".join(documents.type_label(t) for t in missing),
                        )
                    )
            await Application.update({Application.step: step.value}).where(Application.id == app_id)
            if status != S.registered:
                new_status = S(step.value)
            if action_name == "start_field_verification":
                for started in verification_started:
                    await started(actor, lks, application, now)
        elif action_name == "approve":
            problems = await approval_problems(lks, application, approval_checks)
            if problems:
                raise Conflict(_("The registration cannot be approved yet: %(problems)s", problems=" ".join(problems)))
            number = await next_certificate_number(now)
            years = get_settings().registration_validity_years
            changes = {
                Lks.certificate_number: number,
                Lks.registered_on: today,
                Lks.valid_until: add_years(today, years),
            }
            await Application.update({Application.step: ApplicationStep.approved.value, Application.closed_at: now}).where(
                Application.id == app_id
            )
            new_status = S.registered
        elif action_name == "reject":
            await Application.update({Application.step: ApplicationStep.rejected.value, Application.closed_at: now}).where(
                Application.id == app_id
            )
            new_status = status if status == S.registered else S(application["status_before"])
        elif action_name == "suspend":
            new_status = S.suspended
        elif action_name == "reinstate":
            new_status = S.registered if lks["valid_until"] and lks["valid_until"] >= today else S.expired
        elif action_name == "revoke":
            new_status = S.revoked
            changes = {Lks.certificate_number: None}
            if application:
                await Application.update({Application.step: ApplicationStep.rejected.value, Application.closed_at: now}).where(
                    Application.id == app_id
                )
        elif action_name == "close":
            new_status = S.closed
            if application:
                await Application.update({Application.step: ApplicationStep.rejected.value, Application.closed_at: now}).where(
                    Application.id == app_id
                )
        elif action_name == "reopen":
            new_status = S.registered if lks["valid_until"] and lks["valid_until"] >= today and lks["certificate_number"] else (
                S.expired if lks["certificate_number"] else S.unregistered
            )

        changes.update(
            {
                Lks.registration_status: new_status.value,
                Lks.status_reason: reason,
                Lks.version: lks["version"] + 1,
                Lks.updated_at: now,
            }
        )
        await Lks.update(changes).where(Lks.id == lks_id)
        await StatusChange.insert(
            StatusChange(
                lks=lks_id,
                application=app_id,
                at=now,
                action=action_name,
                from_status=status.value,
                to_status=new_status.value,
                reason=reason,
                actor=actor.user_id,
                actor_name=actor.username,
            )
        )
        after = await Lks.select().where(Lks.id == lks_id).first()
        await audit.record(
            actor,
            f"lks.{action_name}",
            "lks",
            lks_id,
            now=now,
            before={"registration_status": status.value, "certificate_number": lks["certificate_number"], "valid_until": lks["valid_until"]},
            after={
                "registration_status": new_status.value,
                "certificate_number": after["certificate_number"],
                "valid_until": after["valid_until"],
                "reason": reason,
            },
        )
    return decode(after)


async def history(actor: Actor, lks_id: int) -> list[dict]:
    ensure_can_see(actor, lks_id)
    return await fetch(
        f'{select_all(StatusChange)} WHERE "registry_status_change"."lks" = {{}} ORDER BY "registry_status_change"."id" DESC', lks_id
    )


async def expire_registrations(*, now: datetime) -> int:
    """Registered and suspended LKS past their validity become expired
    (idempotent): a suspension does not stop the Tanda Daftar's clock, and
    lifting it later would find the registration expired anyway."""
    today = now.astimezone(WIB).date()
    system = Actor.system("scheduler")
    running = [S.registered.value, S.suspended.value]
    due = await Lks.select(Lks.id, Lks.valid_until, Lks.version, Lks.registration_status).where(
        Lks.registration_status.is_in(running) & (Lks.valid_until < today)
    )
    count = 0
    for row in due:
        async with write_transaction():
            updated = await Lks.update(
                {
                    Lks.registration_status: S.expired.value,
                    Lks.status_reason: "",
                    Lks.version: row["version"] + 1,
                    Lks.updated_at: now,
                }
            ).where((Lks.id == row["id"]) & (Lks.registration_status == row["registration_status"])).returning(Lks.id)
            if not updated:
                continue
            await StatusChange.insert(
                StatusChange(
                    lks=row["id"], at=now, action="expire", from_status=row["registration_status"], to_status=S.expired.value,
                    reason="", actor_name="system",
                )
            )
            await audit.record(
                system, "lks.expire", "lks", row["id"], now=now,
                before={"registration_status": row["registration_status"]},
                after={"registration_status": "expired", "valid_until": row["valid_until"]},
            )
            count += 1
    return count
