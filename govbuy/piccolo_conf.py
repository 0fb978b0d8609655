"""Piccolo configuration: the engine (its connection settings are filled in at start-up by
govbuy.database.configure) and the registry of the Piccolo apps, one per domain."""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

DB = PostgresEngine(config={})

APP_REGISTRY = AppRegistry(
    apps=[
        "govbuy.piccolo_app",
        "vendors.piccolo_app",
        "planning.piccolo_app",
        "procurement.piccolo_app",
        "contracts.piccolo_app",
        "evaluation.piccolo_app",
    ]
)
