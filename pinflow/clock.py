"""The one clock seam: real time for servers and the CLI, a fake one for tests."""

from __future__ import annotations

import time


class RealClock:
    """Wall-clock seconds since the epoch; `sleep` really sleeps."""

    real = True  # it moves on its own, as `time.monotonic` does: a thread may sleep until a time it names

    def __call__(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that moves only when told to (`advance`), so a five-day Wait takes no time."""

    real = False

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))


def is_real(clock: object) -> bool:
    """Whether `clock` is real time (`time.time`, the engine's default, or a `RealClock`): a thread may then
    sleep until a time it reads off it."""
    return clock is time.time or bool(getattr(clock, "real", False))
