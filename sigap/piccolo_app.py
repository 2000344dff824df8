import os

from piccolo.conf.apps import AppConfig

from sigap.tables import ApiToken, AuditEvent, LoginAttempt, User, WebSession

APP_CONFIG = AppConfig(
    app_name="sigap",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[User, ApiToken, WebSession, LoginAttempt, AuditEvent],
    migration_dependencies=[],
    commands=[],
)
