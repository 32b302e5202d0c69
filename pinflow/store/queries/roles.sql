-- Named queries of the roles repository (`repositories/roles.py`): IAM roles, their inline policies,
-- managed policies, their versions and attachments.

-- name: role_get
SELECT name, config, created_at FROM roles WHERE name = :name;

-- name: role_insert
INSERT INTO roles (name, config, created_at) VALUES (:name, :config, :created_at);

-- name: role_set_config
UPDATE roles SET config = :config WHERE name = :name;

-- name: role_delete
DELETE FROM roles WHERE name = :name;

-- name: role_page
SELECT name, config, created_at FROM roles WHERE name > :after ORDER BY name LIMIT :size;

-- name: role_policy_get
SELECT name, document FROM role_policies WHERE role = :role AND name = :name;

-- name: role_policies
SELECT name, document FROM role_policies WHERE role = :role ORDER BY name;

-- name: role_policy_put
INSERT INTO role_policies (role, name, document) VALUES (:role, :name, :document)
ON CONFLICT (role, name) DO UPDATE SET document = excluded.document;

-- name: role_policy_delete
DELETE FROM role_policies WHERE role = :role AND name = :name;

-- name: managed_policy_get
SELECT arn, name, config, created_at FROM managed_policies WHERE arn = :arn;

-- name: managed_policy_arn_by_name
SELECT arn FROM managed_policies WHERE name = :name;

-- name: managed_policy_insert
INSERT INTO managed_policies (arn, name, config, created_at) VALUES (:arn, :name, :config, :created_at);

-- name: managed_policy_set_config
UPDATE managed_policies SET config = :config WHERE arn = :arn;

-- name: managed_policy_delete
DELETE FROM managed_policies WHERE arn = :arn;

-- name: managed_policies
SELECT arn, name, config, created_at FROM managed_policies ORDER BY name;

-- name: policy_version_get
SELECT version, document, created_at FROM managed_policy_versions WHERE arn = :arn AND version = :version;

-- name: policy_versions
SELECT version, document, created_at FROM managed_policy_versions WHERE arn = :arn ORDER BY version;

-- name: policy_version_insert
INSERT INTO managed_policy_versions (arn, version, document, created_at) VALUES (:arn, :version, :document, :created_at);

-- name: policy_version_delete
DELETE FROM managed_policy_versions WHERE arn = :arn AND version = :version;

-- name: policy_versions_delete
DELETE FROM managed_policy_versions WHERE arn = :arn;

-- name: attachment_insert
INSERT INTO role_attachments (role, policy_arn, attached_at) VALUES (:role, :policy_arn, :attached_at)
ON CONFLICT (role, policy_arn) DO NOTHING;

-- name: attachment_delete
DELETE FROM role_attachments WHERE role = :role AND policy_arn = :policy_arn;

-- name: attachments_of_role
SELECT policy_arn, attached_at FROM role_attachments WHERE role = :role ORDER BY attached_at, policy_arn;

-- name: attachment_count
SELECT COUNT(*) FROM role_attachments WHERE policy_arn = :policy_arn;

-- name: attached_policy_arns
SELECT DISTINCT policy_arn FROM role_attachments;

-- name: attachments_with_configs
-- The attachments of a role with the config of each customer managed policy (NULL for an AWS managed one).
SELECT a.policy_arn, p.config FROM role_attachments a LEFT JOIN managed_policies p ON p.arn = a.policy_arn
WHERE a.role = :role ORDER BY a.attached_at, a.policy_arn;
