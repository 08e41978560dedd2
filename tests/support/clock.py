"""The one fake clock of the test suite: time that moves only when a test says so."""
from __future__ import annotations

__all__ = ["FakeClock"]


class FakeClock:
    """A stand-in for ``time.time``/``time.monotonic`` (call it) and ``time.sleep`` (``sleep``).

    ``now`` is the current instant; ``advance`` moves it; ``sleep`` moves it too and records
    each wait in ``sleeps``, so a test can check a backoff without waiting."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
