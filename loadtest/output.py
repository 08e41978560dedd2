"""One Locust process's findings for the orchestrator: ``loadtest-<i>.json``, its writer and
its reader beside each other.

Each Locust process (0: the single process or the master; 1..N: workers) writes one file
when its probe completes and when Locust quits; the orchestrator reads them all after (and,
for ``probe.complete``, during) the load test. Every reader goes through ``read_outputs``.

The format on disk is plain JSON with these keys; files from older runs, which lack
``dataapi_poll``, ``metrics_scrapes`` or ``open_model``, read with those empty.

No Locust here: the orchestrator imports this module.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = ["LoadTestOutput", "ProbeFindings", "DataApiPoll", "PROCESS_INDEX_ENV", "output_path", "read_outputs"]

# Which process a Locust process is (0: single or master, 1..N: workers), set by the orchestrator.
PROCESS_INDEX_ENV = "STREAMLOAD_PROCESS_INDEX"

log = logging.getLogger("streamload.loadtest.output")

_PATTERN = "loadtest-*.json"


class _Part(BaseModel):
    # Keys a newer writer adds are kept as they are, so a report carries them through.
    model_config = ConfigDict(extra="allow")


class ProbeFindings(_Part):
    """What the canary probe of this process saw (``ProbeState.to_json`` plus ``complete``):
    found/expected/missing records, the e2e sample's percentiles and encoded histograms,
    ``latency_samples`` and ``stages``. Only the process that ran the probe has it."""

    found: int = 0
    expected: int = 0
    missing: int = 0
    sampled: int = 0
    complete: bool = False  # the probe saw every acknowledged record (and stopped its process)

    def to_report(self) -> dict[str, Any]:
        """The report's ``probe`` section: what the file held, no default added."""
        return self.model_dump(mode="json", exclude_unset=True)


class DataApiPoll(_Part):
    """How late a statement's finish could be seen: the polling rule and the bound per statement."""

    rule: str | None = None
    error_bound_histogram: str | None = None  # encoded HdrHistogram, microseconds


class LoadTestOutput(_Part):
    """``loadtest-<i>.json``. Stage and open-model entries are written and merged by their
    own modules (``StageHistograms.to_json``/``from_json``, ``OpenStats.to_json``/``add_json``)."""

    process_index: int = -1  # -1: a file that did not say which process wrote it
    statement_histograms: dict[str, str] = {}  # statement kind (``query:<persona>`` too) -> encoded
    e2e_stages: dict[str, dict[str, Any]] = {}
    open_model: dict[str, dict[str, Any]] = {}  # open-model class name -> OpenStats.to_json()
    dataapi_poll: DataApiPoll | None = None
    metrics_scrapes: int = 0
    probe: ProbeFindings | None = None  # absent when this process sampled nothing

    def write(self, path: Path) -> None:
        """Replace ``path`` whole (a reader polling for ``probe.complete`` never sees half a file)."""
        absent = {name for name in ("dataapi_poll", "probe") if getattr(self, name) is None}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.model_dump_json(exclude=absent))
        tmp.replace(path)

    @classmethod
    def read(cls, path: Path) -> "LoadTestOutput":
        return cls.model_validate_json(Path(path).read_bytes())


def output_path(out_dir: Path, process_index: int) -> Path:
    """Where process ``process_index`` writes its output in the run's folder."""
    return Path(out_dir) / f"loadtest-{process_index}.json"


def read_outputs(out_dir: Path) -> list[LoadTestOutput]:
    """Every process's output in the run's folder, by file name; unreadable files are skipped
    (a process killed while writing leaves at most a ``.tmp``) with a warning."""
    found = []
    for path in sorted(Path(out_dir).glob(_PATTERN)):
        try:
            found.append(LoadTestOutput.read(path))
        except (OSError, ValidationError) as exc:
            log.warning("skipping %s: %s", path, str(exc).splitlines()[0])
    return found
