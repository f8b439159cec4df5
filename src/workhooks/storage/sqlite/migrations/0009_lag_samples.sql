-- The delivery lag per minute, sampled by the workers, for the console's overview plot.
CREATE TABLE lag_samples (
    minute TEXT PRIMARY KEY,
    lag_seconds REAL NOT NULL,
    behind INTEGER NOT NULL
) WITHOUT ROWID;
