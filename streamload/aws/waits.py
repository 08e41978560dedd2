"""Bounded retries with exponential backoff, for IAM's eventual consistency.

A role created a moment ago may be unknown to STS, Redshift or another account's IAM for
several seconds; AWS's advice is to retry, so every such call goes through ``Backoff``.
Sleep and clock are injectable so tests never wait.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["Backoff"]

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Backoff:
    timeout_s: float = 90.0
    first_delay_s: float = 1.0
    max_delay_s: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def retry(self, call: Callable[[], T], is_transient: Callable[[Exception], bool], what: str) -> T:
        """``call()`` until it succeeds, fails for good, or the next wait would pass the deadline."""
        deadline = self.clock() + self.timeout_s
        delay = self.first_delay_s
        attempt = 1
        while True:
            try:
                return call()
            except Exception as exc:
                if not is_transient(exc) or self.clock() + delay > deadline:
                    raise
                log.info("%s: not yet (%s); retry %d in %.1fs", what, exc, attempt, delay)
                self.sleep(delay)
                delay = min(delay * 2, self.max_delay_s)
                attempt += 1
