"""Tables of the vendors domain: grades, credit-list entries, stored ratings."""

from piccolo.columns import (
    JSONB,
    UUID,
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from govbuy.tables import Organisation, User


class AssessmentGrade(Table, tablename="assessment_grades"):
    """民政部 社会组织评估等级 awarded to a vendor; rows are never overwritten."""

    id = UUID(primary_key=True)
    vendor = ForeignKey(Organisation, db_column_name="vendor_id")
    grade = SmallInt()
    awarded_on = Date()
    note = Text()
    recorded_by = ForeignKey(User, db_column_name="recorded_by", null=True)
    recorded_at = Timestamptz()


class CreditListEntry(Table, tablename="credit_list_entries"):
    """An entry on a credit list (信用名单); removal is recorded, never deleted."""

    id = UUID(primary_key=True)
    vendor = ForeignKey(Organisation, db_column_name="vendor_id")
    list = Varchar(length=40)
    reason = Text()
    listed_on = Date()
    removed_on = Date(null=True)
    removal_reason = Text(null=True)
    recorded_by = ForeignKey(User, db_column_name="recorded_by", null=True)
    recorded_at = Timestamptz()
    removed_by = ForeignKey(User, db_column_name="removed_by", null=True)
    removal_recorded_at = Timestamptz(null=True)
    version = Integer(default=1)


class CreditRating(Table, tablename="credit_ratings"):
    """A rating as computed, with its inputs and rules version, so it can be explained later."""

    id = BigInt(primary_key=True)
    vendor = ForeignKey(Organisation, db_column_name="vendor_id")
    rated_on = Date()
    score = Numeric(digits=(5, 2), null=True)
    grade = Varchar(length=1, null=True)
    provisional = Boolean()
    eligible = Boolean()
    rules_version = Varchar(length=40)
    fingerprint = Varchar(length=64)
    inputs = JSONB()
    result = JSONB()
    created_at = Timestamptz()


class LegalExclusion(Table, tablename="legal_exclusions"):
    """An organisation 102号令 Art. 8 excludes from supplying purchased services, as recorded."""

    vendor = ForeignKey(Organisation, db_column_name="vendor_id", primary_key=True)
    category = Varchar(length=40)
    source = Text()
    recorded_by = ForeignKey(User, db_column_name="recorded_by", null=True)
    recorded_at = Timestamptz()
    version = Integer(default=1)
