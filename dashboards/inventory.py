"""Every PromQL expression a user of the committed files will run, read back from the files.

Reading the committed JSON/YAML (not the Python specs) means a check covers exactly what a
team imports into Grafana and Prometheus.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from dashboards.files import DASHBOARD_DIR, RULE_FILES
from dashboards.promql import alert_rules

__all__ = ["Expression", "panel_expressions", "rule_expressions", "all_expressions", "for_instant_query",
           "metric_names"]


@dataclass(frozen=True)
class Expression:
    where: str  # "<dashboard> / <panel>" or "rule <name>"
    expr: str


def panel_expressions(folder: Path = DASHBOARD_DIR) -> list[Expression]:
    out = []
    for path in sorted(folder.glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                out.append(Expression(f"{board['title']} / {panel['title']} [{target['refId']}]", target["expr"]))
    return out


def rule_expressions(files: tuple[Path, ...] = RULE_FILES) -> list[Expression]:
    """Recording rules as written; alerts as their signal (the part that must have data)."""
    signals = {rule.name: rule.signal for rule in alert_rules()}
    out = []
    for path in files:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    q = rule.get("labels", {}).get("quantile")
                    name = rule["record"] + (f"{{quantile={q}}}" if q else "")
                    out.append(Expression(f"recording rule {name}", rule["expr"]))
                else:
                    # The generated file must still hold the signal: a hand edit would break this.
                    signal = signals.get(rule["alert"], "")
                    if not signal or not rule["expr"].startswith(signal):
                        raise ValueError(f"alert {rule['alert']} in {path.name} is not generated from promql.py")
                    out.append(Expression(f"alert {rule['alert']} (signal)", signal))
    return out


def all_expressions() -> list[Expression]:
    return panel_expressions() + rule_expressions()


def for_instant_query(expr: str, run_id: str = ".*", rate_window: str = "30s") -> str:
    """A panel expression with Grafana's variables replaced, runnable against Prometheus."""
    return (expr.replace("$__rate_interval", rate_window)
                .replace("$__interval", rate_window)
                .replace("$run_id", run_id))


_NAME = re.compile(r"\b(streamload_[a-z0-9_]+)")


def metric_names(expr: str) -> set[str]:
    """Exported metric names an expression reads (recorded ``run:`` series excluded)."""
    names = set()
    for match in _NAME.finditer(expr):
        start = match.start()
        if start > 0 and expr[start - 1] == ":":
            continue  # inside a recording rule name such as run:streamload_x:rate1m
        names.add(match.group(1))
    return names
