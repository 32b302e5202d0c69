-- pinflow schema, version 2 (SQLite): what deploy tools call Lambda and IAM for.

-- Customer managed IAM policies. AWS managed ones (arn:aws:iam::aws:policy/...) are built in and are
-- not stored. A policy name is unique in the account whatever its path, as in IAM.
CREATE TABLE managed_policies (
    arn          TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    config       TEXT NOT NULL,           -- JSON: PolicyName, PolicyId, Path, Description, DefaultVersionId, dates, Tags
    created_at   REAL NOT NULL
);

CREATE TABLE managed_policy_versions (
    arn          TEXT NOT NULL,
    version      INTEGER NOT NULL,        -- vN; numbers restart at 1 when a policy of that name is created again
    document     TEXT NOT NULL,
    created_at   REAL NOT NULL,
    PRIMARY KEY (arn, version)
);

-- Managed policies attached to roles (customer managed or AWS managed, by ARN).
CREATE TABLE role_attachments (
    role         TEXT NOT NULL,
    policy_arn   TEXT NOT NULL,
    attached_at  REAL NOT NULL,
    PRIMARY KEY (role, policy_arn)
);
CREATE INDEX role_attachments_by_policy ON role_attachments (policy_arn);

-- Lambda resource-based policy statements (AddPermission), per function and qualifier ('' for none).
CREATE TABLE function_permissions (
    name         TEXT NOT NULL,
    qualifier    TEXT NOT NULL,
    sid          TEXT NOT NULL,
    statement    TEXT NOT NULL,           -- JSON: the statement as GetPolicy shows it
    seq          INTEGER NOT NULL,        -- the order statements were added in
    PRIMARY KEY (name, qualifier, sid)
);

ALTER TABLE functions ADD COLUMN reserved_concurrency INTEGER;
