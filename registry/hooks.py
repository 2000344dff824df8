"""Hooks the registry offers to the domains built on it.

``LKS_DETAIL_PANELS``: a provider ``async (actor, lks) -> dict | None``
returns ``{"template": ..., **context}`` for a panel on the LKS page, or
None when this viewer should see nothing. Another domain contributes one
with ``wiring.contribute(LKS_DETAIL_PANELS, provider)``; the registry never
imports it.

``REGISTRATION_APPROVAL_CHECKS``: ``async (lks, application) -> list[str]``
returns what still stands in the way of approving this registration
(translated sentences; empty when nothing does). Approval is refused while
any check names a problem.

``FIELD_VERIFICATION_STARTED``: ``async (actor, lks, application, now) ->
None`` runs in the transaction that moves an application to field
verification (e.g. to create the verification visit).

``UNREGISTERED_REPORTED``: ``async (actor, lks, now) -> None`` runs in the
transaction of a report (``registry.sightings``) about an LKS already known as
unregistered (e.g. to start its 14-day check unless one is open).

``PARTNER_AREA``: ``async (user_id) -> str | None``: the region code a
partner officer works in (their team's area), to preselect it in forms.

``ACCREDITATION_REPORTED``: ``async (actor, lks_id, *, status, grade, now,
source) -> None`` records an accreditation known from elsewhere (a row of
the office's spreadsheet: ``accredited`` with a grade, or ``in_process``) as
a real record of the domain that owns accreditation, which then writes the
LKS row's derived fields. With no contribution the registry writes those
fields itself (``registry.accreditation_cache``).

The workflow takes both as explicit arguments (``registry.workflow.transition``);
the controllers pass ``wiring_of(request).hook(...)``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

LKS_DETAIL_PANELS = "registry.lks_detail_panels"
REGISTRATION_APPROVAL_CHECKS = "registry.registration_approval_checks"
FIELD_VERIFICATION_STARTED = "registry.field_verification_started"
UNREGISTERED_REPORTED = "registry.unregistered_reported"
PARTNER_AREA = "registry.partner_area"
ACCREDITATION_REPORTED = "registry.accreditation_reported"

DetailPanel = Callable[[Any, dict], Awaitable[dict | None]]
ApprovalCheck = Callable[[dict, dict], Awaitable[list[str]]]
VerificationStarted = Callable[[Any, dict, dict, Any], Awaitable[None]]
