-- The delivery lag per minute, sampled by the workers, for the console's overview plot.
CREATE TABLE lag_samples (
    minute TIMESTAMPTZ PRIMARY KEY,
    lag_seconds DOUBLE PRECISION NOT NULL,
    behind INTEGER NOT NULL
);
