-- Browser sessions (the cookie holds only the random id; the row holds the CSRF token) and
-- invitation links (only a SHA-256 of the secret in the link is stored).

CREATE TABLE sessions (
    id_hash    BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL  -- Unix seconds
);
CREATE INDEX sessions_by_user ON sessions(user_id);

ALTER TABLE invitations ADD COLUMN token_hash BLOB;
CREATE UNIQUE INDEX invitations_by_token ON invitations(token_hash);
