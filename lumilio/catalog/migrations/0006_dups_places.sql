-- Duplicates and places: picture fingerprints, duplicate groups with their evidence,
-- location clusters and the cache of place names.

-- What a picture looks like, from its small thumbnail (see lumilio.media.fingerprint).
-- The 64-bit pHash itself is kept on the asset row, as the API document's `phash`.
CREATE TABLE asset_fingerprints (
    asset_id    TEXT PRIMARY KEY REFERENCES assets(asset_id) ON DELETE CASCADE,
    phash       TEXT NOT NULL,
    thumbprint  BLOB NOT NULL,
    aspect      REAL NOT NULL,
    spread      REAL NOT NULL,
    created_at  TEXT NOT NULL
);

-- A group is pending until a person merges or dismisses it. Detection replaces only
-- pending groups; resolved ones are history, and the pairs inside them are not
-- offered again. Groups never mix owners: one person cannot merge another's photos.
CREATE TABLE duplicate_groups (
    group_id                    TEXT PRIMARY KEY,
    repository_id               TEXT NOT NULL REFERENCES repositories(repository_id)
                                    ON DELETE CASCADE,
    owner_id                    INTEGER,
    method                      TEXT NOT NULL
                                    CHECK (method IN ('exact', 'phash', 'mixed')),
    status                      TEXT NOT NULL DEFAULT 'pending'
                                    CHECK (status IN ('pending', 'merged',
                                                      'dismissed')),
    recommended_keeper_asset_id TEXT,
    keeper_asset_id             TEXT,
    detection_version           TEXT NOT NULL,
    detected_at                 TEXT NOT NULL,
    resolved_at                 TEXT
);
CREATE INDEX duplicate_groups_repository
    ON duplicate_groups(repository_id, status, owner_id);

CREATE TABLE duplicate_members (
    group_id  TEXT NOT NULL REFERENCES duplicate_groups(group_id) ON DELETE CASCADE,
    asset_id  TEXT NOT NULL REFERENCES assets(asset_id) ON DELETE CASCADE,
    role      TEXT NOT NULL CHECK (role IN ('keeper', 'duplicate', 'candidate')),
    file_size INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, asset_id)
);
CREATE INDEX duplicate_members_asset ON duplicate_members(asset_id);

CREATE TABLE duplicate_edges (
    group_id   TEXT NOT NULL REFERENCES duplicate_groups(group_id) ON DELETE CASCADE,
    asset_id_a TEXT NOT NULL,
    asset_id_b TEXT NOT NULL,
    method     TEXT NOT NULL CHECK (method IN ('exact', 'phash')),
    distance   REAL NOT NULL,
    confidence REAL NOT NULL,
    PRIMARY KEY (group_id, asset_id_a, asset_id_b)
);

-- Photos grouped by (repository, owner, 7-character geohash: about 150 m). A cluster
-- keeps its id across rebuilds while it has photos.
CREATE TABLE location_clusters (
    cluster_id         TEXT PRIMARY KEY,
    repository_id      TEXT NOT NULL REFERENCES repositories(repository_id)
                           ON DELETE CASCADE,
    owner_id           INTEGER,
    geohash            TEXT NOT NULL,
    precision          INTEGER NOT NULL,
    centroid_latitude  REAL NOT NULL,
    centroid_longitude REAL NOT NULL,
    photo_count        INTEGER NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE UNIQUE INDEX location_clusters_key
    ON location_clusters(repository_id, COALESCE(owner_id, -1), geohash);
CREATE INDEX location_clusters_geohash ON location_clusters(geohash);

-- Place names per provider, language and geohash, so that a rebuild, or a second
-- repository with photos from the same spot, asks no geocoder twice.
CREATE TABLE geocode_cache (
    provider     TEXT NOT NULL,
    language     TEXT NOT NULL,
    geohash      TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('resolved', 'failed')),
    label        TEXT,
    city         TEXT,
    region       TEXT,
    country      TEXT,
    country_code TEXT,
    error        TEXT,
    geocoded_at  TEXT NOT NULL,
    PRIMARY KEY (provider, language, geohash)
);

-- The place channel of search: words of the names, found by full-text match.
CREATE VIRTUAL TABLE place_names USING fts5(
    label, city, region, country,
    content='geocode_cache', content_rowid='rowid',
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER geocode_cache_ai AFTER INSERT ON geocode_cache BEGIN
    INSERT INTO place_names(rowid, label, city, region, country)
    VALUES (new.rowid, new.label, new.city, new.region, new.country);
END;
CREATE TRIGGER geocode_cache_ad AFTER DELETE ON geocode_cache BEGIN
    INSERT INTO place_names(place_names, rowid, label, city, region, country)
    VALUES ('delete', old.rowid, old.label, old.city, old.region, old.country);
END;
CREATE TRIGGER geocode_cache_au AFTER UPDATE ON geocode_cache BEGIN
    INSERT INTO place_names(place_names, rowid, label, city, region, country)
    VALUES ('delete', old.rowid, old.label, old.city, old.region, old.country);
    INSERT INTO place_names(rowid, label, city, region, country)
    VALUES (new.rowid, new.label, new.city, new.region, new.country);
END;

CREATE INDEX assets_geohash ON assets(geohash7) WHERE geohash7 IS NOT NULL;
