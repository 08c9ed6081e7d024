-- The catalog's first schema: everything the API document needs.
-- Times are ISO-8601 text in UTC with a trailing Z (they sort as text). A capture time
-- written without a zone is stored as its wall clock marked Z, with a null offset.

CREATE TABLE system_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    user_id          INTEGER PRIMARY KEY,
    username         TEXT NOT NULL UNIQUE,
    display_name     TEXT,
    password_hash    TEXT NOT NULL,
    role             TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
    is_active        INTEGER NOT NULL DEFAULT 1,
    avatar_asset_id  TEXT,
    totp_secret      TEXT,
    totp_enabled     INTEGER NOT NULL DEFAULT 0,
    totp_last_step   INTEGER,
    recovery_generated_at TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    last_login       TEXT
);

CREATE TABLE recovery_codes (
    code_id    INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    used_at    TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE passkeys (
    passkey_id    TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    credential_id BLOB NOT NULL UNIQUE,
    public_key    BLOB NOT NULL,
    sign_count    INTEGER NOT NULL DEFAULT 0,
    transports    TEXT,
    name          TEXT,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT
);

-- Refresh tokens are stored hashed; a family is every token rotated from one login.
CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    family_id   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    revoked_at  TEXT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);

CREATE TABLE repositories (
    repository_id      TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    path               TEXT NOT NULL UNIQUE,
    role               TEXT NOT NULL DEFAULT 'regular' CHECK (role IN ('primary', 'regular')),
    storage_strategy   TEXT NOT NULL DEFAULT 'date',
    duplicate_handling TEXT NOT NULL DEFAULT 'rename',
    default_owner_id   INTEGER REFERENCES users(user_id) ON DELETE SET NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);

CREATE TABLE assets (
    asset_id               TEXT PRIMARY KEY,
    repository_id          TEXT NOT NULL REFERENCES repositories(repository_id)
                               ON DELETE CASCADE,
    owner_id               INTEGER REFERENCES users(user_id) ON DELETE SET NULL,
    type                   TEXT NOT NULL CHECK (type IN ('PHOTO', 'VIDEO', 'AUDIO')),
    original_filename      TEXT NOT NULL,
    storage_path           TEXT NOT NULL,
    mime_type              TEXT NOT NULL,
    file_size              INTEGER NOT NULL DEFAULT 0,
    file_mtime             REAL,
    hash                   TEXT,
    upload_time            TEXT NOT NULL,
    taken_time             TEXT,
    capture_offset_minutes INTEGER,
    taken_source           TEXT,
    width                  INTEGER,
    height                 INTEGER,
    duration               REAL,
    orientation            INTEGER,
    is_raw                 INTEGER NOT NULL DEFAULT 0,
    specific_metadata      TEXT,
    camera_model           TEXT,
    lens_model             TEXT,
    gps_latitude           REAL,
    gps_longitude          REAL,
    geohash5               TEXT,
    geohash7               TEXT,
    content_identifier     TEXT,
    description            TEXT,
    rating                 INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
    liked                  INTEGER NOT NULL DEFAULT 0,
    is_deleted             INTEGER NOT NULL DEFAULT 0,
    deleted_at             TEXT,
    is_missing             INTEGER NOT NULL DEFAULT 0,
    state                  TEXT NOT NULL DEFAULT 'processing',
    status                 TEXT,
    phash                  TEXT,
    updated_at             TEXT NOT NULL,
    sort_time              TEXT GENERATED ALWAYS AS (COALESCE(taken_time, upload_time))
                               VIRTUAL,
    UNIQUE (repository_id, storage_path)
);
CREATE INDEX assets_browse ON assets(is_deleted, sort_time DESC, asset_id DESC);
CREATE INDEX assets_owner_browse ON assets(owner_id, is_deleted, sort_time DESC);
CREATE INDEX assets_recent ON assets(is_deleted, upload_time DESC);
CREATE INDEX assets_hash ON assets(repository_id, hash);
CREATE INDEX assets_state ON assets(state);
CREATE INDEX assets_content_identifier ON assets(content_identifier)
    WHERE content_identifier IS NOT NULL;
CREATE INDEX assets_gps ON assets(gps_latitude, gps_longitude)
    WHERE gps_latitude IS NOT NULL;

-- Every tag exiftool gave, for GET /assets/{id}/exif; kept apart from the hot table.
CREATE TABLE asset_exif (
    asset_id TEXT PRIMARY KEY REFERENCES assets(asset_id) ON DELETE CASCADE,
    exif_raw TEXT NOT NULL
);

