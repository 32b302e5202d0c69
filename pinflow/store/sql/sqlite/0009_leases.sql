-- pinflow schema, version 9 (SQLite): leases, so that several servers on one database share
-- the work and take over a dead one's. (Versions 6 to 8 belong to other changes.)

-- A unit of work is held by one node (a server process) until `lease_until`; the node renews what it
-- is still doing, and any node takes over what has expired. `lease_token` grows with every claim: the
-- transaction that applies a task's result deletes the outbox row only if the token is the one its
-- invocation was claimed with, so a node that lost its lease cannot apply a result over the new owner.
-- An outbox row's `lease_until` is NULL when no node has work to do for it (an activity task, a
-- callback waiting for its token, a watched call) and 0 when any node may take it at once.
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_until REAL;
ALTER TABLE outbox ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET lease_until = 0 WHERE activity IS NULL AND claimed_at IS NULL;
CREATE INDEX outbox_by_lease ON outbox (lease_until);
CREATE INDEX outbox_by_lease_owner ON outbox (lease_owner);

-- A due timer and a watch whose check is due are claimed for a short while by the node that fires or
-- checks them; what is not consumed by then is taken by any node.
ALTER TABLE timers ADD COLUMN lease_owner TEXT;
ALTER TABLE timers ADD COLUMN lease_until REAL;
ALTER TABLE task_watches ADD COLUMN lease_owner TEXT;
ALTER TABLE task_watches ADD COLUMN lease_until REAL;

-- The nodes working on this database: each says it is alive every few seconds (`seen_at`); a graceful
-- stop removes its row.
CREATE TABLE nodes (
    id             TEXT PRIMARY KEY,
    started_at     REAL NOT NULL,
    seen_at        REAL NOT NULL,
    lease_seconds  REAL NOT NULL
);
