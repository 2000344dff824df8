from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.column_types import Varchar

ID = "2026-11-30T07:12:06:720997"
VERSION = "1.38.0"
DESCRIPTION = ""


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="inspections", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Alert",
        tablename="inspections_alert",
        column_name="kind",
        db_column_name="kind",
        params={
            "choices": Enum(
                "AlertKind",
                {
                    "task_overdue": "task_overdue",
                    "registration_expiring": "registration_expiring",
                    "registration_expired": "registration_expired",
                    "accreditation_expiring": "accreditation_expiring",
                    "document_expiring": "document_expiring",
                    "finding_overdue": "finding_overdue",
                    "incident_unvisited": "incident_unvisited",
                    "unregistered_unchecked": "unregistered_unchecked",
                    "team_without_lead": "team_without_lead",
                    "improvement_overdue": "improvement_overdue",
                },
            )
        },
        old_params={
            "choices": Enum(
                "AlertKind",
                {
                    "task_overdue": "task_overdue",
                    "registration_expiring": "registration_expiring",
                    "registration_expired": "registration_expired",
                    "accreditation_expiring": "accreditation_expiring",
                    "document_expiring": "document_expiring",
                    "finding_overdue": "finding_overdue",
                    "incident_unvisited": "incident_unvisited",
                    "unregistered_unchecked": "unregistered_unchecked",
                    "team_without_lead": "team_without_lead",
                },
            )
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
