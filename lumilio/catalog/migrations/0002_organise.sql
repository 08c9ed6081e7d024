-- Organising: faster browsing, album order, the document's album types.

-- The browse indexes again, with is_missing: every live listing filters on it, and
-- without it in the index each count and each page step reads the table row. With
-- it, counting a 100,000-asset library and walking a page in capture order stay in
-- the index (measured by bench/bench_query.py: expanded list 34-67 ms -> 4-6 ms).
DROP INDEX assets_browse;
CREATE INDEX assets_browse
    ON assets(is_deleted, is_missing, sort_time DESC, asset_id DESC);
DROP INDEX assets_owner_browse;
CREATE INDEX assets_owner_browse
    ON assets(owner_id, is_deleted, is_missing, sort_time DESC, asset_id DESC);

-- A stack's cover is its first live member by position. With this index the
-- planner walks one stack's members in order and stops at the first live one,
-- whatever its statistics say; without it, a reader whose statistics predate a
-- large import may scan the assets once per stack (seconds at 20,000 assets).
CREATE INDEX stack_members_order ON stack_members(stack_id, position);

-- Members of an album in their order.
CREATE INDEX album_assets_order ON album_assets(album_id, position);

-- The API document's album types are 'default' and 'bio'.
UPDATE albums SET album_type = 'default' WHERE album_type = 'manual';
