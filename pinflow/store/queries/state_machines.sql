-- Named queries of the state_machines repository: state machines, their revisions, versions and aliases; activities; connections.

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
-- name: reg_sm_get
SELECT name, arn, type, status, revision_id, created_at, config, tags FROM state_machines WHERE name = ?;

-- name: reg_sm_lock
-- Takes the machine's row lock on PostgreSQL; 0 rows = no such machine.
UPDATE state_machines SET status = status WHERE name = ?;

-- name: reg_sm_insert
INSERT INTO state_machines (name, arn, type, status, revision_id, created_at, config, tags)
VALUES (?, ?, ?, ?, ?, ?, ?, ?);

-- name: reg_sm_set_revision
UPDATE state_machines SET revision_id = ? WHERE name = ?;

-- name: reg_sm_set_status
UPDATE state_machines SET status = ? WHERE name = ?;

-- name: reg_sm_set_tags
UPDATE state_machines SET tags = ? WHERE name = ?;

-- name: reg_sm_delete
DELETE FROM state_machines WHERE name = ?;

-- name: reg_sm_page
SELECT name, arn, type, created_at FROM state_machines ORDER BY name LIMIT ? OFFSET ?;

-- name: reg_rev_get
SELECT revision_id, machine, definition, role_arn, config, created_at FROM revisions WHERE revision_id = ?;

-- name: reg_rev_insert
INSERT INTO revisions (revision_id, machine, definition, role_arn, config, created_at) VALUES (?, ?, ?, ?, ?, ?);

-- name: reg_smv_get
SELECT version, revision_id, description, created_at FROM machine_versions WHERE machine = ? AND version = ?;

-- name: reg_smv_for_revision
SELECT version, revision_id, description, created_at FROM machine_versions
WHERE machine = ? AND revision_id = ? ORDER BY version DESC;

-- name: reg_smv_page
SELECT version, created_at FROM machine_versions WHERE machine = ? ORDER BY version DESC LIMIT ? OFFSET ?;

-- name: reg_smv_summary
SELECT machine, COUNT(*) AS versions, MAX(version) AS latest FROM machine_versions GROUP BY machine;

-- name: reg_smv_with_revision
SELECT v.version, v.description, v.created_at, v.revision_id, r.config
FROM machine_versions v JOIN revisions r ON r.revision_id = v.revision_id
WHERE v.machine = ? ORDER BY v.version DESC;

-- name: reg_smv_insert
INSERT INTO machine_versions (machine, version, revision_id, description, created_at) VALUES (?, ?, ?, ?, ?);

-- name: reg_smv_delete
DELETE FROM machine_versions WHERE machine = ? AND version = ?;

-- name: reg_smv_delete_all
DELETE FROM machine_versions WHERE machine = ?;

-- name: reg_sma_get
SELECT alias, config FROM machine_aliases WHERE machine = ? AND alias = ?;

-- name: reg_sma_all
SELECT alias, config FROM machine_aliases WHERE machine = ? ORDER BY alias;

-- name: reg_sma_every
SELECT machine, alias, config FROM machine_aliases ORDER BY machine, alias;

-- name: reg_sma_insert
INSERT INTO machine_aliases (machine, alias, config) VALUES (?, ?, ?);

-- name: reg_sma_update
UPDATE machine_aliases SET config = ? WHERE machine = ? AND alias = ?;

-- name: reg_sma_delete
DELETE FROM machine_aliases WHERE machine = ? AND alias = ?;

-- name: reg_sma_delete_all
DELETE FROM machine_aliases WHERE machine = ?;

-- name: reg_act_get
SELECT arn, name, created_at, tags FROM activities WHERE arn = ?;

-- name: reg_act_by_name
SELECT arn, name, created_at, tags FROM activities WHERE name = ?;

-- name: reg_act_insert
INSERT INTO activities (arn, name, created_at, tags) VALUES (?, ?, ?, ?);

-- name: reg_act_set_tags
UPDATE activities SET tags = ? WHERE arn = ?;

-- name: reg_act_delete
DELETE FROM activities WHERE arn = ?;

-- name: reg_act_page
SELECT arn, name, created_at FROM activities ORDER BY name LIMIT ? OFFSET ?;
