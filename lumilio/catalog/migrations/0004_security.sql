-- Passkeys get integer ids (the API document's passkey_id is an integer), and the
-- WebAuthn challenges of enrolment and sign-in are kept here, single-use, until they
-- expire. Nothing wrote passkeys before this version, so the table is rebuilt empty.

DROP TABLE passkeys;

CREATE TABLE passkeys (
    passkey_id    INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    credential_id BLOB NOT NULL UNIQUE,
    public_key    BLOB NOT NULL,
    sign_count    INTEGER NOT NULL DEFAULT 0,
    transports    TEXT,
    name          TEXT,
    aaguid        TEXT,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT
);
CREATE INDEX passkeys_user ON passkeys(user_id);

CREATE INDEX recovery_codes_user ON recovery_codes(user_id);

-- token_hash: SHA-256 of the opaque challenge token handed to the client; user_id is
-- null for a sign-in started without a username.
CREATE TABLE auth_challenges (
    token_hash TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL CHECK (purpose IN ('passkey_enrol', 'passkey_login')),
    user_id    INTEGER REFERENCES users(user_id) ON DELETE CASCADE,
    challenge  BLOB NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX auth_challenges_expiry ON auth_challenges(expires_at);
