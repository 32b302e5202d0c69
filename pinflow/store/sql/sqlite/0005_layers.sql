-- pinflow schema, version 5 (SQLite): Lambda layers.

-- Published layer versions. The content is a blob (by SHA-256, like function code); numbers come from
-- counters ('layer:<name>') and are never handed out twice, even once every version is deleted. A
-- deleted version's row goes, but its blob stays: function versions that use it keep running, as on Lambda.
CREATE TABLE layer_versions (
    name         TEXT NOT NULL,
    version      INTEGER NOT NULL,
    config       TEXT NOT NULL,           -- JSON: Description, CodeSha256 (hex), CodeSize, CompatibleRuntimes, ...
    created_at   REAL NOT NULL,
    PRIMARY KEY (name, version)
);
