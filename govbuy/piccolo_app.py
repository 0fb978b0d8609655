"""The kernel's Piccolo app: accounts, audit log, calendar, clock."""

import os

from piccolo.conf.apps import AppConfig

from govbuy.tables import AuditEvent, CalendarYear, KnownSignInAddress, LoginFailure, Notification, Organisation, User

APP_CONFIG = AppConfig(
    app_name="govbuy",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Organisation, User, AuditEvent, CalendarYear, LoginFailure, KnownSignInAddress, Notification],
    migration_dependencies=[],
    commands=[],
)
