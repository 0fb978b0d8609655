"""Planning: the guidance catalogue (指导性目录) with its items, and budget lines
(先有预算、后购买服务, 财政部令第102号 Art. 14).

These tables were created by `procurement_0001` until they became the planning domain's. This
migration runs before procurement's (procurement depends on planning) and:
- on a new database, creates them;
- on a database where `procurement_0001` made them, adopts them as they are, rows, constraints,
  triggers and all: their definition below is the same, word for word, so there is nothing to
  change, and nothing is copied or dropped;
- refuses a database that holds only some of them, which no migration ever made.

The service enforces every rule; the constraints below are the last line of defence, so that
no bug and no concurrent interleaving can store what the rules forbid (a budget line below
zero, two published versions of one catalogue, a published catalogue changed).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T09:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "planning schema: catalogue and budget lines, adopted from procurement"

TABLES = ("catalogues", "catalogue_items", "budget_lines")

SQL = """
-- Guidance catalogue (指导性目录): versions per region and year.
CREATE TABLE catalogues (
    id uuid PRIMARY KEY,
    region_code varchar(6) NOT NULL CHECK (region_code ~ '^[0-9]{6}$'),
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    version_no integer NOT NULL CHECK (version_no >= 1),
    title varchar(200) NOT NULL CHECK (length(btrim(title)) > 0),
    status varchar(12) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft','published','superseded')),
    created_by_org uuid NOT NULL REFERENCES organisations(id),
    created_at timestamptz NOT NULL,
    published_at timestamptz,
    superseded_at timestamptz,
    superseded_by uuid REFERENCES catalogues(id),
    version integer NOT NULL DEFAULT 1,
    UNIQUE (region_code, year, version_no),
    CHECK ((status = 'draft') = (published_at IS NULL)),
    CHECK ((status = 'superseded') = (superseded_at IS NOT NULL))
);
-- One published version per region and year, whatever races the service loses.
CREATE UNIQUE INDEX catalogues_one_published ON catalogues (region_code, year) WHERE status = 'published';
-- Once published, a version keeps its identity and contents; it may only become superseded.
CREATE FUNCTION catalogues_published_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'draft' AND (
        (NEW.region_code, NEW.year, NEW.version_no, NEW.title, NEW.published_at)
            IS DISTINCT FROM (OLD.region_code, OLD.year, OLD.version_no, OLD.title, OLD.published_at)
        OR NEW.status = 'draft'
        OR (OLD.status = 'superseded' AND NEW IS DISTINCT FROM OLD)
    ) THEN
        RAISE EXCEPTION 'catalogue % is %: a published version is immutable', OLD.id, OLD.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'catalogues_published_immutable';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER catalogues_published_immutable BEFORE UPDATE ON catalogues
    FOR EACH ROW EXECUTE FUNCTION catalogues_published_immutable();
CREATE INDEX catalogues_list ON catalogues (created_at DESC, id DESC);
CREATE INDEX catalogues_region_year ON catalogues (region_code, year, created_at DESC, id DESC);
CREATE INDEX catalogues_status ON catalogues (status, created_at DESC, id DESC);

CREATE TABLE catalogue_items (
    id uuid PRIMARY KEY,
    catalogue_id uuid NOT NULL REFERENCES catalogues(id),
    code varchar(5) NOT NULL CHECK (code ~ '^[A-E]((0[1-9]|[1-9][0-9]){0,2})$'),
    level smallint NOT NULL CHECK (level BETWEEN 1 AND 3),
    parent_code varchar(5),
    name varchar(200) NOT NULL CHECK (length(btrim(name)) > 0),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
    created_at timestamptz NOT NULL,
    UNIQUE (catalogue_id, code),
    CHECK (level = 1 + (length(code) - 1) / 2),
    CHECK ((level = 1 AND parent_code IS NULL) OR (level > 1 AND parent_code = left(code, length(code) - 2))),
    FOREIGN KEY (catalogue_id, parent_code) REFERENCES catalogue_items (catalogue_id, code)
        DEFERRABLE INITIALLY DEFERRED
);

-- A published (or superseded) catalogue is immutable: no item is added, changed or removed.
CREATE FUNCTION catalogue_items_only_in_drafts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.catalogue_id ELSE NEW.catalogue_id END;
BEGIN
    IF (SELECT status FROM catalogues WHERE id = target) <> 'draft' THEN
        RAISE EXCEPTION 'catalogue % is not a draft: its items are immutable', target
            USING ERRCODE = 'check_violation', CONSTRAINT = 'catalogue_items_only_in_drafts';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER catalogue_items_only_in_drafts BEFORE INSERT OR UPDATE OR DELETE ON catalogue_items
    FOR EACH ROW EXECUTE FUNCTION catalogue_items_only_in_drafts();

-- Budget lines (先有预算、后购买服务): available = amount - reserved - committed, never below zero.
CREATE TABLE budget_lines (
    id uuid PRIMARY KEY,
    bureau_id uuid NOT NULL REFERENCES organisations(id),
    code varchar(40) NOT NULL CHECK (length(btrim(code)) > 0),
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    title varchar(200) NOT NULL CHECK (length(btrim(title)) > 0),
    amount numeric(16,2) NOT NULL CHECK (amount >= 0),
    reserved numeric(16,2) NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    committed numeric(16,2) NOT NULL DEFAULT 0 CHECK (committed >= 0),
    spent numeric(16,2) NOT NULL DEFAULT 0 CHECK (spent >= 0),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1,
    UNIQUE (bureau_id, year, code),
    CONSTRAINT budget_lines_available_not_negative CHECK (reserved + committed <= amount),
    CONSTRAINT budget_lines_spent_within_committed CHECK (spent <= committed)
);
CREATE INDEX budget_lines_bureau ON budget_lines (bureau_id, year DESC, code, id);
CREATE INDEX budget_lines_year ON budget_lines (year DESC, code, id);
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="planning", description=DESCRIPTION)

    async def run():
        from govbuy import database as db

        # Where procurement_0001 made them before the move, they are adopted as they are.
        await db.create_or_adopt(TABLES, SQL)

    manager.add_raw(run)
    return manager
