"""The producer summary: what one producer (or ``--processes N`` merged) did, as
``<ledger>.summary.json`` beside its compact ledger.

The producer writes it once, at the end (``write_summary``, atomically); every reader -- the
audit, the fault section, the probe, capacity steps -- goes through ``read_summary``. Keys
(JSON, unchanged from the ``ProducerResult`` dataclass this replaced): ``producer_id``,
``generated``, ``sent``, ``expired``, ``rejected``, ``late`` (counts; ``sent + expired +
rejected == generated``), ``target_rate``, ``achieved_rate`` (records/s), ``duration_s``,
``done``, ``retried``, ``throttled``, ``shard_limited``, ``shards``, ``rejected_reasons``
(reason -> count), ``run_id``, ``started_at`` (epoch s), ``window_s``, ``profile``, ``sink``,
``processes``, ``error`` (one line, or null), and on a merged summary only ``ledgers`` (each
process's ledger). Keys a reader does not know (an older or newer producer's) are ignored.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from streamload.core.atomic_write import write_atomically
from streamload.core.errors import UsageError

__all__ = ["SUMMARY_SUFFIX", "OutcomeCounts", "ProducerSummary", "summary_path_for", "write_summary", "read_summary"]

SUMMARY_SUFFIX = ".summary.json"


class OutcomeCounts(BaseModel):
    """What became of the generated records: each ends ``sent``, ``expired`` or ``rejected``
    (by reason), so ``generated == sent + expired + rejected`` once every batch is done; late,
    retried, throttled and shard-limited say how records got there. The producer's live tally
    and its summary both hold these, declared once here. Counts default to 0 so a summary
    missing one (an older producer's) still reads."""

    model_config = ConfigDict(extra="ignore")

    generated: int = 0
    sent: int = 0
    expired: int = 0
    rejected: int = 0
    late: int = 0
    retried: int = 0
    throttled: int = 0
    shard_limited: int = 0
    rejected_reasons: dict[str, int] = Field(default_factory=dict)

    def outcome_counts(self) -> dict[str, Any]:
        """These counts alone (a copy), e.g. to build a summary from the live tally."""
        counts = {name: getattr(self, name) for name in OutcomeCounts.model_fields}
        counts["rejected_reasons"] = dict(self.rejected_reasons)
        return counts

    @staticmethod
    def summed(parts: Iterable["OutcomeCounts"]) -> dict[str, Any]:
        """The counts of ``parts`` added up (producers that ran side by side)."""
        parts = list(parts)
        totals: dict[str, Any] = {name: sum(getattr(p, name) for p in parts)
                                  for name in OutcomeCounts.model_fields if name != "rejected_reasons"}
        reasons: Counter = Counter()
        for part in parts:
            reasons.update(part.rejected_reasons)
        totals["rejected_reasons"] = dict(reasons)
        return totals


class ProducerSummary(OutcomeCounts):
    """One producer's totals. ``target_rate`` is the profile's mean over the schedule's window
    (the duration, or up to where ``--total`` or a stop ended it); ``achieved_rate`` is records
    acknowledged per second over that window or until the last acknowledgement, whichever is
    longer.
    """

    producer_id: str = ""
    target_rate: float = 0.0
    achieved_rate: float = 0.0
    duration_s: float = 0.0
    done: bool = True
    shards: int = 0  # open shards known at the end (0: not listed, e.g. --no-shard-limit)
    run_id: str = ""
    started_at: float = 0.0
    window_s: float = 0.0
    profile: str = ""
    sink: str = "kinesis"
    processes: int = 1
    error: str | None = None
    ledgers: list[str] | None = None  # a merged summary's per-process ledgers

    def to_json(self) -> dict[str, Any]:
        """The file's content: every field, ``ledgers`` only on a merged summary."""
        return self.model_dump(exclude={"ledgers"} if self.ledgers is None else None)


def summary_path_for(ledger_path: Path) -> Path:
    """``out/ledger-p0.json`` -> ``out/ledger-p0.json.summary.json``."""
    ledger_path = Path(ledger_path)
    return ledger_path.with_name(ledger_path.name + SUMMARY_SUFFIX)


def write_summary(path: Path, summary: ProducerSummary) -> None:
    write_atomically(Path(path), orjson.dumps(summary.to_json(), option=orjson.OPT_INDENT_2))


def read_summary(path: Path) -> ProducerSummary | None:
    """The summary at ``path``; None if there is none (the producer has not finished, or never
    started); UsageError (one line naming the file) if it is not a producer summary."""
    path = Path(path)
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{path}: not a producer summary (not JSON: {exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: not a producer summary (a JSON {type(data).__name__}, not an object)")
    try:
        return ProducerSummary.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UsageError(f"{path}: not a producer summary ({where}: {first['msg']})") from None
