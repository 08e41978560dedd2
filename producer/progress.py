"""A live progress line on a terminal (rich), redrawn twice a second on stderr::

    sent 9,998/s  target 10,000/s  total 123,456  late 0  throttled 12  in flight 250  expired 0

Rates are over the last redraw interval. Off when stderr is not a TTY (logs and CI
output stay clean) or with ``--no-progress``.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from rich.console import Console
from rich.live import Live
from rich.text import Text

from producer.outcomes import OutcomeTally

__all__ = ["ProgressLine", "format_progress"]


def format_progress(sent_rate: float, target_rate: float, tally: OutcomeTally) -> str:
    return (f"sent {sent_rate:,.0f}/s  target {target_rate:,.0f}/s  total {tally.sent:,}  "
            f"late {tally.late:,}  throttled {tally.throttled:,}  in flight {tally.pending:,}  "
            f"expired {tally.expired:,}  rejected {tally.rejected:,}")


class ProgressLine:
    """Redraws ``format_progress`` until stopped; ``target_rate()`` gives the current target."""

    def __init__(self, tally: OutcomeTally, target_rate: Callable[[], float], *,
                 console: Console | None = None, interval_s: float = 0.5) -> None:
        self.tally = tally
        self.target_rate = target_rate
        self.console = console or Console(stderr=True)
        self.interval_s = interval_s

    async def run(self, stop: asyncio.Event) -> None:
        last_sent, last_at = self.tally.sent, time.monotonic()
        with Live(Text(""), console=self.console, refresh_per_second=4, transient=True) as live:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self.interval_s)
                except asyncio.TimeoutError:
                    pass
                now = time.monotonic()
                rate = (self.tally.sent - last_sent) / max(now - last_at, 1e-9)
                last_sent, last_at = self.tally.sent, now
                live.update(Text(format_progress(rate, self.target_rate(), self.tally)))
