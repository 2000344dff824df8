import os

from piccolo.conf.apps import AppConfig, table_finder

# Each sub-domain's tables; a table imported from a sibling (a foreign key)
# is counted where it is defined.
TABLE_MODULES = [
    "inspections.teams.tables",
    "inspections.planning.tables",
    "inspections.incidents.tables",
    "inspections.alerts.tables",
    "inspections.findings.tables",
    "inspections.visits.tables",
    "inspections.public_reports.tables",
]

APP_CONFIG = AppConfig(
    app_name="inspections",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=table_finder(modules=TABLE_MODULES, exclude_imported=True),
    migration_dependencies=["sigap.piccolo_app", "registry.piccolo_app"],
    commands=[],
)
