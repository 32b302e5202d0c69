-- Lambda layers (pinflow/registry/layers.py).

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
