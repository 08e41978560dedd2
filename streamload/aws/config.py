"""``AwsProvisionConfig``: the ``[aws]`` section that drives provision, preflight, teardown
and the cost estimate.

The model lives in ``streamload.core.aws_config`` (the config layer loads it without
importing this package); this module adds the tags provision and teardown agree on.
"""
from __future__ import annotations

from streamload.core.aws_config import AwsProvisionConfig

__all__ = ["AwsProvisionConfig", "RUN_ID_TAG", "ATTACHED_TAG", "SQL_TAG"]

# Every resource provision creates carries this tag; teardown deletes by it and only by it.
RUN_ID_TAG = "streamload:run-id"
# Recorded on RedshiftStreamRole so teardown undoes only what provision itself did there:
# the warehouse attachment and the SQL objects it created (not ones that already existed).
ATTACHED_TAG = "streamload:attached-to"
SQL_TAG = "streamload:sql-objects"
