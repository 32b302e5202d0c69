-- pinflow schema, version 4 (PostgreSQL): what Task integrations keep between a call and its outcome.
-- (Version 3 belongs to another change; migrations apply in number order.)

-- A task whose outcome comes from watching something run (a `.sync` child execution): written when
-- the call has started it, removed with the step that takes its outcome. The engine checks each row
-- when `check_at` is due (and every row at start-up), so a parent learns of an end it missed while
-- the server was down. `cancelled`: the task was stopped and what it watches must be stopped too.
CREATE TABLE task_watches (
    execution    TEXT NOT NULL,
    task_id      TEXT NOT NULL,
    integration  TEXT NOT NULL,           -- the integration's name in the engine's table
    target       TEXT NOT NULL,           -- what is watched (the child execution's ARN)
    detail       TEXT NOT NULL,           -- JSON: what the integration needs to read the outcome
    check_at     DOUBLE PRECISION NOT NULL,
    cancelled    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (execution, task_id)
);
CREATE INDEX task_watches_due ON task_watches (check_at);

-- EventBridge connections (HTTP Tasks authenticate through them). `config` is what DescribeConnection
-- shows; `secrets` holds the values it never shows (passwords, API key values, client secrets).
CREATE TABLE connections (
    name         TEXT PRIMARY KEY,
    arn          TEXT NOT NULL UNIQUE,
    config       TEXT NOT NULL,
    secrets      TEXT NOT NULL,
    created_at   DOUBLE PRECISION NOT NULL
);
