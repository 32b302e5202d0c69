-- Named queries of the functions repository (`repositories/functions.py`): functions, their versions,
-- aliases, code blobs, layers, resource policies and concurrency; version counters.

-- name: function_get
SELECT name, created_at, next_version, latest, revision_id, tags, reserved_concurrency
FROM functions WHERE name = :name;

-- name: function_lock
-- Takes the row lock of the function on PostgreSQL (SQLite already has its single writer); 0 rows = none.
UPDATE functions SET revision_id = revision_id WHERE name = :name;

-- name: function_insert
INSERT INTO functions (name, created_at, next_version, latest, revision_id, tags)
VALUES (:name, :created_at, :next_version, :latest, :revision_id, :tags);

-- name: function_set_latest
UPDATE functions SET latest = :latest, revision_id = :revision_id WHERE name = :name;

-- name: function_set_next_version
UPDATE functions SET next_version = :next_version WHERE name = :name;

-- name: function_set_tags
UPDATE functions SET tags = :tags WHERE name = :name;

-- name: function_page
SELECT name, latest, revision_id FROM functions WHERE name > :after ORDER BY name LIMIT :size;

-- name: function_delete
DELETE FROM functions WHERE name = :name;

-- name: function_version_get
SELECT version, config, created_at FROM function_versions WHERE name = :name AND version = :version;

-- name: function_versions
SELECT version, config, created_at FROM function_versions WHERE name = :name ORDER BY version;

-- name: function_version_insert
INSERT INTO function_versions (name, version, config, created_at) VALUES (:name, :version, :config, :created_at);

-- name: function_version_delete
DELETE FROM function_versions WHERE name = :name AND version = :version;

-- name: function_versions_delete
DELETE FROM function_versions WHERE name = :name;

-- name: function_alias_get
SELECT alias, config FROM function_aliases WHERE name = :name AND alias = :alias;

-- name: function_aliases
SELECT alias, config FROM function_aliases WHERE name = :name ORDER BY alias;

-- name: function_alias_insert
INSERT INTO function_aliases (name, alias, config) VALUES (:name, :alias, :config);

-- name: function_alias_update
UPDATE function_aliases SET config = :config WHERE name = :name AND alias = :alias;

-- name: function_alias_delete
DELETE FROM function_aliases WHERE name = :name AND alias = :alias;

-- name: function_aliases_delete
DELETE FROM function_aliases WHERE name = :name;

-- name: function_permissions
SELECT sid, statement FROM function_permissions WHERE name = :name AND qualifier = :qualifier ORDER BY seq;

-- name: function_permission_get
SELECT sid, statement FROM function_permissions WHERE name = :name AND qualifier = :qualifier AND sid = :sid;

-- name: function_permission_next_seq
SELECT COALESCE(MAX(seq), 0) + 1 FROM function_permissions WHERE name = :name;

-- name: function_permission_insert
INSERT INTO function_permissions (name, qualifier, sid, statement, seq)
VALUES (:name, :qualifier, :sid, :statement, :seq);

-- name: function_permission_delete
DELETE FROM function_permissions WHERE name = :name AND qualifier = :qualifier AND sid = :sid;

-- name: function_permissions_delete_qualifier
DELETE FROM function_permissions WHERE name = :name AND qualifier = :qualifier;

-- name: function_permissions_delete
DELETE FROM function_permissions WHERE name = :name;

-- name: function_concurrency_get
SELECT reserved_concurrency FROM functions WHERE name = :name;

-- name: function_concurrency_set
UPDATE functions SET reserved_concurrency = :reserved WHERE name = :name;

-- name: function_concurrency_others
-- The concurrency reserved by the functions but the one named (by all of them for a name none has).
SELECT COALESCE(SUM(reserved_concurrency), 0) FROM functions WHERE name <> :name;

-- name: function_code_configs
-- Every configuration that holds code: $LATEST of each function and each published version.
SELECT name, latest AS config FROM functions
UNION ALL
SELECT name, config FROM function_versions;

-- name: layer_insert
INSERT INTO layer_versions (name, version, config, created_at) VALUES (:name, :version, :config, :created_at);

-- name: layer_get
SELECT name, version, config, created_at FROM layer_versions WHERE name = :name AND version = :version;

-- name: layer_versions
SELECT name, version, config, created_at FROM layer_versions WHERE name = :name ORDER BY version DESC;

-- name: layer_all
SELECT name, version, config, created_at FROM layer_versions ORDER BY name, version DESC;

-- name: layer_delete
DELETE FROM layer_versions WHERE name = :name AND version = :version;

-- name: blob_put
INSERT INTO blobs (sha256, data, created_at) VALUES (:sha256, :data, :created_at) ON CONFLICT (sha256) DO NOTHING;

-- name: blob_get
SELECT data FROM blobs WHERE sha256 = :sha256;

-- name: counter_ensure
INSERT INTO counters (key, value) VALUES (:key, 0) ON CONFLICT (key) DO NOTHING;

-- name: counter_bump
UPDATE counters SET value = value + 1 WHERE key = :key;

-- name: counter_get
SELECT value FROM counters WHERE key = :key;

-- name: counter_delete
-- A function (or managed policy) deleted and created again numbers its versions from 1, as on AWS.
DELETE FROM counters WHERE key = :key;

-- name: function_version_exists
SELECT 1 FROM function_versions WHERE name = :name AND version = :version;
