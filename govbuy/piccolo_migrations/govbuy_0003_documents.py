"""The document store's index (govbuy/documents.py): `documents`, one row per organisation that
uploaded a content (the bytes are stored once, by hash, outside the database), and
`document_links`, which records attach them to (deliverables, evaluations).

These tables were created by `contracts_0001` until they became the kernel's. This migration
runs before every domain's and:
- on a new database, creates them;
- on a database where `contracts_0001` made them, adopts them as they are, rows and all: their
  definition below is the same, word for word, so there is nothing to change;
- refuses a database that holds only one of them, which no migration ever made.

No foreign key to the domains' tables: a link names its entity by type and id, and the kernel's
migrations run before the domains'.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T09:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "document records, adopted from contracts"

TABLES = ("documents", "document_links")

SQL = """
-- Documents (govbuy/documents.py): one row per organisation that uploaded a content;
-- the bytes are stored once, by hash, outside the database.
CREATE TABLE documents (
    id uuid PRIMARY KEY,
    sha256 char(64) NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size bigint NOT NULL CHECK (size > 0),
    media_type varchar(100) NOT NULL,
    original_name varchar(255) NOT NULL CHECK (length(original_name) > 0),
    uploaded_by uuid NOT NULL REFERENCES users(id),
    organisation_id uuid NOT NULL REFERENCES organisations(id),
    uploaded_at timestamptz NOT NULL,
    UNIQUE (sha256, organisation_id)
);
CREATE INDEX documents_organisation ON documents (organisation_id, uploaded_at, id);

CREATE TABLE document_links (
    sha256 char(64) NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    entity_type varchar(40) NOT NULL,
    entity_id uuid NOT NULL,
    organisation_id uuid NOT NULL REFERENCES organisations(id),
    linked_at timestamptz NOT NULL,
    PRIMARY KEY (sha256, entity_type, entity_id),
    FOREIGN KEY (sha256, organisation_id) REFERENCES documents (sha256, organisation_id)
);
CREATE INDEX document_links_entity ON document_links (entity_type, entity_id);
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="govbuy", description=DESCRIPTION)

    async def run():
        from govbuy import database as db

        # Where contracts_0001 made them before the move, they are adopted as they are.
        await db.create_or_adopt(TABLES, SQL)

    manager.add_raw(run)
    return manager
