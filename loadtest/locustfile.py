"""Locust entry point for streamload runs: ``locust -f loadtest/locustfile.py``.

Started by ``streamload demo``/``run`` with ``STREAMLOAD_RUN_FILE`` naming the run plan;
the users it exposes (and how many of each) come from that plan.
"""
import locust  # noqa: F401  (first: gevent monkey-patching precedes boto3)

from loadtest.users import active_user_classes
from streamload.runplan import RunPlan

# Locust collects every User class bound in this module, so bind each active one once.
globals().update({cls.__name__: cls for cls in active_user_classes(RunPlan.from_env())})
