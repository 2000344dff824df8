import os

from piccolo.conf.apps import AppConfig, table_finder

# Each sub-domain's tables; a table imported from a sibling (a foreign key)
# is counted where it is defined.
TABLE_MODULES = [
    "accreditation.instruments.tables",
    "accreditation.cycles.tables",
    "accreditation.assessments.tables",
    "accreditation.improvement.tables",
    "accreditation.training.tables",
]

APP_CONFIG = AppConfig(
    app_name="accreditation",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=table_finder(modules=TABLE_MODULES, exclude_imported=True),
    migration_dependencies=["sigap.piccolo_app", "registry.piccolo_app"],
    commands=[],
)
