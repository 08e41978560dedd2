"""The ledger: one JSON line per acknowledged record, plus a summary file at the end.

Other processes (the latency probe, the audit) read the ledger while it grows, so each
acknowledged batch is appended as whole lines and flushed, and the summary is written to a
temporary file and renamed so a reader never sees half of it. A stale summary from an
earlier run with the same path is removed at start, so ``done`` always means *this* run.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import IO

import orjson

__all__ = ["LedgerWriter", "LedgerEntry", "summary_path_for", "write_summary"]

LedgerEntry = tuple[str, str, int, str, str, float, float]
"""(event_id, producer_id, seq, shard_id, sequence_number, produced_at, acked_at)."""

_FIELDS = ("event_id", "producer_id", "seq", "shard_id", "sequence_number", "produced_at", "acked_at")


def summary_path_for(ledger_path: Path) -> Path:
    return ledger_path.with_name(ledger_path.name + ".summary.json")


def write_summary(path: Path, summary: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    os.replace(tmp, path)


class LedgerWriter:
    """Appends acknowledged records to ``path`` (truncated at open)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.summary_path = summary_path_for(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.summary_path.unlink(missing_ok=True)
        self._fh: IO[bytes] | None = self.path.open("wb")

    def append(self, entries: list[LedgerEntry]) -> None:
        if not entries or self._fh is None:
            return
        self._fh.write(b"".join(orjson.dumps(dict(zip(_FIELDS, e))) + b"\n" for e in entries))
        self._fh.flush()

    def write_summary(self, summary: dict) -> None:
        write_summary(self.summary_path, summary)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "LedgerWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
