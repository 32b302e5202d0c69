-- pinflow schema, version 18 (PostgreSQL): reserved concurrency counted across the nodes of a cluster.

-- How many invocations of a function with reserved concurrency each node runs. A node admits one more
-- only while the nodes alive within their lease (`nodes`) run fewer than the limit, holding the
-- function's gate row (node '') locked meanwhile, so two nodes never both take the last slot; a dead
-- node's count stops counting once its lease is past.
CREATE TABLE function_running (
    function  TEXT NOT NULL,
    node      TEXT NOT NULL,
    running   INTEGER NOT NULL,
    PRIMARY KEY (function, node)
);
CREATE INDEX function_running_by_node ON function_running (node);
