"""The hand-over between the orchestrator and the processes it starts.

``streamload demo``/``run`` writes one ``RunPlan`` as JSON and names it in the
``STREAMLOAD_RUN_FILE`` environment variable of the Locust process(es), so that every
worker sees the same resolved configuration, run id and file locations.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydantic import ValidationError

from streamload.core.config import ConfigError, StreamloadConfig, format_validation_error

__all__ = ["RUN_FILE_ENV", "RunPlan"]

RUN_FILE_ENV = "STREAMLOAD_RUN_FILE"


@dataclass
class RunPlan:
    run_id: str
    started_at: float
    config: dict
    ledger_paths: list[str] = field(default_factory=list)
    probe_out: str = ""

    @property
    def settings(self) -> StreamloadConfig:
        return StreamloadConfig.model_validate(self.config)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, default=str))
        os.chmod(path, 0o600)  # may hold local-stack keys

    @classmethod
    def read(cls, path: Path) -> "RunPlan":
        """The run plan at ``path``, its config checked; ConfigError (one line) if the file is
        missing or unreadable, is not a run plan, or holds an invalid config."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read the run plan {path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise ConfigError(f"{path} is not a run plan written by `streamload plan`: {str(exc).splitlines()[0]}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path} is not a run plan written by `streamload plan`: not a JSON object")
        try:
            plan = cls(**data)
        except TypeError as exc:  # a key missing or one a plan does not have
            raise ConfigError(f"{path} is not a run plan written by `streamload plan`: {exc}") from None
        try:
            StreamloadConfig.model_validate(plan.config)
        except ValidationError as exc:
            raise ConfigError(f"{path}: the config inside is invalid: {format_validation_error(exc)}") from None
        return plan

    @classmethod
    def named_in_env(cls) -> "RunPlan | None":
        """The plan ``STREAMLOAD_RUN_FILE`` names; None if that is not set, ConfigError (as
        ``read``) if it names no readable plan."""
        path = os.environ.get(RUN_FILE_ENV)
        return cls.read(Path(path)) if path else None

    @classmethod
    def from_env(cls) -> "RunPlan":
        plan = cls.named_in_env()
        if plan is None:
            raise SystemExit(f"{RUN_FILE_ENV} is not set: start Locust through `streamload run`/`demo`")
        return plan
