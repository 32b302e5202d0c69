-- Named queries of Task integrations: watched tasks and EventBridge connections. Portable SQL, `?` placeholders.

-- name: watch_insert
INSERT INTO task_watches (execution, task_id, integration, target, detail, check_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (execution, task_id) DO NOTHING;

-- name: watch_get
SELECT execution, task_id, integration, target, detail, check_at, cancelled FROM task_watches
WHERE execution = ? AND task_id = ?;

-- name: watch_delete
DELETE FROM task_watches WHERE execution = ? AND task_id = ?;

-- name: watch_cancel
UPDATE task_watches SET cancelled = 1, check_at = ? WHERE execution = ? AND task_id = ?;

-- name: watch_reschedule
-- The next look's time, set as a look starts (the claim on the row is kept).
UPDATE task_watches SET check_at = ? WHERE execution = ? AND task_id = ?;

-- name: watch_rearm
-- A look found the watched thing still running: the next look's time, for any node.
UPDATE task_watches SET check_at = ?, lease_owner = NULL, lease_until = NULL WHERE execution = ? AND task_id = ?;

-- name: watches_due
SELECT execution, task_id FROM task_watches
WHERE check_at <= ? AND (lease_until IS NULL OR lease_until < ?) LIMIT 1;

-- name: watches_claim
-- Watches due for a look that no live node holds, for this node: owner, until; due by, lease expired by, how many.
UPDATE task_watches SET lease_owner = ?, lease_until = ?
WHERE (execution, task_id) IN (
    SELECT execution, task_id FROM task_watches WHERE check_at <= ? AND (lease_until IS NULL OR lease_until < ?)
    ORDER BY check_at LIMIT ? FOR UPDATE SKIP LOCKED)
RETURNING execution, task_id, integration, target, detail, check_at, cancelled;

-- name: watch_unclaim
-- A look that failed: the row is due again at its next check, for any node (execution, task; owner).
UPDATE task_watches SET lease_owner = NULL, lease_until = NULL WHERE execution = ? AND task_id = ? AND lease_owner = ?;

-- name: watches_release
UPDATE task_watches SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?;

-- name: connection_insert
INSERT INTO connections (name, arn, config, secrets, created_at) VALUES (?, ?, ?, ?, ?);

-- name: connection_get
SELECT name, arn, config, secrets, created_at FROM connections WHERE name = ?;

-- name: connection_by_arn
SELECT name, arn, config, secrets, created_at FROM connections WHERE arn = ?;

-- name: connection_update
UPDATE connections SET config = ?, secrets = ? WHERE name = ?;

-- name: connection_delete
DELETE FROM connections WHERE name = ?;

-- name: connections_all
SELECT name, arn, config, created_at FROM connections ORDER BY name;
