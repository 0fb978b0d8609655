"""Kernel tables: organisations and users, the audit log, the calendar, the sandbox clock, the
document store's index."""

from piccolo.columns import (
    Array,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    JSONB,
    UUID,
    BigInt,
    Varchar,
    Text,
    Timestamptz,
)
from piccolo.table import Table


class Organisation(Table, tablename="organisations"):
    id = UUID(primary_key=True)
    name = Varchar(length=200)
    kind = Varchar(length=20)  # platform | bureau | vendor | evaluator | supervisor
    uscc = Varchar(length=18, null=True, unique=True)
    region_code = Varchar(length=6, null=True)
    created_at = Timestamptz()
    version = Integer(default=1)


class User(Table, tablename="users"):
    id = UUID(primary_key=True)
    username = Varchar(length=64, unique=True)
    password_hash = Text(secret=True)
    organisation = ForeignKey(Organisation, db_column_name="organisation_id")
    role = Varchar(length=20)
    active = Boolean(default=True)
    created_at = Timestamptz()
    version = Integer(default=1)


class AuditEvent(Table, tablename="audit_events"):
    seq = BigInt(primary_key=True)
    id = UUID()
    occurred_at = Timestamptz()
    actor_user_id = UUID(null=True)
    actor_username = Varchar(length=64)
    organisation_id = UUID(null=True)
    action = Varchar(length=64)
    entity_type = Varchar(length=64)
    entity_id = Varchar(length=64)
    before = JSONB(null=True)
    after = JSONB(null=True)
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


class CalendarYear(Table, tablename="calendar_years"):
    year = Integer(primary_key=True)
    holidays = Array(base_column=Date())
    workdays = Array(base_column=Date())
    source = Varchar(length=100)
    updated_at = Timestamptz()


class LoginFailure(Table, tablename="login_failures"):
    id = BigInt(primary_key=True)
    username = Varchar(length=64)
    address = Varchar(length=64)
    attempted_at = Timestamptz()


class KnownSignInAddress(Table, tablename="known_sign_in_addresses"):
    username = Varchar(length=64, primary_key=True)
    address = Varchar(length=64)
    signed_in_at = Timestamptz()


class Notification(Table, tablename="notifications"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(Organisation, db_column_name="organisation_id")
    event = Varchar(length=64)
    entity_type = Varchar(length=64)
    entity_id = Varchar(length=64)
    message = Text()
    details = JSONB()
    created_at = Timestamptz()
    read_at = Timestamptz(null=True)


class Document(Table, tablename="documents"):
    """The document store's index (govbuy/documents.py): who uploaded which content."""

    id = UUID(primary_key=True)
    sha256 = Varchar(length=64)
    size = BigInt()
    media_type = Varchar(length=100)
    original_name = Varchar(length=255)
    uploaded_by = ForeignKey(User, db_column_name="uploaded_by")
    organisation = ForeignKey(Organisation, db_column_name="organisation_id")
    uploaded_at = Timestamptz()


class DocumentLink(Table, tablename="document_links"):
    sha256 = Varchar(length=64, primary_key=True)
    entity_type = Varchar(length=40)
    entity_id = UUID()
    organisation = ForeignKey(Organisation, db_column_name="organisation_id")
    linked_at = Timestamptz()