-- Thumbnails, web versions, face crops: files under the repository's .lumilio/ folder,
-- named by content hash so that a carried repository reuses them.
CREATE TABLE derived_files (
    asset_id     TEXT NOT NULL REFERENCES assets(asset_id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    storage_path TEXT NOT NULL,
    mime_type    TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (asset_id, kind)
);

CREATE TABLE albums (
    album_id       INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    album_name     TEXT NOT NULL,
    description    TEXT,
    album_type     TEXT NOT NULL DEFAULT 'manual',
    cover_asset_id TEXT REFERENCES assets(asset_id) ON DELETE SET NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX albums_user ON albums(user_id);

CREATE TABLE album_assets (
    album_id   INTEGER NOT NULL REFERENCES albums(album_id) ON DELETE CASCADE,
    asset_id   TEXT NOT NULL REFERENCES assets(asset_id) ON DELETE CASCADE,
    position   INTEGER NOT NULL DEFAULT 0,
    added_time TEXT NOT NULL,
    PRIMARY KEY (album_id, asset_id)
);
CREATE INDEX album_assets_asset ON album_assets(asset_id);

CREATE TABLE tags (
    tag_id          INTEGER PRIMARY KEY,
    tag_name        TEXT NOT NULL UNIQUE,
    category        TEXT,
    is_ai_generated INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE asset_tags (
    asset_id   TEXT NOT NULL REFERENCES assets(asset_id) ON DELETE CASCADE,
    tag_id     INTEGER NOT NULL REFERENCES tags(tag_id) ON DELETE CASCADE,
    source     TEXT NOT NULL DEFAULT 'user',
    confidence REAL,
    PRIMARY KEY (asset_id, tag_id, source)
);
CREATE INDEX asset_tags_tag ON asset_tags(tag_id);

CREATE TABLE stacks (
    stack_id      TEXT PRIMARY KEY,
    stack_kind    TEXT NOT NULL CHECK (stack_kind IN ('raw_jpeg', 'live_photo', 'manual')),
    repository_id TEXT REFERENCES repositories(repository_id) ON DELETE CASCADE,
    owner_id      INTEGER REFERENCES users(user_id) ON DELETE SET NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE stack_members (
    stack_id TEXT NOT NULL REFERENCES stacks(stack_id) ON DELETE CASCADE,
    asset_id TEXT NOT NULL UNIQUE REFERENCES assets(asset_id) ON DELETE CASCADE,
    relation TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (stack_id, asset_id)
);

CREATE TABLE people (
    person_id     INTEGER PRIMARY KEY,
    owner_id      INTEGER REFERENCES users(user_id) ON DELETE CASCADE,
    name          TEXT,
    is_confirmed  INTEGER NOT NULL DEFAULT 0,
    cover_face_id INTEGER,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE faces (
    face_id    INTEGER PRIMARY KEY,
    asset_id   TEXT NOT NULL REFERENCES assets(asset_id) ON DELETE CASCADE,
    person_id  INTEGER REFERENCES people(person_id) ON DELETE SET NULL,
    box_x      REAL NOT NULL,
    box_y      REAL NOT NULL,
    box_w      REAL NOT NULL,
    box_h      REAL NOT NULL,
    confidence REAL,
    embedding  BLOB,
    crop_path  TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX faces_asset ON faces(asset_id);
CREATE INDEX faces_person ON faces(person_id);

CREATE TABLE scans (
    scan_id          TEXT PRIMARY KEY,
    repository_id    TEXT NOT NULL REFERENCES repositories(repository_id)
                         ON DELETE CASCADE,
    mode             TEXT NOT NULL,
    requested_by     TEXT,
    status           TEXT NOT NULL,
    started_at       TEXT NOT NULL,
    finished_at      TEXT,
    discovered_count INTEGER NOT NULL DEFAULT 0,
    updated_count    INTEGER NOT NULL DEFAULT 0,
    deleted_count    INTEGER NOT NULL DEFAULT 0,
    skipped_count    INTEGER NOT NULL DEFAULT 0,
    error            TEXT
);
CREATE INDEX scans_repository ON scans(repository_id, started_at DESC);

-- Job history beside the huey queue: what ran, when, how it ended. The queue itself
-- lives in huey's own SQLite file.
CREATE TABLE jobs (
    job_id        INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL,
    queue         TEXT NOT NULL,
    args          TEXT,
    state         TEXT NOT NULL,
    task_id       TEXT,
    attempt       INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL DEFAULT 3,
    created_at    TEXT NOT NULL,
    scheduled_at  TEXT,
    attempted_at  TEXT,
    finalized_at  TEXT,
    last_error    TEXT
);
CREATE INDEX jobs_state ON jobs(state, queue);
CREATE INDEX jobs_queue_created ON jobs(queue, created_at);

CREATE TABLE system_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
