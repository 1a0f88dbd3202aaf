-- revlink schema, version 1. Times are ISO 8601 UTC strings with milliseconds.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT,
    password_hash TEXT,
    created_at    TEXT NOT NULL
);

CREATE TABLE websites (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL REFERENCES users(id),
    domain      TEXT NOT NULL,
    name        TEXT,
    tracking_id TEXT NOT NULL UNIQUE,
    timezone    TEXT NOT NULL,
    currency    TEXT NOT NULL DEFAULT 'USD',
    created_at  TEXT NOT NULL,
    UNIQUE (owner_id, domain)
);

CREATE TABLE memberships (
    website_id TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'member', 'viewer')),
    joined_at  TEXT NOT NULL,
    PRIMARY KEY (website_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships(user_id);

CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    website_id  TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    email       TEXT NOT NULL COLLATE NOCASE,
    role        TEXT NOT NULL CHECK (role IN ('member', 'viewer')),
    invited_by  TEXT NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL,
    UNIQUE (website_id, email)
);

CREATE TABLE access_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT,
    token_hash   BLOB NOT NULL UNIQUE,
    display_key  TEXT NOT NULL,
    permissions  TEXT NOT NULL,  -- JSON array of permission strings
    website_ids  TEXT NOT NULL,  -- JSON array of website ids; [] = all the user's websites
    last_used_at TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX access_tokens_by_user ON access_tokens(user_id);

CREATE TABLE website_keys (
    id           TEXT PRIMARY KEY,
    website_id   TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    name         TEXT,
    key_hash     BLOB NOT NULL UNIQUE,
    display_key  TEXT NOT NULL,
    last_used_at TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX website_keys_by_website ON website_keys(website_id);

CREATE TABLE stripe_connections (
    website_id   TEXT PRIMARY KEY REFERENCES websites(id) ON DELETE CASCADE,
    ciphertext   BLOB NOT NULL,
    nonce        BLOB NOT NULL,
    key_version  INTEGER NOT NULL,
    livemode     INTEGER NOT NULL,
    display_key  TEXT NOT NULL,
    currency     TEXT NOT NULL,
    connected_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    connected_at TEXT NOT NULL
);

-- Who did what, never with a secret in it.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    actor_kind TEXT NOT NULL,   -- token | website_key | cli
    actor_id   TEXT,            -- token, key or user id
    user_id    TEXT,
    website_id TEXT,
    action     TEXT NOT NULL,
    detail     TEXT
);
CREATE INDEX audit_log_by_website ON audit_log(website_id, id);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO settings (key, value) VALUES ('master_key_version', '1');
