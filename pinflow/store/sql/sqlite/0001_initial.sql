-- pinflow schema, version 1 (SQLite).
CREATE TABLE blobs (
    sha256      TEXT PRIMARY KEY,          -- hex digest of data
    data        BLOB NOT NULL,
    created_at  REAL NOT NULL
);

CREATE TABLE functions (
    name         TEXT PRIMARY KEY,
    created_at   REAL NOT NULL,
    next_version INTEGER NOT NULL,        -- never reused, even after DeleteFunction (kept in counters)
    latest       TEXT NOT NULL,           -- JSON: $LATEST configuration incl. code sha256
    revision_id  TEXT NOT NULL,
    tags         TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE function_versions (
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    config      TEXT NOT NULL,            -- JSON: immutable configuration incl. code sha256
    created_at  REAL NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE function_aliases (
    name        TEXT NOT NULL,
    alias       TEXT NOT NULL,
    config      TEXT NOT NULL,            -- JSON: FunctionVersion, RoutingConfig, Description, RevisionId
    PRIMARY KEY (name, alias)
);

CREATE TABLE counters (
    key         TEXT PRIMARY KEY,         -- e.g. 'function:hello' -> last version number handed out
    value       INTEGER NOT NULL
);

CREATE TABLE roles (
    name        TEXT PRIMARY KEY,
    config      TEXT NOT NULL,            -- JSON: Arn, RoleId, AssumeRolePolicyDocument, Path, CreateDate, ...
    created_at  REAL NOT NULL
);

CREATE TABLE role_policies (
    role        TEXT NOT NULL,
    name        TEXT NOT NULL,
    document    TEXT NOT NULL,
    PRIMARY KEY (role, name)
);

CREATE TABLE state_machines (
    name         TEXT PRIMARY KEY,
    arn          TEXT NOT NULL UNIQUE,
    type         TEXT NOT NULL,
    status       TEXT NOT NULL,
    revision_id  TEXT NOT NULL,           -- the current revision
    created_at   REAL NOT NULL,
    config       TEXT NOT NULL,           -- JSON: logging, tracing, encryption, description
    tags         TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE revisions (
    revision_id  TEXT PRIMARY KEY,
    machine      TEXT NOT NULL,
    definition   TEXT NOT NULL,
    role_arn     TEXT NOT NULL,
    config       TEXT NOT NULL,           -- JSON: logging, tracing, encryption
    created_at   REAL NOT NULL
);

CREATE TABLE machine_versions (
    machine      TEXT NOT NULL,
    version      INTEGER NOT NULL,
    revision_id  TEXT NOT NULL,
    description  TEXT,
    created_at   REAL NOT NULL,
    PRIMARY KEY (machine, version)
);

CREATE TABLE machine_aliases (
    machine      TEXT NOT NULL,
    alias        TEXT NOT NULL,
    config       TEXT NOT NULL,           -- JSON: routingConfiguration, description, creationDate, updateDate
    PRIMARY KEY (machine, alias)
);

CREATE TABLE activities (
    arn          TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    created_at   REAL NOT NULL,
    tags         TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE executions (
    arn           TEXT PRIMARY KEY,
    seq           INTEGER NOT NULL,       -- start order, for newest-first listing
    machine       TEXT NOT NULL,
    name          TEXT NOT NULL,
    type          TEXT NOT NULL,
    status        TEXT NOT NULL,
    revision_id   TEXT NOT NULL,
    version_arn   TEXT,
    alias_arn     TEXT,
    role_arn      TEXT NOT NULL,
    input         TEXT NOT NULL,
    output        TEXT,
    error         TEXT,
    cause         TEXT,
    started_at    REAL NOT NULL,
    stopped_at    REAL,
    redrive_count INTEGER NOT NULL DEFAULT 0,
    redrive_date  REAL,
    state         TEXT NOT NULL,          -- JSON: the interpreter's execution state
    pins          TEXT NOT NULL,          -- JSON: function references resolved at start, policy snapshot
    trace_header  TEXT
);
CREATE INDEX executions_by_machine ON executions (machine, seq);
CREATE UNIQUE INDEX executions_by_name ON executions (machine, name);
CREATE INDEX executions_by_status ON executions (status);

-- What running executions hold on to: function versions, state machine versions. Rows go when the
-- execution ends; a version with rows here cannot be deleted.
CREATE TABLE execution_refs (
    execution   TEXT NOT NULL,
    ref         TEXT NOT NULL,
    PRIMARY KEY (execution, ref)
);
CREATE INDEX execution_refs_by_ref ON execution_refs (ref);

CREATE TABLE history (
    execution   TEXT NOT NULL,
    id          INTEGER NOT NULL,
    event       TEXT NOT NULL,            -- JSON: one history event
    PRIMARY KEY (execution, id)
);

CREATE TABLE timers (
    execution   TEXT NOT NULL,
    timer_id    TEXT NOT NULL,
    due_at      REAL NOT NULL,
    PRIMARY KEY (execution, timer_id)
);
CREATE INDEX timers_by_due ON timers (due_at);

-- Transactional outbox: task invocations written with the step that asked for them, removed with
-- the step that takes their result. Rows left after a crash are dispatched again.
CREATE TABLE outbox (
    execution   TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    command     TEXT NOT NULL,            -- JSON: the InvokeTask command and its resolved target
    token       TEXT,                     -- task token for callbacks and activities
    activity    TEXT,                     -- activity ARN for activity tasks
    claimed_at  REAL,                     -- activity tasks: when a worker took it
    created_at  REAL NOT NULL,
    PRIMARY KEY (execution, task_id)
);
CREATE UNIQUE INDEX outbox_by_token ON outbox (token);
CREATE INDEX outbox_by_activity ON outbox (activity, claimed_at);
