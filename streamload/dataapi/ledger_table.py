"""Compact ledgers published to a warehouse table, so a run spread over machines is audited
without a shared volume: each producer writes its ledger through the Data API every few
seconds and at the end; ``streamload audit --plan`` and the probe read them back.

The table (created on first use)::

    CREATE TABLE <table> (run_id VARCHAR(64), producer_id VARCHAR(256), version BIGINT,
                          part INT, parts INT, published_at TIMESTAMP, body VARCHAR(60000))

A ledger is zlib-compressed, base64-encoded (no quoting or escaping questions in SQL) and
split into parts of at most 60,000 characters, one row each, under a new ``version`` (the
publish time in ms). A reader takes, per producer, the newest version whose parts are all
there, so a publish that died halfway is never read; older versions are deleted once a newer
one is complete. A ledger holds ranges, so it is a few kB whatever the number of records.
"""
from __future__ import annotations

import base64
import time
import zlib

import orjson

from streamload.core.audit_sql import sql_literal
from streamload.core.ledger import ProducerLedger
from streamload.dataapi.client import DataApiClient, StatementError

__all__ = ["PART_CHARS", "LedgerTable"]

PART_CHARS = 60_000  # under Redshift's VARCHAR(65535) and the Data API's 100 kB Sql limit


class LedgerTable:
    """One table of published ledgers, reached through ``client``."""

    def __init__(self, client: DataApiClient, table: str) -> None:
        self.client = client
        self.table = table
        self._created = False

    def create(self) -> None:
        if self._created:
            return
        try:
            self.client.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (run_id VARCHAR(64), producer_id VARCHAR(256), "
                "version BIGINT, part INT, parts INT, published_at TIMESTAMP, body VARCHAR(60000))", "ledger")
        except StatementError as exc:
            if "already exists" not in str(exc):
                raise
        self._created = True

    def publish(self, ledger: ProducerLedger) -> int:
        """Write ``ledger`` as a new version; returns the number of parts."""
        return self.publish_document(ledger.to_json())

    def publish_document(self, document: dict) -> int:
        """``publish`` of a ledger already turned to JSON (``ProducerLedger.to_json``), e.g. taken
        on the thread that owns the ledger and written from another."""
        self.create()
        text = base64.b64encode(zlib.compress(orjson.dumps(document), 6)).decode()
        parts = [text[i:i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]
        version = int(time.time() * 1000)
        run, producer = sql_literal(document["run_id"]), sql_literal(document["producer_id"])
        for index, body in enumerate(parts):
            self.client.execute(
                f"INSERT INTO {self.table} VALUES ({run}, {producer}, {version}, {index}, {len(parts)}, "
                f"GETDATE(), '{body}')", "ledger")
        self.client.execute(f"DELETE FROM {self.table} WHERE run_id = {run} AND producer_id = {producer} "
                            f"AND version < {version}", "ledger")
        return len(parts)

    def read(self, run_id: str) -> dict[str, ProducerLedger]:
        """Every producer's newest complete ledger of ``run_id``."""
        self.create()
        rows = self.client.execute(
            f"SELECT producer_id, version, part, parts, body FROM {self.table} WHERE run_id = {sql_literal(run_id)} "
            "ORDER BY producer_id, version DESC, part", "ledger").rows
        versions: dict[str, dict[int, dict[int, str]]] = {}
        expected: dict[tuple[str, int], int] = {}
        for producer, version, part, parts, body in rows:
            versions.setdefault(producer, {}).setdefault(int(version), {})[int(part)] = body
            expected[(producer, int(version))] = int(parts)
        out = {}
        for producer, by_version in versions.items():
            for version in sorted(by_version, reverse=True):
                parts = by_version[version]
                if len(parts) == expected[(producer, version)]:
                    text = "".join(parts[i] for i in range(len(parts)))
                    out[producer] = ProducerLedger.from_json(orjson.loads(zlib.decompress(base64.b64decode(text))))
                    break
        return out
