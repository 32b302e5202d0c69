-- Named queries of the roles repository: IAM roles, their inline policies, managed policies and attachments.

-- name: iam_policy_get
SELECT arn, name, config, created_at FROM managed_policies WHERE arn = ?;

-- name: iam_policy_by_name
SELECT arn FROM managed_policies WHERE name = ?;

-- name: iam_policy_insert
INSERT INTO managed_policies (arn, name, config, created_at) VALUES (?, ?, ?, ?);

-- name: iam_policy_set_config
UPDATE managed_policies SET config = ? WHERE arn = ?;

-- name: iam_policy_delete
DELETE FROM managed_policies WHERE arn = ?;

-- name: iam_policy_all
SELECT arn, name, config, created_at FROM managed_policies ORDER BY name;

-- name: iam_pv_get
SELECT version, document, created_at FROM managed_policy_versions WHERE arn = ? AND version = ?;

-- name: iam_pv_all
SELECT version, document, created_at FROM managed_policy_versions WHERE arn = ? ORDER BY version;

-- name: iam_pv_insert
INSERT INTO managed_policy_versions (arn, version, document, created_at) VALUES (?, ?, ?, ?);

-- name: iam_pv_delete
DELETE FROM managed_policy_versions WHERE arn = ? AND version = ?;

-- name: iam_pv_delete_all
DELETE FROM managed_policy_versions WHERE arn = ?;

-- name: iam_attach
INSERT INTO role_attachments (role, policy_arn, attached_at) VALUES (?, ?, ?)
ON CONFLICT (role, policy_arn) DO NOTHING;

-- name: iam_detach
DELETE FROM role_attachments WHERE role = ? AND policy_arn = ?;

-- name: iam_attached_to_role
SELECT policy_arn, attached_at FROM role_attachments WHERE role = ? ORDER BY attached_at, policy_arn;

-- name: iam_attachment_count
SELECT COUNT(*) FROM role_attachments WHERE policy_arn = ?;

-- name: iam_attached_arns
SELECT DISTINCT policy_arn FROM role_attachments;

-- name: iam_attached_configs
-- A role's attachments with each customer managed policy's config (NULL for an AWS managed one), one query.
SELECT a.policy_arn, p.config FROM role_attachments a LEFT JOIN managed_policies p ON p.arn = a.policy_arn
WHERE a.role = ? ORDER BY a.attached_at, a.policy_arn;
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

-- name: reg_role_set_config
UPDATE roles SET config = ? WHERE name = ?;
