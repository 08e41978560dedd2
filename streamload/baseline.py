"""``streamload baseline --repeat N``: run the same run N times and keep what a later
``compare`` needs to tell a regression from noise: the median of every compared metric and
its run-to-run spread.

The spread of a metric is the largest distance of one run from the median of the N runs
(max |x_i − median|); ``compare`` allows ``noise_k`` × that on top of the baseline. With
N = 1 the spread is 0 and only the relative rise and ``min_delta_ms`` protect against noise,
so use N ≥ 3 for a CI gate.

Also home of the plumbing every series of runs shares (``capacity`` uses it too): one
local stack for the whole series, and a stream and view of its own for each run on the
local stack, so that no run sees (or has to scan) its predecessors' records.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from streamload.baseline_file import summarise_runs
from streamload.core.config import StreamloadConfig

__all__ = ["isolated", "local_stack_for", "run_baseline", "targets_local_stack"]

Announce = Callable[[str], None]


def _say(text: str) -> None:
    print(text, flush=True)


def targets_local_stack(cfg: StreamloadConfig) -> bool:
    """Endpoint URLs select the local stack (docs/conventions.md); without both, the run goes to AWS."""
    return bool(cfg.target.kinesis_endpoint_url and cfg.target.redshift_data_endpoint_url)


@contextmanager
def local_stack_for(cfg: StreamloadConfig, local: bool, announce: Announce = _say) -> Iterator[None]:
    """With ``local``, start one local stack for a whole series of runs and aim ``cfg`` at it."""
    if not local:
        yield
        return
    from emulator.stack import LocalStack

    with LocalStack(personas=cfg.personas.all_personas) as stack:
        announce(f"local stack: kinesis {stack.kinesis_url}  redshift-data {stack.redshift_data_url}  "
                 f"identity {stack.identity_url}")
        stack.point_config_at_stack(cfg)
        yield


def isolated(cfg: StreamloadConfig, tag: str) -> StreamloadConfig:
    """A copy of ``cfg`` for one run of a series.

    On the local stack the run gets its own stream and materialized view (``-<tag>``), so
    every run starts from an empty view, as the first did. Against AWS the configured
    ones are reused: a new stream per run would cost money and be unknown to teardown.
    """
    copy = cfg.model_copy(deep=True)
    if targets_local_stack(cfg):
        copy.stream.name = f"{cfg.stream.name}-{tag}"
        copy.redshift.materialized_view = f"{cfg.redshift.materialized_view}_{tag}"
    copy.verdict.baseline = None
    return copy


def run_baseline(cfg: StreamloadConfig, out_dir: Path, repeat: int, local: bool,
                 announce: Announce = _say) -> tuple[dict, list[int]]:
    """Run ``repeat`` times (one local stack for all when ``local``); the baseline and each
    run's exit code. Target errors propagate (the caller maps them to exit codes)."""
    from streamload.run import execute_run

    reports, codes = [], []
    with local_stack_for(cfg, local, announce):
        for i in range(1, repeat + 1):
            run_cfg = isolated(cfg, f"r{i}")
            outcome = execute_run(run_cfg, out_dir / f"run-{i}")
            reports.append(outcome.report)
            codes.append(outcome.exit_code)
            announce(f"run {i}/{repeat}: e2e_p50_ms={_fmt(outcome.report.get('e2e_p50_ms'))} "
                     f"e2e_p99_ms={_fmt(outcome.report.get('e2e_p99_ms'))} lost={outcome.report.get('lost')} "
                     f"{'ok' if outcome.exit_code == 0 else 'FAILED its thresholds'}")
    return summarise_runs(reports), codes


def _fmt(value: float | None) -> str:
    return "nan" if value is None else f"{value:.1f}"
