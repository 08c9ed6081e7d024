-- Media operations: where a stack came from, and what automatic detection must leave
-- alone.

-- The API knows three stack kinds (raw_jpeg, live_photo, manual). Bursts are shown as
-- `manual` stacks, so the catalog keeps the stack's origin apart from its kind:
-- user, raw_jpeg, live_photo or burst.
ALTER TABLE stacks ADD COLUMN origin TEXT NOT NULL DEFAULT 'user';

-- Assets a person took out of a stack. Detection runs again after every scan and
-- import, and must not put them back; stacking them by hand lifts the mark.
CREATE TABLE stack_exclusions (
    asset_id   TEXT PRIMARY KEY REFERENCES assets(asset_id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);

CREATE INDEX stacks_repository ON stacks(repository_id);
