"""Loading a run's configuration: the typed config (``streamload.core.config``) plus the
checks that need the producer's parsers, so a bad rate profile, schema or partition key is a
one-line ConfigError before anything starts."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from producer.config_check import check_producer_section
from streamload.core.config import ConfigError, StreamloadConfig, load_config

__all__ = ["load_run_config", "check_run_config"]


def check_run_config(cfg: StreamloadConfig) -> StreamloadConfig:
    p = cfg.producer
    try:
        check_producer_section(p.profile, p.schema_name, p.partition_key)
    except ValueError as exc:
        raise ConfigError(f"producer: {str(exc).splitlines()[0]}") from None
    return cfg


def load_run_config(path: Path | None = None, overrides: dict[str, Any] | None = None,
                    environ: dict[str, str] | None = None) -> StreamloadConfig:
    """``load_config`` (file, environment, flags), then the producer's own checks."""
    return check_run_config(load_config(path, overrides, environ))
