"""Where the generated dashboards and rule files live (no grafanalib needed to find them:
`streamload demo --prometheus` loads the rules with a plain install)."""
from __future__ import annotations

from pathlib import Path

__all__ = ["HERE", "DASHBOARD_DIR", "PROMETHEUS_DIR", "RULE_FILES"]

HERE = Path(__file__).resolve().parent
DASHBOARD_DIR = HERE / "grafana"
PROMETHEUS_DIR = HERE / "prometheus"
RULE_FILES = (PROMETHEUS_DIR / "recording-rules.yml", PROMETHEUS_DIR / "alert-rules.yml")
