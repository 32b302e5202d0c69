-- pinflow schema, version 15 (PostgreSQL): Map Runs, a Distributed Map's child executions.

-- One row per Map Run, with its counters (never a list of outcomes): a child's end updates them in
-- the transaction that records that end, so a crash never counts a child twice or loses it.
CREATE TABLE map_runs (
    arn                  TEXT PRIMARY KEY,
    execution            TEXT NOT NULL,    -- the parent execution
    run_id               TEXT NOT NULL,    -- the parent's id for it (StartMapRun.run_id)
    seq                  BIGINT NOT NULL, -- start order, for newest-first listing
    machine              TEXT NOT NULL,    -- the children's machine name: <machine>/<label>
    block                TEXT NOT NULL,    -- the processor block of the parent's definition
    execution_type       TEXT NOT NULL,
    writes_results       INTEGER NOT NULL, -- 1: a ResultWriter takes the results (the parent is sent none)
    status               TEXT NOT NULL,    -- RUNNING, SUCCEEDED, FAILED, ABORTED
    max_concurrency      BIGINT NOT NULL,
    tolerated_count      BIGINT,
    tolerated_percentage DOUBLE PRECISION,
    total                INTEGER NOT NULL,
    started              INTEGER NOT NULL DEFAULT 0,
    succeeded            INTEGER NOT NULL DEFAULT 0,
    failed               INTEGER NOT NULL DEFAULT 0,
    timed_out            INTEGER NOT NULL DEFAULT 0,
    aborted              INTEGER NOT NULL DEFAULT 0,
    -- The same counts in items (an ItemBatcher's child runs a batch of several).
    item_total           INTEGER NOT NULL,
    item_started         INTEGER NOT NULL DEFAULT 0,
    item_succeeded       INTEGER NOT NULL DEFAULT 0,
    item_failed          INTEGER NOT NULL DEFAULT 0,
    item_timed_out       INTEGER NOT NULL DEFAULT 0,
    item_aborted         INTEGER NOT NULL DEFAULT 0,
    -- Unsuccessful children of a redriven run waiting to be redriven (counted as pending, not started).
    pending_redrive      INTEGER NOT NULL DEFAULT 0,
    item_pending_redrive INTEGER NOT NULL DEFAULT 0,
    error                TEXT,
    cause                TEXT,
    redrive_count        INTEGER NOT NULL DEFAULT 0,
    redrive_date         DOUBLE PRECISION,
    started_at           DOUBLE PRECISION NOT NULL,
    stopped_at           DOUBLE PRECISION
);
CREATE INDEX map_runs_by_execution ON map_runs (execution, seq);
CREATE UNIQUE INDEX map_runs_by_run_id ON map_runs (execution, run_id);

-- A Map Run's items, written once when it starts; `execution` is the child's ARN once it started.
CREATE TABLE map_run_items (
    map_run    TEXT NOT NULL,
    idx        INTEGER NOT NULL,
    input      TEXT NOT NULL,
    weight     INTEGER NOT NULL,           -- how many items: 1, or the size of a batch
    execution  TEXT,
    -- How the child ended: an Express child's (run in memory, no execution row) status, or the status
    -- a Standard child was counted with (so a child is never counted twice), or REDRIVE: a Standard
    -- child waiting to be redriven.
    status     TEXT,
    output     TEXT,
    error      TEXT,
    cause      TEXT,
    started_at DOUBLE PRECISION,
    stopped_at DOUBLE PRECISION,
    PRIMARY KEY (map_run, idx)
);

-- A child execution names its Map Run (ListExecutions with mapRunArn).
ALTER TABLE executions ADD COLUMN map_run TEXT;
CREATE INDEX executions_by_map_run ON executions (map_run, seq);
