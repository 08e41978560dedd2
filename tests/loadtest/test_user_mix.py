"""The one rule for which Locust users a run starts: config validation, ``locust -u`` and the
locustfile all read ``planned_users``."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from streamload.core.config import load_config
from streamload.core.runplan import RUN_FILE_ENV, RunPlan
from streamload.core.user_mix import planned_users
from streamload.locust_runner import start_locust
from streamload.run import _plan_config

ROOT = Path(__file__).resolve().parents[2]


def _cfg(load=None, personas=None):
    return load_config(None, {"load": {"metrics_port": 0, **(load or {})}, "personas": personas or {}}, environ={})


class _RecordingChildren:
    """Takes ``start_locust``'s processes instead of starting them."""

    def __init__(self) -> None:
        self.started: list[tuple[str, list[str]]] = []

    def start(self, name, argv, env):
        self.started.append((name, argv))
        return name


def test_planned_users_are_refresh_query_probe_when_config_is_default():
    mix = planned_users(_cfg())
    assert mix.closed == {"refresh": 1, "query": 2, "probe": 1} and mix.open == ()
    assert mix.total == 4


def test_refresh_users_are_left_out_when_the_view_refreshes_itself():
    mix = planned_users(_cfg({"refresh_mode": "auto", "refresh_users": 3}))
    assert "refresh" not in mix.closed and mix.total == 3


def test_query_classes_become_arrivals_not_users_when_query_model_is_open():
    cfg = _cfg({"query_model": "open", "query_users": 5}, {"enabled": True, "users_per_persona": 2})
    mix = planned_users(cfg)
    assert mix.closed == {"refresh": 1, "probe": 1}
    assert mix.open == ("query", *(f"persona-{p.name}" for p in cfg.personas.all_personas))
    assert mix.total == 2  # query_users does not count: arrivals are not Locust users


def test_each_persona_is_a_closed_user_class_when_personas_are_enabled():
    cfg = _cfg(personas={"enabled": True, "users_per_persona": 3})
    mix = planned_users(cfg)
    personas = {f"persona-{p.name}" for p in cfg.personas.all_personas}
    assert {name: mix.closed[name] for name in personas} == dict.fromkeys(personas, 3)
    assert mix.total == 4 + 3 * len(personas)


def test_personas_add_no_user_when_users_per_persona_is_zero():
    assert planned_users(_cfg(personas={"enabled": True, "users_per_persona": 0})) == planned_users(_cfg())


def test_locust_is_started_with_the_planned_users_when_queries_are_open_model(tmp_path):
    cfg = _cfg({"query_model": "open", "query_users": 5})
    children = _RecordingChildren()
    start_locust(children, cfg, tmp_path / "locust", {})
    argv = children.started[0][1]
    assert argv[argv.index("-u") + 1] == argv[argv.index("-r") + 1] == "2"  # refresh + probe, not 5 queries


_LOCUSTFILE_PROBE = """
import loadtest.locustfile as lf
from locust import User, events
from locust.env import Environment
bound = {n: v.fixed_count for n, v in vars(lf).items() if isinstance(v, type) and issubclass(v, User) and not v.abstract}
environment = Environment(events=events)
events.init.fire(environment=environment, runner=None, web_ui=None)
print(sorted(bound.items()))
print(sorted(environment.streamload.open_classes), environment.streamload.mix.total)
"""


@pytest.mark.parametrize("model", ["closed", "open"])
def test_locustfile_binds_exactly_the_planned_users_when_loaded(tmp_path, model):
    cfg = _cfg({"query_model": model, "query_users": 3}, {"enabled": True, "users_per_persona": 1,
                                                          "personas": [], "extra": [
                                                              {"name": "olga", "email": "olga@example.com",
                                                               "groups": ["emea-sales"],
                                                               "allowed_regions": ["EMEA"]}]})
    RunPlan(run_id="r", started_at=0.0, config=_plan_config(cfg)).write(tmp_path / "plan.json")
    proc = subprocess.run([sys.executable, "-c", _LOCUSTFILE_PROBE], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ, RUN_FILE_ENV: str(tmp_path / "plan.json")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    bound, arrivals = proc.stdout.splitlines()[:2]
    if model == "closed":
        assert bound == str([("PersonaQueryUser_olga", 1), ("ProbeUser", 1), ("QueryUser", 3), ("RefreshUser", 1)])
        assert arrivals == "[] 6"
    else:
        assert bound == str([("ProbeUser", 1), ("RefreshUser", 1)])
        assert arrivals == "['persona-olga', 'query'] 2"
