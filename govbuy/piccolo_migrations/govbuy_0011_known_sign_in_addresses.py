"""The addresses each account last signed in from (govbuy/auth.py): an address's back-off
against spraying across accounts does not slow an account that signed in from it before, so
that one person guessing behind an office's address does not keep the office out. Failures are
now counted per account and address: an index for that pair."""

from govbuy.migration import sql_migration

ID = "2026-12-09T09:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "known sign-in addresses"

SQL = """
CREATE TABLE known_sign_in_addresses (
    username varchar(64) NOT NULL,
    address varchar(64) NOT NULL,
    signed_in_at timestamptz NOT NULL,
    PRIMARY KEY (username, address)
);
CREATE INDEX known_sign_in_addresses_age ON known_sign_in_addresses (signed_in_at);
DROP INDEX login_failures_user;
CREATE INDEX login_failures_pair ON login_failures (username, address, attempted_at);
"""


forwards = sql_migration(ID, "govbuy", DESCRIPTION, SQL)
