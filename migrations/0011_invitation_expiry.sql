-- Invitation links expire a week after they were sent (or sent again with a new link): a link forwarded or
-- found in an old mailbox does not join a website forever. Invitations already sent get a week from their sending.
ALTER TABLE invitations ADD COLUMN expires_at TEXT;
UPDATE invitations SET expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+7 days');
