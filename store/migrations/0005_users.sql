-- Local users, their API tokens and the web sessions. {{.Time}} and
-- {{.Blob}} are filled in with each dialect's column types. Only hashes of
-- passwords and tokens are stored.

-- One person who signs in. name is what the snapshots' owner column holds;
-- manager names the manager of a csm ('' for none). An empty password_hash
-- is a single-sign-on-only user, who cannot sign in with a password.
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    manager       TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    {{.Time}} NOT NULL,
    updated_at    {{.Time}} NOT NULL
);

-- A manager's team (store.TeamOf).
CREATE INDEX users_manager ON users (manager, name);

-- Personal API tokens, by the hex SHA-256 of the token.
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL REFERENCES users (name),
    created_at {{.Time}} NOT NULL
);

CREATE INDEX api_tokens_user ON api_tokens (user_name);

-- Web sessions (github.com/alexedwards/scs): the session data by its token.
CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   {{.Blob}} NOT NULL,
    expiry {{.Time}} NOT NULL
);

CREATE INDEX sessions_expiry ON sessions (expiry);
