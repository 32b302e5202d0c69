-- Named queries of Lambda resource-based policies and reserved concurrency; every name starts with fnp_.

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
