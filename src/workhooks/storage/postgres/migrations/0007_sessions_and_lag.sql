-- The delivery lag per minute, sampled by the workers, for the console's overview plot.
CREATE TABLE lag_samples (
    minute TIMESTAMPTZ PRIMARY KEY,
    lag_seconds DOUBLE PRECISION NOT NULL,
    behind INTEGER NOT NULL
);

-- Console and portal sessions, kept so that signing out, a new password or a disabled
-- operator ends them on the server (the cookie alone no longer suffices).
CREATE TABLE console_sessions (
    id TEXT PRIMARY KEY,
    actor TEXT NOT NULL,
    tenant TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ
);
CREATE INDEX console_sessions_actor ON console_sessions (actor, expires_at);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
ALTER TABLE operators ADD COLUMN disabled_at TIMESTAMPTZ;
