import os

from piccolo.conf.apps import AppConfig

APP_CONFIG = AppConfig(
    app_name="accreditation",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[],
    migration_dependencies=["sigap.piccolo_app"],
    commands=[],
)
