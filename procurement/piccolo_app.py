"""The procurement domain's Piccolo app."""

import os

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="procurement",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=table_finder(modules=["procurement.tables"], exclude_imported=True),
    migration_dependencies=["govbuy.piccolo_app", "vendors.piccolo_app", "planning.piccolo_app"],
    commands=[],
)
