"""Piccolo's configuration: the engine comes from SIGAP_DATABASE_URL."""

from piccolo.conf.apps import AppRegistry

from sigap.db import get_engine

DB = get_engine()

APP_REGISTRY = AppRegistry(
    apps=[
        "sigap.piccolo_app",
        "registry.piccolo_app",
        "inspections.piccolo_app",
        "accreditation.piccolo_app",
        "overview.piccolo_app",
    ]
)
