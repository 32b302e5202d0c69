"""Transactions on both dialects: reads run without a transaction of their own (autocommit, as SQLite's
always have), and a write on the same connection afterwards is still all or nothing."""

from __future__ import annotations

import pytest

from pinflow.store import Store


def _versions(store: Store) -> set[int]:
    with store.transaction(write=False) as tx:
        return {row["version"] for row in tx.all("SELECT version FROM schema_migrations WHERE version >= 9000")}


def test_a_write_after_reads_is_undone_whole_when_it_fails(store: Store) -> None:
    for _ in range(3):
        assert _versions(store) == set()
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.run("INSERT INTO schema_migrations (version) VALUES (:version)", version=9001)
        tx.run("INSERT INTO schema_migrations (version) VALUES (:version)", version=9002)
        raise RuntimeError("changed my mind")
    assert _versions(store) == set()
    with store.transaction() as tx:
        tx.run("INSERT INTO schema_migrations (version) VALUES (:version)", version=9003)
        tx.run("INSERT INTO schema_migrations (version) VALUES (:version)", version=9004)
    assert _versions(store) == {9003, 9004}


def test_a_write_that_breaks_a_constraint_leaves_nothing_after_reads(store: Store) -> None:
    assert _versions(store) == set()
    with store.transaction() as tx:
        tx.run("INSERT INTO schema_migrations (version) VALUES (:version)", version=9010)
    assert _versions(store) == {9010}
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), store.transaction() as tx:
        tx.run("INSERT INTO schema_migrations (version) VALUES (:version)", version=9011)
        tx.run("INSERT INTO schema_migrations (version) VALUES (:version)", version=9010)
    assert _versions(store) == {9010}
    # The connection is usable again, for a read and then a write.
    with store.transaction() as tx:
        tx.run("INSERT INTO schema_migrations (version) VALUES (:version)", version=9012)
    assert _versions(store) == {9010, 9012}
