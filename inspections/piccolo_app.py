import os

from piccolo.conf.apps import AppConfig

from inspections.tables import (
    Alert,
    AlertAck,
    CalendarFeed,
    Finding,
    Incident,
    IncidentAction,
    Notification,
    RiskAssessment,
    Task,
    Team,
    TeamMember,
)

APP_CONFIG = AppConfig(
    app_name="inspections",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[
        Team, TeamMember, Task, Finding, Incident, IncidentAction, RiskAssessment, Alert, AlertAck, Notification, CalendarFeed,
    ],
    migration_dependencies=["sigap.piccolo_app", "registry.piccolo_app"],
    commands=[],
)
