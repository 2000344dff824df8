"""The guided registration: where an LKS stands on the way from "applied"
to "registered", what is still missing for the next step and who must act,
and which workflow actions make sense now (an action whose condition is
not met yet is not offered; the workflow still refuses it on its own).

Plain functions over data the LKS page already has (the LKS, its open
application, the document checklist) plus the approval checks other
domains contribute (hooks.REGISTRATION_APPROVAL_CHECKS)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from registry.hooks import ApprovalCheck
from registry.tables import ApplicationStep, RegistrationStatus
from registry.workflow import Action, approval_problems
from sigap.i18n import N_, _

S = RegistrationStatus
STEPS = (
    ("applied", N_("Applied")),
    ("document_check", N_("Document check")),
    ("field_verification", N_("Field verification")),
    ("registered", N_("Registered")),
)
# Statuses on the way to a Tanda Daftar (or back to it): the indicator is shown.
GUIDED = {S.unregistered.value, S.applied.value, S.document_check.value, S.field_verification.value,
          S.registered.value, S.expired.value, S.revoked.value}
TO_UPLOAD = ("missing", "rejected", "expired")


@dataclass
class Step:
    key: str
    label: str
    state: str  # done | current | todo


@dataclass
class Guide:
    steps: list[Step]
    heading: str  # where the registration stands
    next: str = ""  # who must act next, and how
    needs: list[str] = field(default_factory=list)  # what is missing for the next step
    blocked: set[str] = field(default_factory=set)  # actions not offered until ``needs`` is met


def _names(labels: list[str]) -> str:
    """A few names are listed; a long list points to the checklist instead."""
    if len(labels) <= 4:
        return ", ".join(labels)
    return _("%(n)s documents (see “Required documents” below)", n=len(labels))


def _steps(current: int) -> list[Step]:
    """``current``: index of the step being worked on; len(STEPS) when all are done."""
    return [
        Step(key, _(label), "done" if i < current else "current" if i == current else "todo")
        for i, (key, label) in enumerate(STEPS)
    ]


async def registration_guide(
    lks: dict, application: dict | None, checklist: list[dict], *, today: date,
    approval_checks: Sequence[ApprovalCheck] = (),
) -> Guide | None:
    """None when the LKS is not on the registration path (suspended, closed)."""
    status = lks["registration_status"]
    if status not in GUIDED and application is None:
        return None
    to_upload = [i["label"] for i in checklist if i["state"] in TO_UPLOAD]
    to_verify = [i["label"] for i in checklist if i["state"] == "pending"]
    step = application["step"] if application else None

    if step is None:
        if status == S.registered.value:
            return Guide(_steps(len(STEPS)), _("Registered: the Tanda Daftar is valid."))
        needs = [_("Upload: %(names)s.", names=_names(to_upload))] if to_upload else []
        return Guide(
            _steps(0), _("Not applied yet: the application must be submitted."),
            _("The LKS manager or Dinas Sosial staff submits the application."), needs,
        )
    if step == ApplicationStep.applied.value:
        needs = [_("The LKS manager uploads: %(names)s.", names=_names(to_upload))] if to_upload else []
        return Guide(
            _steps(1), _("Application submitted; waiting for the document check."),
            _("Dinas Sosial staff starts the document check."), needs,
        )
    if step == ApplicationStep.document_check.value:
        needs = []
        if to_upload:
            needs.append(_("The LKS manager uploads: %(names)s.", names=_names(to_upload)))
        if to_verify:
            needs.append(_("Dinas Sosial staff verifies: %(names)s.", names=_names(to_verify)))
        if needs:
            return Guide(
                _steps(1), _("Document check: every required document must be verified before the field verification."),
                _("Then Dinas Sosial staff starts the field verification."), needs, {"start_field_verification"},
            )
        return Guide(
            _steps(1), _("Every required document is verified."),
            _("Dinas Sosial staff starts the field verification."),
        )
    # field verification
    problems = await approval_problems(lks, application, approval_checks)
    if problems:
        return Guide(
            _steps(2), _("Field verification: the field team visits the LKS."),
            _("The field verification team files its visit report and Dinas Sosial staff approves it."),
            [p[:1].upper() + p[1:] for p in problems], {"approve"},
        )
    return Guide(
        _steps(2), _("The field verification is done."),
        _("Dinas Sosial staff approves and issues the Tanda Daftar."),
    )


def offered(actions: list[Action], guide: Guide | None) -> list[Action]:
    """The actions worth a button now: those the guide does not block."""
    if guide is None:
        return actions
    return [a for a in actions if a.name not in guide.blocked]


DONE_MESSAGES = {
    "submit": N_("Application submitted; waiting for the document check by Dinas Sosial."),
    "renew": N_("Renewal application submitted; waiting for the document check by Dinas Sosial."),
    "start_document_check": N_("Document check started; every required document must now be verified."),
    "return_to_applicant": N_("Application returned to the LKS manager with your reason; it waits for the manager to complete it."),
    "start_field_verification": N_("Field verification started; a verification task is ready for the field team. Next: its approved visit report."),
    "approve": N_("Registration approved and Tanda Daftar issued; it can be printed now."),
    "reject": N_("Application rejected; the LKS manager sees your reason."),
    "suspend": N_("Registration suspended; the LKS manager sees your reason. Lift the suspension when the matter is settled."),
    "reinstate": N_("Suspension lifted; the registration counts again until its date."),
    "revoke": N_("Registration revoked; the LKS may apply again from the start."),
    "close": N_("The LKS is recorded as closed."),
    "reopen": N_("The LKS is recorded as operating again."),
}


def done_message(action: str | None) -> str | None:
    message = DONE_MESSAGES.get(action or "")
    return _(message) if message else None
