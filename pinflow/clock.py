"""The one clock seam: real time for servers and the CLI, a fake one for tests."""

from __future__ import annotations

import time


class RealClock:
    """Wall-clock seconds since the epoch; `sleep` really sleeps."""

    def __call__(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that moves only when told to (`advance`), so a five-day Wait takes no time."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
