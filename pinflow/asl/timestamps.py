"""RFC 3339 timestamps as Step Functions reads and writes them (no clock is read here)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})\Z"
)


def parse(text: object) -> float | None:
    """Seconds since the epoch for an RFC 3339 timestamp (uppercase T and Z), else None."""
    if not isinstance(text, str):
        return None
    match = _RFC3339.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        if offset == "Z":
            tz = UTC
        else:
            sign = 1 if offset[0] == "+" else -1
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            if hours > 23 or minutes > 59:
                return None
            tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=tz)
    except ValueError:
        return None
    seconds = moment.timestamp()
    if fraction:
        seconds += int(fraction) / 10 ** len(fraction)
    return seconds


# The text of the last whole second formatted: (second, "2024-01-31T12:00:00."). Times come in order,
# so most calls reuse it; a tuple is replaced whole, so threads sharing it never see half of one.
_last_second: tuple[float, str] = (math.nan, "")


def format(seconds: float) -> str:
    """AWS's form for a context-object time: UTC, milliseconds, `Z` (2024-01-31T12:00:00.123Z)."""
    global _last_second
    # Microseconds rounded half to even, as `datetime.fromtimestamp` rounds them (a carry moves the second).
    fraction, whole = math.modf(seconds)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        whole += 1
        micros -= 1_000_000
    elif micros < 0:
        whole -= 1
        micros += 1_000_000
    second, text = _last_second
    if second != whole:
        text = datetime.fromtimestamp(whole, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        _last_second = (whole, text)
    return f"{text}{micros // 1000:03d}Z"
