-- Named queries of the functions repository: functions, their versions, aliases, code blobs, layers, resource policies and concurrency; version counters.

-- name: fnp_all
SELECT sid, statement FROM function_permissions WHERE name = ? AND qualifier = ? ORDER BY seq;

-- name: fnp_get
SELECT sid, statement FROM function_permissions WHERE name = ? AND qualifier = ? AND sid = ?;

-- name: fnp_next_seq
SELECT COALESCE(MAX(seq), 0) + 1 FROM function_permissions WHERE name = ?;

-- name: fnp_insert
INSERT INTO function_permissions (name, qualifier, sid, statement, seq) VALUES (?, ?, ?, ?, ?);

-- name: fnp_delete
DELETE FROM function_permissions WHERE name = ? AND qualifier = ? AND sid = ?;

-- name: fnp_delete_qualifier
DELETE FROM function_permissions WHERE name = ? AND qualifier = ?;

-- name: fnp_delete_function
DELETE FROM function_permissions WHERE name = ?;

-- name: fnp_concurrency_get
SELECT reserved_concurrency FROM functions WHERE name = ?;

-- name: fnp_concurrency_set
UPDATE functions SET reserved_concurrency = ? WHERE name = ?;

-- name: fnp_concurrency_total
SELECT COALESCE(SUM(reserved_concurrency), 0) FROM functions WHERE name <> ?;

-- name: fnp_code_sizes
-- Every configuration that holds code: $LATEST of each function and each published version.
SELECT name, latest AS config FROM functions
UNION ALL
SELECT name, config FROM function_versions;
-- name: layer_insert
INSERT INTO layer_versions (name, version, config, created_at) VALUES (?, ?, ?, ?);

-- name: layer_get
SELECT name, version, config, created_at FROM layer_versions WHERE name = ? AND version = ?;

-- name: layer_versions
SELECT name, version, config, created_at FROM layer_versions WHERE name = ? ORDER BY version DESC;

-- name: layer_all
SELECT name, version, config, created_at FROM layer_versions ORDER BY name, version DESC;

-- name: layer_delete
DELETE FROM layer_versions WHERE name = ? AND version = ?;
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

-- name: reg_counter_delete
-- A function deleted and created again numbers its versions from 1, as on Lambda.
DELETE FROM counters WHERE key = ?;
