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

from streamload.core.config import StreamloadConfig

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
        return cls(**json.loads(Path(path).read_text()))

    @classmethod
    def from_env(cls) -> "RunPlan":
        try:
            return cls.read(Path(os.environ[RUN_FILE_ENV]))
        except KeyError:
            raise SystemExit(f"{RUN_FILE_ENV} is not set: start Locust through `streamload run`/`demo`") from None
