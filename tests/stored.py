"""What the store holds of histories, read with SQL: for tests that check every event written, beside the
API's view of them."""

from __future__ import annotations

from typing import Any


def history(tx: Any) -> list[dict[str, Any]]:
    """Every stored history event as {"execution", "id", "event"} (the event's JSON text), ordered by
    execution and id; a block of events (a step's, one JSON text per line) gives one row per event."""
    rows = []
    for block in tx.all("SELECT execution, first_id, events FROM history_blocks ORDER BY execution, first_id"):
        for offset, text in enumerate(block["events"].split("\n")):
            rows.append({"execution": block["execution"], "id": block["first_id"] + offset, "event": text})
    return rows
