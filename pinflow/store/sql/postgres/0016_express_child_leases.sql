-- pinflow schema, version 16 (PostgreSQL): leases on a Distributed Map's Express children.

-- An Express child runs in memory on one node (the node that started it). Where several nodes share the
-- database, the item row names that node and a lease it renews while the child runs; once the lease has
-- expired (the node died) or was let go (it stopped), any node runs the child again, at least once, as
-- AWS runs Express children. A child's end counts once (the first to end, `status` still NULL).
ALTER TABLE map_run_items ADD COLUMN lease_owner TEXT;
ALTER TABLE map_run_items ADD COLUMN lease_until DOUBLE PRECISION;
CREATE INDEX map_run_items_by_lease ON map_run_items (lease_until) WHERE lease_until IS NOT NULL AND status IS NULL;
CREATE INDEX map_run_items_by_lease_owner ON map_run_items (lease_owner) WHERE lease_until IS NOT NULL AND status IS NULL;
