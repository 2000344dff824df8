"""Training coverage at work elsewhere: the risk factor contributed to
joint monitoring (``inspections.hooks.RISK_FACTORS``) and the daily job
that keeps "train staff in child protection" in the improvement plan of
every LKS not covered (once per LKS while open; done by itself when the
LKS's staff attend a session).

Both are set-based: two queries for all LKS, however many there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from accreditation.improvement.services import PLANNED_TITLES, PlannedAction, close_met, plan_actions
from accreditation.improvement.tables import ActionSource, ActionStatus, ImprovementAction
from accreditation.training.services import covered_lks, today_wib
from accreditation.training.tables import TrainingTopic
from registry.tables import Lks
from sigap.audit import Actor
from sigap.i18n import N_

NO_TRAINING = "no_child_protection_training"
RISK_REASONS = {NO_TRAINING: N_("No staff trained in child protection in the last 12 months")}
NO_TRAINING_POINTS = 1
ACTION_REF = TrainingTopic.child_protection.value
ACTION_TITLE = PLANNED_TITLES[(ActionSource.training.value, ACTION_REF)]
ACTION_DUE_DAYS = 90
ACTOR = Actor.system("pembinaan")


async def _active_lks(lks_ids: list[int] | None) -> list[int]:
    query = Lks.select(Lks.id).where(Lks.registration_status != "closed")
    if lks_ids is not None:
        query = query.where(Lks.id.is_in(lks_ids or [-1]))
    return [r["id"] for r in await query]


async def untrained_risk(lks_ids: list[int] | None, today: date) -> dict[int, list]:
    """The RISK_FACTORS contribution: a point for every LKS (not closed)
    without child-protection training in the last 12 months."""
    covered = await covered_lks(today, lks_ids)
    return {i: [(NO_TRAINING, NO_TRAINING_POINTS, {})] for i in await _active_lks(lks_ids) if i not in covered}


@dataclass
class TrainingPlanResult:
    planned: int
    done: int

    def __str__(self) -> str:
        return f"{self.planned} training actions planned, {self.done} done by attendance"


async def plan_training(*, now: datetime) -> TrainingPlanResult:
    """Plan the child-protection training action for every LKS not covered
    (idempotent: its open key), and mark done those whose staff attended."""
    today = today_wib(now)
    covered = await covered_lks(today)
    due = today + timedelta(days=ACTION_DUE_DAYS)
    wanted = [PlannedAction(i, ACTION_TITLE, due, ACTION_REF) for i in await _active_lks(None) if i not in covered]
    created = await plan_actions(wanted, actor=ACTOR, now=now, source=ActionSource.training.value)
    met = [
        r["id"] for r in await ImprovementAction.select(ImprovementAction.id, ImprovementAction.lks).where(
            (ImprovementAction.source == ActionSource.training.value) & (ImprovementAction.source_ref == ACTION_REF)
            & (ImprovementAction.status != ActionStatus.done.value)
        ) if r["lks"] in covered
    ]
    done = await close_met(met, actor=ACTOR, now=now, comment="child-protection training attended")
    return TrainingPlanResult(planned=len(created), done=done)
