"""The kept monthly reports (one per month) and who wants them by e-mail."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from sigap.tables import User


class MonthlyReport(Table, tablename="overview_monthly_report"):
    """One report per calendar month (WIB). Building it again replaces the
    files and raises ``version``; ``final`` says it was built after the month
    ended (the snapshot figures are those at month end)."""

    month = Varchar(length=7, unique=True, index=True)  # "YYYY-MM"
    version = Integer(default=1)
    final = Boolean(default=False)
    figures = JSON(default="{}")  # counts only: never names, descriptions or residents
    pdf_key = Varchar(length=300)
    pdf_size = BigInt(default=0)
    xlsx_key = Varchar(length=300)
    xlsx_size = BigInt(default=0)
    built_at = Timestamptz()
    built_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    built_by_name = Varchar(length=200, default="")  # "scheduler" for the job


class MonthlySubscription(Table, tablename="overview_monthly_subscription"):
    """A staff member who gets each month's report by e-mail."""

    user = ForeignKey(references=User, on_delete=OnDelete.cascade, unique=True, index=True)
    subscribed_at = Timestamptz()
