"""Locust entry point for streamload runs: ``locust -f loadtest/locustfile.py``.

Started by ``streamload demo``/``run`` with ``STREAMLOAD_RUN_FILE`` naming the run plan.
Which users run, and how many of each, is the plan's ``UserMix``
(``streamload/core/user_mix.py``, the rule the orchestrator's ``-u`` also comes from): this
file maps its names to classes -- refresh, query and probe users, plus one
``PersonaQueryUser_<name>`` class per persona when ``[personas] enabled`` -- and binds the
closed-model ones, which Locust collects from this module. In an open-model run the query
classes are arrivals started by ``loadtest/users.py`` instead.
"""
import locust  # noqa: F401  (first: gevent monkey-patching precedes boto3)
from locust import events

from loadtest import persona_users, users
from loadtest.personas import init_rls_series
from streamload.core.runplan import RunPlan
from streamload.core.user_mix import UserMix, planned_users

_plan = RunPlan.from_env()
_settings = _plan.settings
_mix = planned_users(_settings)
_classes = {**users.user_classes(), **persona_users.persona_user_classes(_settings.personas)}
init_rls_series(_settings.personas)


def _closed_users(mix: UserMix, classes: dict[str, type]) -> dict[str, type]:
    """The mix's Locust users by class name, each with its fixed count. Classes not in the
    mix are never bound here (a bound class with ``fixed_count`` 0 would run by weight)."""
    for name, count in mix.closed.items():
        classes[name].fixed_count = count
    return {classes[name].__name__: classes[name] for name in mix.closed}


globals().update(_closed_users(_mix, _classes))


@events.init.add_listener
def _on_init(environment, **_kw) -> None:
    users.start_load_process(environment, _plan, {name: _classes[name] for name in _mix.open})
