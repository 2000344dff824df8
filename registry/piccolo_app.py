import os

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="registry",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=table_finder(modules=["registry.tables", "registry.transfer.tables", "registry.sightings.tables", "registry.public.tables"], exclude_imported=True),
    migration_dependencies=["sigap.piccolo_app"],
    commands=[],
)
