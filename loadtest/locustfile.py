"""Locust entry point for streamload runs: ``locust -f loadtest/locustfile.py``.

Started by ``streamload demo``/``run`` with ``STREAMLOAD_RUN_FILE`` naming the run plan;
the users it exposes (and how many of each) come from that plan: refresh, query and probe
users, plus one ``PersonaQueryUser`` class per persona when ``[personas] enabled``.
"""
import locust  # noqa: F401  (first: gevent monkey-patching precedes boto3)

from loadtest.personas import PersonasConfig, init_rls_series, persona_user_classes
from loadtest.users import active_user_classes
from streamload.core.runplan import RunPlan

_plan = RunPlan.from_env()
init_rls_series(PersonasConfig.model_validate(_plan.config.get("personas") or {}))
# Locust collects every User class bound in this module, so bind each active one once.
# Persona classes go through active_user_classes too: in an open-model run they become
# arrivals at the configured rate like the other query classes.
globals().update({cls.__name__: cls for cls in active_user_classes(_plan, persona_user_classes(_plan))})
