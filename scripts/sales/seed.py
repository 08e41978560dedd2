"""Create the sales table, roles and policies, and load N sales rows, through the Data API.

    python scripts/sales/seed.py --endpoint-url http://127.0.0.1:4568 --rows 2000
    python scripts/sales/seed.py --workgroup my-workgroup --rows 2000 --skip-setup   # AWS

Runs as whoever the credentials say (the local stack's keys are the admin); the persona
sessions only read. Rows (region AMER/EMEA/APAC, a country of that region, product, quantity,
unit_price, amount, sold_at) are deterministic per seed. The code lives in
``streamload/sales_setup.py``, which ``streamload run``/``demo`` also use when personas are on.
Exit codes: 0 done, 1 a statement failed, 2 usage, 3 the Data API could not be reached.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from botocore.exceptions import EndpointConnectionError  # noqa: E402

from streamload.dataapi.client import DataApiClient, make_boto3_client  # noqa: E402
from streamload.sales_setup import (COUNTRIES, SETUP_SQL, apply_setup, insert_sql, load_sales,  # noqa: E402,F401
                                  sales_rows, setup_statements)
from streamload.core.config import RedshiftConfig, TargetConfig  # noqa: E402
from streamload.core.errors import TargetUnreachable, reports_errors  # noqa: E402

__all__ = ["SETUP_SQL", "COUNTRIES", "sales_rows", "setup_statements", "apply_setup", "load_sales", "insert_sql"]


@reports_errors("scripts/sales/seed.py")
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
    try:  # a failed statement is a StatementError (exit 1), reported by reports_errors
        if not args.skip_setup:
            print(f"set-up: {apply_setup(client)} statements")
        per_region = load_sales(client, args.rows, args.seed)
    except EndpointConnectionError as exc:
        raise TargetUnreachable(f"cannot reach the Data API: {exc}") from None
    print("loaded " + " ".join(f"{region}={n}" for region, n in sorted(per_region.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
