import os

from piccolo.conf.apps import AppConfig

from registry.tables import Application, Document, Lks, Region, StatusChange

APP_CONFIG = AppConfig(
    app_name="registry",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Region, Lks, Application, StatusChange, Document],
    migration_dependencies=["sigap.piccolo_app"],
    commands=[],
)
