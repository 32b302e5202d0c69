"""Shared terminal output: one rich console, JSON printing, history tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from pinflow.asl import history as asl_history

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


def print_json(value: Any) -> None:
    """Print a JSON value, indented, without rich markup interpretation."""
    # soft_wrap: long strings must not be broken across lines, or the output is no longer JSON.
    text = json.dumps(value, indent=2, ensure_ascii=False)
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def history_table(events: list[dict[str, Any]]) -> Table:
    """A readable table of history events (id, time, type, state, details)."""
    table = Table(show_lines=False, header_style="bold")
    for column in ("id", "time", "type", "state", "details"):
        table.add_column(column, overflow="fold")
    for event in events:
        details = asl_history.details_of(event)
        stamp = event["timestamp"]
        if isinstance(stamp, int | float):
            stamp = datetime.fromtimestamp(stamp, tz=UTC).strftime("%H:%M:%S.%f")[:-3]
        summary = ""
        for key in ("error", "output", "input", "parameters", "length", "index"):
            if key in details:
                summary = f"{key}={_short(details[key])}"
                if key == "error" and details.get("cause"):
                    summary += f" cause={_short(details['cause'], 50)}"
                break
        table.add_row(str(event["id"]), str(stamp), event["type"], details.get("name", ""), summary)
    return table
