"""A real Prometheus on loopback, started for a list of scrape targets and stopped after.

Used by ``streamload demo --prometheus`` and by the dashboard tests. The binary comes
from PATH (Debian package ``prometheus``). Nothing here installs it: when it is missing,
``PrometheusUnavailable`` says in one line to run ``scripts/install-prometheus`` (which the
user runs knowingly; ``scripts/test`` runs it for the dashboard tests).
The Debian service is never used: each ``PrometheusServer`` is its own process with its
own config, data folder and free port, and is killed with its parent.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import yaml

from dashboards.files import RULE_FILES
from streamload.core.errors import UsageError
from streamload.core.processes import die_with_parent_hook, free_port, log_lines, stop_process

__all__ = [
    "PrometheusUnavailable",
    "ScrapeTarget",
    "PrometheusClient",
    "PrometheusServer",
    "find_binary",
    "render_config",
    "promtool",
    "prometheus_for_run",
]

INSTALL_COMMAND = "scripts/install-prometheus"
READY_TIMEOUT_S = 30.0


class PrometheusUnavailable(UsageError):
    """Prometheus (or promtool) cannot be found, installed or started; the message says why."""


@dataclass(frozen=True)
class ScrapeTarget:
    job: str
    address: str  # host:port of a /metrics endpoint


def find_binary(name: str = "prometheus") -> str:
    """Path of ``prometheus`` or ``promtool`` on PATH; never installs anything."""
    found = shutil.which(name)
    if found:
        return found
    raise PrometheusUnavailable(
        f"`{name}` is not on PATH; run `{INSTALL_COMMAND}` (Debian/Ubuntu, as root: "
        "apt-get install prometheus), or put a release from prometheus.io on PATH, and retry"
    )


def render_config(
    targets: list[ScrapeTarget],
    rule_files: tuple[Path, ...] | list[Path] = RULE_FILES,
    interval: str = "1s",
) -> str:
    jobs: dict[str, list[str]] = {}
    for target in targets:
        jobs.setdefault(target.job, []).append(target.address)
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval, "scrape_timeout": interval},
        "rule_files": [str(Path(p).resolve()) for p in rule_files],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": addresses}]} for job, addresses in jobs.items()
        ],
    }
    return yaml.safe_dump(config, sort_keys=False)


def promtool(*args: str, timeout_s: float = 60) -> subprocess.CompletedProcess:
    """Run ``promtool`` (e.g. ``promtool("check", "rules", path)``); output captured as text."""
    return subprocess.run([find_binary("promtool"), *args], capture_output=True, text=True, timeout=timeout_s)


class PrometheusClient:
    """The few HTTP API calls streamload needs, against any Prometheus ``url``."""

    def __init__(self, url: str) -> None:
        self._url = url.rstrip("/")

    @property
    def url(self) -> str:
        return self._url

    def api(self, path: str, params: dict | None = None, timeout_s: float = 10) -> dict:
        """GET ``/api/v1/<path>``; returns ``data``; raises RuntimeError with Prometheus's error."""
        query = urllib.parse.urlencode(params or {})
        url = f"{self.url}/api/v1/{path}" + (f"?{query}" if query else "")
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as resp:
                body = json.load(resp)
        except urllib.error.HTTPError as exc:
            body = json.loads(exc.read() or b"{}")
        if body.get("status") != "success":
            raise RuntimeError(f"{path}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict]:
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self.api("query", params)["result"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict]:
        params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        return self.api("query_range", params)["result"]

    def wait_until(self, predicate, timeout_s: float, poll_s: float = 0.5) -> bool:
        """Poll ``predicate(self)`` until true or ``timeout_s`` passes; returns the last answer."""
        deadline = time.monotonic() + timeout_s
        while True:
            if predicate(self):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll_s)


class PrometheusServer(PrometheusClient):
    """One Prometheus process on 127.0.0.1 scraping ``targets`` and evaluating ``rule_files``.

    ``with PrometheusServer(targets) as prom: prom.query("up")``. Everything it waits for
    is bounded; ``stop()`` is idempotent.
    """

    def __init__(
        self,
        targets: list[ScrapeTarget],
        data_dir: Path | None = None,
        rule_files: tuple[Path, ...] | list[Path] = RULE_FILES,
        interval: str = "1s",
        port: int = 0,
        binary: str | None = None,
    ) -> None:
        self.targets = list(targets)
        self.rule_files = tuple(rule_files)
        self.interval = interval
        self.port = port
        self.binary = binary
        self._tmp: tempfile.TemporaryDirectory | None = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="streamload-prometheus-")
            data_dir = Path(self._tmp.name)
        self.data_dir = Path(data_dir)
        self.config_path = self.data_dir / "prometheus.yml"
        self.log_path = self.data_dir / "prometheus.log"
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = READY_TIMEOUT_S) -> "PrometheusServer":
        binary = self.binary or find_binary("prometheus")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(render_config(self.targets, self.rule_files, self.interval))
        chosen_by_us = not self.port
        for _ in range(3):  # a free port can be taken between probing and binding
            self.port = free_port() if chosen_by_us else self.port
            argv = [
                binary,
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self.data_dir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=7d",
                "--log.level=warn",
            ]
            with self.log_path.open("ab") as log:
                self._proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL,
                                              # A crashed test or a killed demo must not leave Prometheus running.
                                              preexec_fn=die_with_parent_hook())
            if self._wait_ready(timeout_s):
                return self
            self.stop()
            if not (chosen_by_us and "address already in use" in self._log_tail()):
                break
        raise PrometheusUnavailable(f"prometheus did not become ready: {self._log_tail() or 'no log output'}")

    def _wait_ready(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as resp:
                    if resp.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        return False

    def _log_tail(self) -> str:
        lines = log_lines(self.log_path)
        return lines[-1] if lines else ""

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            stop_process(proc, timeout_s=10)

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "PrometheusServer":
        return self.start() if self._proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def prometheus_for_run(cfg, data_dir: Path | None = None) -> Iterator[PrometheusServer]:
    """A Prometheus scraping the producer and Locust of the run ``cfg`` describes.

    Gives the producer and Locust fixed free metrics ports when the config says 0 (the
    demo's "no exporter" default), so there is something to scrape. ``cfg`` is a
    ``StreamloadConfig``; its ports are changed in place.
    """
    if not cfg.producer.metrics_port:
        cfg.producer.metrics_port = free_port()
    if not cfg.load.metrics_port:
        cfg.load.metrics_port = free_port()
    targets = [  # producer process k (``processes``) serves port + k
        *(ScrapeTarget("streamload-producer", f"127.0.0.1:{cfg.producer.metrics_port + k}")
          for k in range(cfg.producer.processes)),
        ScrapeTarget("streamload-loadtest", f"127.0.0.1:{cfg.load.metrics_port}"),
    ]
    server = PrometheusServer(targets, data_dir=data_dir)
    try:
        yield server.start()
    finally:
        server.close()
