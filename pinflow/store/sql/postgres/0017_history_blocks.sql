-- pinflow schema, version 17 (PostgreSQL): an execution's history kept in blocks, one row per step.

-- A step writes its events as one row: their JSON texts one per line (compact JSON text holds no line
-- break), ids first_id to last_id. A step of a Pass chain writes dozens of events; one row for them all
-- costs the writer one index entry instead of dozens. Event ids have no gaps, so the block holding any
-- event is the one with the largest first_id at or below it. A step written twice would write its first
-- id twice: the key refuses it, as it refused the same event id before.
CREATE TABLE history_blocks (
    execution   TEXT NOT NULL,
    first_id    INTEGER NOT NULL,
    last_id     INTEGER NOT NULL,
    events      TEXT NOT NULL,            -- JSON texts of events first_id..last_id, one per line
    PRIMARY KEY (execution, first_id)
);
INSERT INTO history_blocks (execution, first_id, last_id, events) SELECT execution, id, id, event FROM history;
DROP TABLE history;
