"""Publishing the producer's compact ledger to the run's ledger table (``[redshift]
ledger_table``) through the Data API, every ``every_s`` seconds and once at the end, so the
audit of a run spread over machines needs no shared volume
(``streamload.dataapi.ledger_table``).

The table and the warehouse come from the run file (``STREAMLOAD_RUN_FILE``) that
``streamload run``/``plan`` writes; credentials from the standard AWS chain. A publish that
fails is logged and tried again next time: the ledger file stays the producer's own record.
"""
from __future__ import annotations

import asyncio
import logging

from botocore.exceptions import BotoCoreError, ClientError

from streamload.core.config import ConfigError
from streamload.core.ledger import LedgerWriter
from streamload.core.runplan import RUN_FILE_ENV, RunPlan
from streamload.dataapi.client import DataApiClient, StatementError, make_boto3_client
from streamload.dataapi.ledger_table import LedgerTable

__all__ = ["LedgerPublisher", "ledger_table_from_run_file"]

log = logging.getLogger("producer.ledger")
PUBLISH_EVERY_S = 10.0


def run_plan_from_env() -> RunPlan | None:
    """The run plan of `streamload run`/`plan` that started this producer, if any; a plan that
    cannot be read is logged and ignored (the producer runs on, as if started by hand)."""
    try:
        return RunPlan.named_in_env()
    except ConfigError as exc:
        log.warning("ignoring %s: %s", RUN_FILE_ENV, exc)
        return None


def ledger_table_from_run_file() -> LedgerTable | None:
    """The run's ledger table, if the run file names one."""
    plan = run_plan_from_env()
    if plan is None:
        return None
    cfg = plan.settings
    if not cfg.redshift.ledger_table:
        return None
    client = DataApiClient(make_boto3_client(cfg.target, max_pool_connections=2), cfg.redshift,
                           timeout_s=cfg.load.statement_timeout_s)
    return LedgerTable(client, cfg.redshift.ledger_table)


class LedgerPublisher:
    """Publishes ``writer``'s ledger to ``table`` now and then, and once more at the end."""

    def __init__(self, writer: LedgerWriter, table: LedgerTable, every_s: float = PUBLISH_EVERY_S) -> None:
        self.writer = writer
        self.table = table
        self.every_s = every_s
        self.published = 0

    async def publish(self) -> bool:
        document = self.writer.state.to_json()  # taken on the loop that changes the ledger
        try:
            await asyncio.to_thread(self.table.publish_document, document)
        except (StatementError, ClientError, BotoCoreError) as exc:
            log.warning("could not publish the ledger to %s: %s", self.table.table, str(exc).splitlines()[0])
            return False
        self.published += 1
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """A background job: publish every ``every_s`` until ``stop`` is set."""
        while True:
            try:
                await asyncio.wait_for(stop.wait(), self.every_s)
                return
            except asyncio.TimeoutError:
                await self.publish()
