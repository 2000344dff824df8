"""Improvement plans: actions an LKS must take (from its weakest
accreditation indicators, from missing training, or set by staff), the
manager's answers with evidence and Dinas Sosial's decisions."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.tables import Document, Lks
from sigap.tables import User


class ActionSource(str, Enum):
    indicator = "indicator"  # a weak indicator of an assessment (source_ref: its code)
    training = "training"  # missing training (source_ref: the topic)
    manual = "manual"  # set by staff


class ActionStatus(str, Enum):
    open = "open"  # waiting for the LKS
    answered = "answered"  # the LKS answered; Dinas Sosial to accept or reopen
    done = "done"  # accepted by Dinas Sosial
    reopened = "reopened"  # not accepted: waiting for the LKS again


class ImprovementAction(Table, tablename="accreditation_improvement_action"):
    lks = ForeignKey(references=Lks, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=300)
    source = Varchar(length=12, choices=ActionSource, default="manual")
    source_ref = Varchar(length=60, default="")
    cycle_ref = Varchar(length=60, null=True, default=None)  # the accreditation cycle it came from
    due_on = Date(index=True)
    status = Varchar(length=10, choices=ActionStatus, default="open", index=True)
    # "{source}:{lks}:{source_ref}" while the action is not done, so the same
    # need is planned once per LKS (NULL once done: it may come back later).
    open_key = Varchar(length=120, null=True, default=None, unique=True)
    created_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
    updated_at = Timestamptz(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)


class ActionNote(Table, tablename="accreditation_improvement_note"):
    """One step of an action's thread: the manager's answer (with evidence),
    staff's acceptance or reopening (with a comment)."""

    action = ForeignKey(references=ImprovementAction, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=8)  # answer / accept / reopen
    text = Text()
    document = ForeignKey(references=Document, null=True, default=None, on_delete=OnDelete.set_null)
    client_id = Varchar(length=64, null=True, default=None, unique=True)
    created_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
