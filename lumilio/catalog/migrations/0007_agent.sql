-- The library assistant: conversations, the result sets its tools made (refs), the
-- board widgets pinned from them, and changes waiting for the user's confirmation.
-- Everything belongs to one user; another user's pins and actions answer as if they
-- did not exist.
--
-- A conversation's id is chosen by the client (the app makes one per conversation),
-- so it names a conversation among its user's own: the same id in two users' hands
-- is two conversations, and starting one never tells whether the id is taken by
-- someone else. The tables below key a conversation by (user_id, thread_id).

CREATE TABLE agent_threads (
    user_id    INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    thread_id  TEXT NOT NULL,
    title      TEXT NOT NULL DEFAULT '',
    next_ref   INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, thread_id)
);
CREATE INDEX agent_threads_user ON agent_threads(user_id, updated_at DESC);

-- The conversation as the model reads it: one chat message per row (JSON in the
-- chat-completions shape: role, content, tool calls), in order.
CREATE TABLE agent_messages (
    message_id INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    thread_id  TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    FOREIGN KEY (user_id, thread_id) REFERENCES agent_threads(user_id, thread_id)
        ON DELETE CASCADE
);
CREATE INDEX agent_messages_thread ON agent_messages(user_id, thread_id, message_id);

-- A ref is a snapshot: the ordered asset ids a tool found, at most a fixed number
-- (`truncated` when there were more). `plan` says how to find them again (the tool,
-- its arguments and the plans of the refs it read); it is null for a set that
-- cannot be found again, such as the user's own selection.
CREATE TABLE agent_refs (
    user_id    INTEGER NOT NULL,
    thread_id  TEXT NOT NULL,
    ref_id     TEXT NOT NULL,
    op         TEXT NOT NULL,
    plan       TEXT,
    asset_ids  TEXT NOT NULL,
    total      INTEGER NOT NULL,
    truncated  INTEGER NOT NULL DEFAULT 0,
    facets     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, thread_id, ref_id),
    FOREIGN KEY (user_id, thread_id) REFERENCES agent_threads(user_id, thread_id)
        ON DELETE CASCADE
);

-- A pin keeps its own copy of the ref's snapshot and plan, so that the board
-- outlives the conversation it came from. A live pin runs the plan again when shown.
CREATE TABLE agent_pins (
    pin_id     TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    thread_id  TEXT NOT NULL,
    ref_id     TEXT NOT NULL,
    title      TEXT NOT NULL,
    widget     TEXT NOT NULL,
    mode       TEXT NOT NULL CHECK (mode IN ('frozen', 'live')),
    plan       TEXT,
    asset_ids  TEXT NOT NULL,
    total      INTEGER NOT NULL,
    truncated  INTEGER NOT NULL DEFAULT 0,
    summary    TEXT,
    x          INTEGER NOT NULL DEFAULT 0,
    y          INTEGER NOT NULL DEFAULT 0,
    w          INTEGER NOT NULL DEFAULT 4,
    h          INTEGER NOT NULL DEFAULT 4,
    created_at TEXT NOT NULL
);
CREATE INDEX agent_pins_user ON agent_pins(user_id, created_at);

-- A change the model asked for (create an album, add to one, like photos). Nothing
-- happens until the user confirms it; then it is carried out, and its status set,
-- in one catalog transaction.
CREATE TABLE agent_actions (
    action_id    TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL,
    thread_id    TEXT NOT NULL,
    tool_call_id TEXT NOT NULL,
    tool         TEXT NOT NULL,
    args         TEXT NOT NULL,
    summary      TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'done', 'failed', 'declined',
                                       'dismissed')),
    outcome      TEXT,
    created_at   TEXT NOT NULL,
    decided_at   TEXT,
    FOREIGN KEY (user_id, thread_id) REFERENCES agent_threads(user_id, thread_id)
        ON DELETE CASCADE
);
CREATE INDEX agent_actions_thread ON agent_actions(user_id, thread_id, status);
