-- Named queries of the state_machines repository: state machines, their revisions, versions and aliases; activities; connections.
-- Run only by pinflow/store/repositories/state_machines.py, with `:name` parameters.

-- name: connection_insert
INSERT INTO connections (name, arn, config, secrets, created_at) VALUES (:name, :arn, :config, :secrets, :created_at);

-- name: connection_get
SELECT name, arn, config, secrets, created_at FROM connections WHERE name = :name;

-- name: connection_by_arn
SELECT name, arn, config, secrets, created_at FROM connections WHERE arn = :arn;

-- name: connection_update
UPDATE connections SET config = :config, secrets = :secrets WHERE name = :name;

-- name: connection_delete
DELETE FROM connections WHERE name = :name;

-- name: connections_all
-- Never the secrets: a listing shows none.
SELECT name, arn, config, created_at FROM connections ORDER BY name;

-- name: state_machine_get
SELECT name, arn, type, status, revision_id, created_at, config, tags FROM state_machines WHERE name = :name;

-- name: state_machine_head
-- What StartExecution reads of a machine (its tags and config left out).
SELECT name, arn, type, status, revision_id FROM state_machines WHERE name = :name;

-- name: state_machine_lock
-- Takes the machine's row lock on PostgreSQL; 0 rows = no such machine.
UPDATE state_machines SET status = status WHERE name = :name;

-- name: state_machine_insert
INSERT INTO state_machines (name, arn, type, status, revision_id, created_at, config, tags)
VALUES (:name, :arn, :type, :status, :revision_id, :created_at, :config, :tags);

-- name: state_machine_set_revision
UPDATE state_machines SET revision_id = :revision_id WHERE name = :name;

-- name: state_machine_set_status
UPDATE state_machines SET status = :status WHERE name = :name;

-- name: state_machine_set_tags
UPDATE state_machines SET tags = :tags WHERE name = :name;

-- name: state_machine_delete
DELETE FROM state_machines WHERE name = :name;

-- name: state_machines_all
SELECT name, arn, type, created_at FROM state_machines ORDER BY name;

-- name: machine_revision_get
SELECT revision_id, machine, definition, role_arn, config, created_at FROM revisions WHERE revision_id = :revision_id;

-- name: machine_revision_insert
INSERT INTO revisions (revision_id, machine, definition, role_arn, config, created_at)
VALUES (:revision_id, :machine, :definition, :role_arn, :config, :created_at);

-- name: machine_version_get
SELECT version, revision_id, description, created_at FROM machine_versions WHERE machine = :machine AND version = :version;

-- name: machine_versions_of_revision
SELECT version, revision_id, description, created_at FROM machine_versions
WHERE machine = :machine AND revision_id = :revision_id ORDER BY version DESC;

-- name: machine_versions_all
SELECT version, created_at FROM machine_versions WHERE machine = :machine ORDER BY version DESC;

-- name: machine_version_tallies
SELECT machine, COUNT(*) AS versions, MAX(version) AS latest FROM machine_versions GROUP BY machine;

-- name: machine_versions_with_revision
SELECT v.version, v.description, v.created_at, v.revision_id, r.config
FROM machine_versions v JOIN revisions r ON r.revision_id = v.revision_id
WHERE v.machine = :machine ORDER BY v.version DESC;

-- name: machine_version_insert
INSERT INTO machine_versions (machine, version, revision_id, description, created_at)
VALUES (:machine, :version, :revision_id, :description, :created_at);

-- name: machine_version_delete
DELETE FROM machine_versions WHERE machine = :machine AND version = :version;

-- name: machine_versions_delete
DELETE FROM machine_versions WHERE machine = :machine;

-- name: machine_alias_get
SELECT machine, alias, config FROM machine_aliases WHERE machine = :machine AND alias = :alias;

-- name: machine_aliases_of
SELECT machine, alias, config FROM machine_aliases WHERE machine = :machine ORDER BY alias;

-- name: machine_aliases_all
SELECT machine, alias, config FROM machine_aliases ORDER BY machine, alias;

-- name: machine_alias_insert
INSERT INTO machine_aliases (machine, alias, config) VALUES (:machine, :alias, :config);

-- name: machine_alias_update
UPDATE machine_aliases SET config = :config WHERE machine = :machine AND alias = :alias;

-- name: machine_alias_delete
DELETE FROM machine_aliases WHERE machine = :machine AND alias = :alias;

-- name: machine_aliases_delete
DELETE FROM machine_aliases WHERE machine = :machine;

-- name: activity_get
SELECT arn, name, created_at, tags FROM activities WHERE arn = :arn;

-- name: activity_by_name
SELECT arn, name, created_at, tags FROM activities WHERE name = :name;

-- name: activity_insert
INSERT INTO activities (arn, name, created_at, tags) VALUES (:arn, :name, :created_at, :tags);

-- name: activity_set_tags
UPDATE activities SET tags = :tags WHERE arn = :arn;

-- name: activity_delete
DELETE FROM activities WHERE arn = :arn;

-- name: activities_page
SELECT arn, name, created_at FROM activities ORDER BY name LIMIT :limit OFFSET :offset;

-- name: state_machine_status
SELECT status FROM state_machines WHERE name = :name;

-- name: machine_version_exists
SELECT 1 FROM machine_versions WHERE machine = :machine AND version = :version;
