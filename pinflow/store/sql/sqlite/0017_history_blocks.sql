-- pinflow schema, version 17 (SQLite): an execution's history kept in blocks of a step's events.

-- A step writes its events in blocks, one row each: their JSON texts one per line (compact JSON text
-- holds no line break), ids first_id to last_id, at most 64 events and about 256 KiB to a block. A step
-- of a Pass chain writes dozens of events; one row for them costs the writer one index entry instead of
-- dozens. Event ids have no gaps, so the block holding any event is the one with the largest first_id
-- at or below it. A step begins a new block, so a step written again from the same state would write a
-- block with the same first id: the key refuses it.
CREATE TABLE history_blocks (
    execution   TEXT NOT NULL,
    first_id    INTEGER NOT NULL,
    last_id     INTEGER NOT NULL,
    events      TEXT NOT NULL,            -- JSON texts of events first_id..last_id, one per line
    PRIMARY KEY (execution, first_id)
);
INSERT INTO history_blocks (execution, first_id, last_id, events) SELECT execution, id, id, event FROM history;
DROP TABLE history;
