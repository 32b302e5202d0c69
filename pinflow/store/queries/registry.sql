-- Named queries of pinflow.registry: functions, state machines, roles, activities.
-- Portable SQL with ? placeholders; every name starts with reg_.

-- name: reg_blob_put
INSERT INTO blobs (sha256, data, created_at) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING;

-- name: reg_blob_get
SELECT data FROM blobs WHERE sha256 = ?;

-- name: reg_counter_ensure
INSERT INTO counters (key, value) VALUES (?, 0) ON CONFLICT (key) DO NOTHING;

-- name: reg_counter_bump
UPDATE counters SET value = value + 1 WHERE key = ?;

-- name: reg_counter_get
SELECT value FROM counters WHERE key = ?;

-- name: reg_refs_exact
SELECT execution, ref FROM execution_refs WHERE ref = ? ORDER BY execution;

-- name: reg_refs_like
SELECT execution, ref FROM execution_refs WHERE ref LIKE ? ESCAPE '!' ORDER BY execution;

-- name: reg_refs_of_service
SELECT execution, ref FROM execution_refs WHERE ref LIKE ? ORDER BY execution;

-- name: reg_fn_get
SELECT name, created_at, next_version, latest, revision_id, tags, reserved_concurrency FROM functions WHERE name = ?;

-- name: reg_fn_lock
-- Takes the function's row lock on PostgreSQL (SQLite already has its single writer); 0 rows = none.
UPDATE functions SET revision_id = revision_id WHERE name = ?;

-- name: reg_fn_insert
INSERT INTO functions (name, created_at, next_version, latest, revision_id, tags) VALUES (?, ?, ?, ?, ?, ?);

-- name: reg_fn_set_latest
UPDATE functions SET latest = ?, revision_id = ? WHERE name = ?;

-- name: reg_fn_set_next_version
UPDATE functions SET next_version = ? WHERE name = ?;

-- name: reg_fn_set_tags
UPDATE functions SET tags = ? WHERE name = ?;

-- name: reg_fn_page
SELECT name, latest, revision_id FROM functions WHERE name > ? ORDER BY name LIMIT ?;

-- name: reg_fn_delete
DELETE FROM functions WHERE name = ?;

-- name: reg_fnv_get
SELECT version, config, created_at FROM function_versions WHERE name = ? AND version = ?;

-- name: reg_fnv_all
SELECT version, config, created_at FROM function_versions WHERE name = ? ORDER BY version;

-- name: reg_fnv_insert
INSERT INTO function_versions (name, version, config, created_at) VALUES (?, ?, ?, ?);

-- name: reg_fnv_delete
DELETE FROM function_versions WHERE name = ? AND version = ?;

-- name: reg_fnv_delete_all
DELETE FROM function_versions WHERE name = ?;

-- name: reg_fna_get
SELECT alias, config FROM function_aliases WHERE name = ? AND alias = ?;

-- name: reg_fna_all
SELECT alias, config FROM function_aliases WHERE name = ? ORDER BY alias;

-- name: reg_fna_insert
INSERT INTO function_aliases (name, alias, config) VALUES (?, ?, ?);

-- name: reg_fna_update
UPDATE function_aliases SET config = ? WHERE name = ? AND alias = ?;

-- name: reg_fna_delete
DELETE FROM function_aliases WHERE name = ? AND alias = ?;

-- name: reg_fna_delete_all
DELETE FROM function_aliases WHERE name = ?;

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

-- name: reg_sm_running_executions
SELECT COUNT(*) FROM executions WHERE machine = ? AND status = 'RUNNING';

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

-- name: reg_role_get
SELECT name, config, created_at FROM roles WHERE name = ?;

-- name: reg_role_insert
INSERT INTO roles (name, config, created_at) VALUES (?, ?, ?);

-- name: reg_role_delete
DELETE FROM roles WHERE name = ?;

-- name: reg_role_page
SELECT name, config, created_at FROM roles WHERE name > ? ORDER BY name LIMIT ?;

-- name: reg_rp_get
SELECT name, document FROM role_policies WHERE role = ? AND name = ?;

-- name: reg_rp_put
INSERT INTO role_policies (role, name, document) VALUES (?, ?, ?)
ON CONFLICT (role, name) DO UPDATE SET document = excluded.document;

-- name: reg_rp_delete
DELETE FROM role_policies WHERE role = ? AND name = ?;

-- name: reg_rp_all
SELECT name, document FROM role_policies WHERE role = ? ORDER BY name;

-- name: reg_counter_delete
-- A function deleted and created again numbers its versions from 1, as on Lambda.
DELETE FROM counters WHERE key = ?;

-- name: reg_role_set_config
UPDATE roles SET config = ? WHERE name = ?;
