-- Recognition: faces and people, text read in photos, labels and species, semantic
-- embeddings. Boxes are relative to the image: x, y, width, height in [0, 1].

-- A face: the five landmarks (JSON, relative like the box) and the models that
-- found and embedded it. `embedding` holds float32 bytes, L2-normalised.
ALTER TABLE faces ADD COLUMN landmarks TEXT;
ALTER TABLE faces ADD COLUMN model_id TEXT;

-- People are clusters of faces, within one repository, owner and face model.
ALTER TABLE people ADD COLUMN repository_id TEXT;
ALTER TABLE people ADD COLUMN model_id TEXT;
CREATE INDEX people_scope ON people(repository_id, owner_id, model_id);

-- One row per analysed photo and task, even when nothing was found, so that "no
-- face" and "not analysed yet" differ.
CREATE TABLE face_runs (
    asset_id           TEXT PRIMARY KEY REFERENCES assets(asset_id) ON DELETE CASCADE,
    model_id           TEXT NOT NULL,
    total_faces        INTEGER NOT NULL,
    processing_time_ms INTEGER NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);

CREATE TABLE ocr_runs (
    asset_id           TEXT PRIMARY KEY REFERENCES assets(asset_id) ON DELETE CASCADE,
    model_id           TEXT NOT NULL,
    full_text          TEXT NOT NULL,
    processing_time_ms INTEGER NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);

CREATE TABLE ocr_items (
    item_id     INTEGER PRIMARY KEY,
    asset_id    TEXT NOT NULL REFERENCES assets(asset_id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    text        TEXT NOT NULL,
    confidence  REAL NOT NULL,
    box         TEXT NOT NULL,
    quad        TEXT NOT NULL,
    area_pixels REAL NOT NULL
);
CREATE INDEX ocr_items_asset ON ocr_items(asset_id, position);

-- Full-text index of each photo's OCR text, for the search's OCR source.
CREATE VIRTUAL TABLE ocr_fts USING fts5(asset_id UNINDEXED, body,
                                        tokenize = 'unicode61 remove_diacritics 2');

-- What the tagger saw: the labels with their scores, names and groups (JSON); the
-- same labels are also linked as tags with source 'ml'.
CREATE TABLE label_runs (
    asset_id   TEXT PRIMARY KEY REFERENCES assets(asset_id) ON DELETE CASCADE,
    model_id   TEXT NOT NULL,
    labels     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE species_predictions (
    asset_id        TEXT NOT NULL REFERENCES assets(asset_id) ON DELETE CASCADE,
    label           TEXT NOT NULL,
    scientific_name TEXT,
    score           REAL NOT NULL,
    model_id        TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (asset_id, label)
);

-- Photos examined for species, with or without an animal found.
CREATE TABLE species_runs (
    asset_id   TEXT PRIMARY KEY REFERENCES assets(asset_id) ON DELETE CASCADE,
    model_id   TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- One vector space per image-text model; its vectors live in the sqlite-vec table
-- `vec_space_<space_id>` (created when the space is first used, since its
-- dimension depends on the model), keyed by the rowid kept here.
CREATE TABLE semantic_spaces (
    space_id   INTEGER PRIMARY KEY,
    model_id   TEXT NOT NULL UNIQUE,
    dim        INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE semantic_vectors (
    vector_id  INTEGER PRIMARY KEY,
    space_id   INTEGER NOT NULL REFERENCES semantic_spaces(space_id) ON DELETE CASCADE,
    asset_id   TEXT NOT NULL REFERENCES assets(asset_id) ON DELETE CASCADE,
    updated_at TEXT NOT NULL,
    UNIQUE (space_id, asset_id)
);
CREATE INDEX semantic_vectors_asset ON semantic_vectors(asset_id);

-- Answers of the species reference service, kept so that a look-up works offline
-- once it has been made.
CREATE TABLE species_reference_cache (
    cache_key  TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    fetched_at TEXT NOT NULL
);
