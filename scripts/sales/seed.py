"""Create the sales table, roles and policies, and load N sales rows, through the Data API.

    python scripts/sales/seed.py --endpoint-url http://127.0.0.1:4568 --rows 2000
    python scripts/sales/seed.py --workgroup my-workgroup --rows 2000 --skip-setup   # AWS

Runs as whoever the credentials say (the local stack's keys are the admin); the persona
sessions only read. Rows follow the producer's ``sales`` schema (region AMER/EMEA/APAC,
country, product, quantity, unit_price, amount, sold_at) and are deterministic per seed.
Exit codes: 0 done, 1 a statement failed, 2 usage, 3 the Data API could not be reached.
"""
from __future__ import annotations

import argparse
import random
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from botocore.exceptions import EndpointConnectionError  # noqa: E402

from loadtest.client import DataApiClient, StatementError, make_boto3_client  # noqa: E402
from streamload.config import RedshiftConfig, TargetConfig  # noqa: E402

__all__ = ["SETUP_SQL", "COUNTRIES", "sales_rows", "setup_statements", "apply_setup", "load_sales", "insert_sql"]

SETUP_SQL = Path(__file__).with_name("setup_local.sql")
COUNTRIES = {
    "AMER": ("US", "CA", "MX", "BR", "AR"),
    "EMEA": ("DE", "FR", "GB", "ES", "ZA"),
    "APAC": ("JP", "IN", "AU", "SG", "KR"),
}
PRODUCTS = {"widget": 19.99, "gadget": 49.50, "gizmo": 7.25, "sprocket": 3.10, "doohickey": 120.00}
# Rows per INSERT: ~90 bytes each keeps a statement far below the Data API's 100 KB.
BATCH_ROWS = 500
# Statements whose failure only means an earlier run already did them.
_ALREADY_DONE = re.compile(r"already exists|already attached|duplicate", re.IGNORECASE)


def sales_rows(count: int, seed: int = 7, start: datetime | None = None) -> Iterator[dict[str, Any]]:
    """``count`` sales, round-robin over regions so every region has rows."""
    rng = random.Random(seed)
    start = start or datetime(2024, 1, 1, tzinfo=timezone.utc)
    regions = list(COUNTRIES)
    for i in range(count):
        region = regions[i % len(regions)]
        product, unit_price = rng.choice(list(PRODUCTS.items()))
        quantity = rng.randint(1, 20)
        yield {
            "region": region, "country": rng.choice(COUNTRIES[region]), "product": product,
            "quantity": quantity, "unit_price": unit_price, "amount": round(unit_price * quantity, 2),
            "sold_at": (start + timedelta(seconds=37 * i)).strftime("%Y-%m-%d %H:%M:%S"),
        }


def insert_sql(rows: list[dict[str, Any]], table: str = "sales") -> str:
    values = ",\n".join(
        f"('{r['region']}', '{r['country']}', '{r['product']}', {r['quantity']}, {r['unit_price']:.2f}, "
        f"{r['amount']:.2f}, '{r['sold_at']}')" for r in rows)
    return (f"INSERT INTO {table} (region, country, product, quantity, unit_price, amount, sold_at) VALUES\n"
            f"{values}")


def setup_statements(sql_text: str) -> list[str]:
    """The statements of a SQL file: comments dropped, split on ``;`` outside quotes."""
    text = "\n".join(line for line in sql_text.splitlines() if not line.lstrip().startswith("--"))
    statements, current, quote = [], [], None
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in ("'", '"'):
            quote = ch
        elif ch == ";":
            statements.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    statements.append("".join(current).strip())
    return [s for s in statements if s]


def apply_setup(client: DataApiClient, sql_text: str | None = None) -> int:
    """Run the set-up SQL; statements an earlier run already did are skipped. Returns how many ran."""
    ran = 0
    for statement in setup_statements(sql_text if sql_text is not None else SETUP_SQL.read_text()):
        try:
            client.execute(statement, "sales-setup", fetch=False)
            ran += 1
        except StatementError as exc:
            if not _ALREADY_DONE.search(str(exc)):
                raise StatementError(f"{exc} (in: {statement.splitlines()[0]})") from None
    return ran


def load_sales(client: DataApiClient, count: int, seed: int = 7, table: str = "sales") -> dict[str, int]:
    """Insert ``count`` rows; returns rows per region (what each persona should see)."""
    per_region: dict[str, int] = {}
    batch: list[dict[str, Any]] = []
    for row in sales_rows(count, seed):
        per_region[row["region"]] = per_region.get(row["region"], 0) + 1
        batch.append(row)
        if len(batch) == BATCH_ROWS:
            client.execute(insert_sql(batch, table), "sales-load", fetch=False)
            batch = []
    if batch:
        client.execute(insert_sql(batch, table), "sales-load", fetch=False)
    return per_region


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/sales/seed.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint-url", help="Data API endpoint (the local stack); unset = AWS")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--database", default="dev")
    parser.add_argument("--workgroup", help="Redshift Serverless workgroup")
    parser.add_argument("--cluster", help="provisioned cluster identifier")
    parser.add_argument("--db-user", help="database user for a provisioned cluster (temporary credentials)")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-setup", action="store_true", help="only load rows")
    args = parser.parse_args(argv)
    if args.rows < 0:
        parser.error("--rows must be >= 0")
    if args.workgroup and args.cluster:
        parser.error("give --workgroup or --cluster, not both")
    target = TargetConfig(region=args.region, redshift_data_endpoint_url=args.endpoint_url,
                          **({"access_key_id": "streamload-local", "secret_access_key": "streamload-local"}
                             if args.endpoint_url else {}))  # the local stack's own keys, local only
    redshift = RedshiftConfig(database=args.database, workgroup_name=args.workgroup,
                              cluster_identifier=args.cluster, db_user=args.db_user)
    client = DataApiClient(make_boto3_client(target), redshift)
    try:
        if not args.skip_setup:
            print(f"set-up: {apply_setup(client)} statements")
        per_region = load_sales(client, args.rows, args.seed)
    except EndpointConnectionError as exc:
        print(f"cannot reach the Data API: {exc}", file=sys.stderr)
        return 3
    except StatementError as exc:
        print(f"statement failed: {exc}", file=sys.stderr)
        return 1
    print("loaded " + " ".join(f"{region}={n}" for region, n in sorted(per_region.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
