"""A catalogue item may carry the bureau's override of the negative list (负面清单, 财政部令第102号
Art. 10): the reason it gave and the patterns it overrode, kept with the item so that whoever
reads the catalogue, supervisors first, sees that the item passed as an exception and why.

The column is null for every item that matched nothing, which is every item stored before.
"""

from govbuy.migration import sql_migration

ID = "2026-12-04T09:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "negative-list override of a catalogue item"

SQL = """
ALTER TABLE catalogue_items ADD COLUMN negative_list_override jsonb
    CONSTRAINT catalogue_items_override_has_reason CHECK (
        negative_list_override IS NULL OR (
            jsonb_typeof(negative_list_override -> 'reason') = 'string'
            AND length(btrim(negative_list_override ->> 'reason')) > 0
            AND jsonb_typeof(negative_list_override -> 'matches') = 'array'
        )
    );
CREATE INDEX catalogue_items_overridden ON catalogue_items (catalogue_id, code)
    WHERE negative_list_override IS NOT NULL;
"""


forwards = sql_migration(ID, "planning", DESCRIPTION, SQL)
