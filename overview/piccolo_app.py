import os

from piccolo.conf.apps import AppConfig, table_finder

# Each sub-domain's tables.
TABLE_MODULES: list[str] = [
    "overview.monthly.tables",
]

APP_CONFIG = AppConfig(
    app_name="overview",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=table_finder(modules=TABLE_MODULES, exclude_imported=True),
    migration_dependencies=[
        "sigap.piccolo_app",
        "registry.piccolo_app",
        "inspections.piccolo_app",
        "accreditation.piccolo_app",
    ],
    commands=[],
)
