-- Cloud import: accounts at cloud services, the repositories they feed, the import
-- runs and what each run did with each remote item.

-- A signed-in account at a cloud service. `public_config` holds the inputs that may
-- be shown (a server address, a bucket); `sealed_secrets` the others (passwords,
-- secret keys), encrypted with a key derived from the data folder's root key, so
-- that a copy of the catalog alone gives none of them away.
CREATE TABLE cloud_credentials (
    credential_id   TEXT PRIMARY KEY,
    provider        TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    masked_identity TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('connected', 'challenge_required',
                                                    'password_required',
                                                    'disconnected')),
    public_config   TEXT NOT NULL DEFAULT '{}',
    sealed_secrets  TEXT NOT NULL,
    last_error      TEXT,
    created_by      INTEGER REFERENCES users(user_id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- Which account a repository imports from. Removing either side removes the binding;
-- the repository's files stay.
CREATE TABLE cloud_bindings (
    repository_id TEXT PRIMARY KEY REFERENCES repositories(repository_id)
                      ON DELETE CASCADE,
    credential_id TEXT NOT NULL REFERENCES cloud_credentials(credential_id)
                      ON DELETE CASCADE,
    created_at    TEXT NOT NULL
);
CREATE INDEX cloud_bindings_credential ON cloud_bindings(credential_id);

-- One import of an account into a repository. The counters are updated in the same
-- transaction as the item they count, so a run resumed after a crash neither loses
-- nor counts twice what it had done. A run outlives its account, with its counts and
-- its error; `credential_id` then becomes NULL.
CREATE TABLE cloud_import_runs (
    run_id           TEXT PRIMARY KEY,
    repository_id    TEXT NOT NULL REFERENCES repositories(repository_id)
                         ON DELETE CASCADE,
    credential_id    TEXT REFERENCES cloud_credentials(credential_id)
                         ON DELETE SET NULL,
    provider         TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed',
                                                     'failed', 'cancelled')),
    requested_by     TEXT,
    job_id           INTEGER,
    total_seen       INTEGER NOT NULL DEFAULT 0,
    downloaded_count INTEGER NOT NULL DEFAULT 0,
    imported_count   INTEGER NOT NULL DEFAULT 0,
    skipped_count    INTEGER NOT NULL DEFAULT 0,
    failed_count     INTEGER NOT NULL DEFAULT 0,
    error            TEXT,
    started_at       TEXT,
    finished_at      TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX cloud_import_runs_repository
    ON cloud_import_runs(repository_id, created_at DESC);

-- What happened to each remote item, per repository and account. `version` is what
-- tells one content of an item from a later one (an ETag, or size and time), so a
-- later run skips an unchanged item without downloading it again. `committing`
-- marks an item whose file was being handed to the pipeline when the process
-- stopped: its `content_hash` says whether the asset made it, and `staging_file`
-- names the staged file to remove if it did not. Removing the account removes
-- these records (another account's import starts afresh, recognising files already
-- there by their content); the imported files stay.
CREATE TABLE cloud_import_items (
    repository_id TEXT NOT NULL REFERENCES repositories(repository_id)
                      ON DELETE CASCADE,
    credential_id TEXT NOT NULL REFERENCES cloud_credentials(credential_id)
                      ON DELETE CASCADE,
    remote_id     TEXT NOT NULL,
    name          TEXT NOT NULL,
    version       TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('committing', 'imported',
                                                 'duplicate', 'unsupported',
                                                 'failed')),
    run_id        TEXT,
    asset_id      TEXT,
    content_hash  TEXT,
    size          INTEGER,
    error         TEXT,
    staging_file  TEXT,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (repository_id, credential_id, remote_id)
);
CREATE INDEX cloud_import_items_run ON cloud_import_items(run_id, state);
