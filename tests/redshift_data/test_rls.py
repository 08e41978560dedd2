"""Row-level security through the Data API: callers mapped to AWSIDC:/IAMR: users (docs/identity.md)."""
from __future__ import annotations

import uuid

import boto3
import pytest

from emulator.identity.registry import CallerIdentity, IdentityRegistry
from emulator.redshift_data import RedshiftDataSettings, create_app
from emulator.runtime import BackgroundServer

from .conftest import run_sql

SALES = [("AMER", "US", 50), ("AMER", "CA", 500), ("EMEA", "DE", 70), ("EMEA", "FR", 700), ("APAC", "JP", 90)]


@pytest.fixture(scope="module")
def registry():
    return IdentityRegistry()


@pytest.fixture(scope="module")
def rls_url(postgres, registry):
    settings = RedshiftDataSettings(pg_dsn=postgres.dsn, auto_refresh_interval_s=0, identity_registry=registry)
    with BackgroundServer(lambda: create_app(settings)) as server:
        yield server.url


@pytest.fixture
def tag():
    return uuid.uuid4().hex[:8]  # roles are cluster-wide: every test gets its own group names


def client_for(url: str, registry: IdentityRegistry, email: str | None, groups: tuple[str, ...] = (),
               role_name: str | None = None):
    key = f"ASIA{uuid.uuid4().hex[:16].upper()}"
    registry.register(CallerIdentity(access_key_id=key, account_id="123456789012",
                                     arn=f"arn:aws:sts::123456789012:assumed-role/{role_name or 'app'}/s",
                                     role_name=role_name or "app", user_email=email, groups=groups),
                      "secret", "token")
    return boto3.client("redshift-data", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key="secret", aws_session_token="token")


def admin_for(url: str):
    return boto3.client("redshift-data", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="streamload-local", aws_secret_access_key="streamload-local")


def rows(client, sql: str, database: str) -> list[tuple]:
    described = run_sql(client, sql, database=database)
    assert described["Status"] == "FINISHED", described.get("Error")
    records = client.get_statement_result(Id=described["Id"])["Records"]
    return sorted(tuple(next(iter(f.values())) for f in r) for r in records)


def setup_sales(admin, database: str, tag: str) -> None:
    values = ", ".join(f"('{r}', '{c}', {a})" for r, c, a in SALES)
    script = f"""CREATE TABLE sales (region VARCHAR(8), country VARCHAR(32), amount INT);
    INSERT INTO sales VALUES {values};
    CREATE ROLE "AWSIDC:amer-{tag}"; CREATE ROLE "AWSIDC:exec-{tag}"; CREATE ROLE "AWSIDC:big-{tag}";
    GRANT SELECT ON sales TO PUBLIC;
    CREATE RLS POLICY amer_{tag} WITH (region VARCHAR(8)) USING (region = 'AMER');
    CREATE RLS POLICY all_{tag} WITH (region VARCHAR(8)) USING (true);
    CREATE RLS POLICY big_{tag} WITH (amount INT) AS s USING (s.amount > 100);
    ATTACH RLS POLICY amer_{tag} ON sales TO ROLE "AWSIDC:amer-{tag}";
    ATTACH RLS POLICY all_{tag} ON sales TO ROLE "AWSIDC:exec-{tag}";
    ATTACH RLS POLICY big_{tag} ON sales TO ROLE "AWSIDC:big-{tag}";
    ALTER TABLE sales ROW LEVEL SECURITY ON"""
    described = run_sql(admin, script, database=database)
    assert described["Status"] == "FINISHED", described.get("Error")


def test_frank_sees_only_amer_rows_when_policy_attached_to_his_group(rls_url, registry, fresh_database, tag):
    setup_sales(admin_for(rls_url), fresh_database, tag)
    frank = client_for(rls_url, registry, f"frank-{tag}@example.com", (f"amer-{tag}",))
    assert rows(frank, "SELECT region, country FROM sales", fresh_database) == [("AMER", "CA"), ("AMER", "US")]
    assert rows(frank, "SELECT current_user", fresh_database) == [(f"AWSIDC:frank-{tag}@example.com",)]


def test_ethan_sees_every_row_when_policy_is_using_true(rls_url, registry, fresh_database, tag):
    setup_sales(admin_for(rls_url), fresh_database, tag)
    ethan = client_for(rls_url, registry, f"ethan-{tag}@example.com", (f"exec-{tag}",))
    assert len(rows(ethan, "SELECT region, country FROM sales", fresh_database)) == len(SALES)


def test_user_sees_no_rows_when_no_policy_applies(rls_url, registry, fresh_database, tag):
    setup_sales(admin_for(rls_url), fresh_database, tag)
    nobody = client_for(rls_url, registry, f"nobody-{tag}@example.com", (f"other-{tag}",))
    assert rows(nobody, "SELECT region FROM sales", fresh_database) == []
    assert rows(admin_for(rls_url), "SELECT count(*) FROM sales", fresh_database) == [(len(SALES),)]


def test_policies_combine_with_and_when_user_has_two_groups(rls_url, registry, fresh_database, tag):
    setup_sales(admin_for(rls_url), fresh_database, tag)
    both = client_for(rls_url, registry, f"bo-{tag}@example.com", (f"amer-{tag}", f"big-{tag}"))
    assert rows(both, "SELECT country FROM sales", fresh_database) == [("CA",)]


def test_policies_combine_with_or_when_conjunction_type_or(rls_url, registry, fresh_database, tag):
    admin = admin_for(rls_url)
    setup_sales(admin, fresh_database, tag)
    assert run_sql(admin, "ALTER TABLE sales ROW LEVEL SECURITY ON CONJUNCTION TYPE OR",
                   database=fresh_database)["Status"] == "FINISHED"
    both = client_for(rls_url, registry, f"bo-{tag}@example.com", (f"amer-{tag}", f"big-{tag}"))
    assert rows(both, "SELECT country FROM sales", fresh_database) == [("CA",), ("FR",), ("US",)]


def test_mapped_user_cannot_escape_rls_when_resetting_role(rls_url, registry, fresh_database, tag):
    setup_sales(admin_for(rls_url), fresh_database, tag)
    frank = client_for(rls_url, registry, f"frank-{tag}@example.com", (f"amer-{tag}",))
    assert rows(frank, "RESET ROLE; SET SESSION AUTHORIZATION DEFAULT; SELECT region FROM sales",
                fresh_database) == [("AMER",), ("AMER",)]
    escaped = run_sql(frank, "SELECT set_config('role', 'postgres', false)", database=fresh_database)
    assert escaped["Status"] == "FAILED" and "permission denied" in escaped["Error"]


def test_detach_removes_rows_when_policy_detached(rls_url, registry, fresh_database, tag):
    admin = admin_for(rls_url)
    setup_sales(admin, fresh_database, tag)
    frank = client_for(rls_url, registry, f"frank-{tag}@example.com", (f"amer-{tag}",))
    run_sql(admin, f'DETACH RLS POLICY amer_{tag} ON sales FROM ROLE "AWSIDC:amer-{tag}"', database=fresh_database)
    assert rows(frank, "SELECT region FROM sales", fresh_database) == []


def test_grant_role_gives_user_the_roles_rows_when_granted_explicitly(rls_url, registry, fresh_database, tag):
    admin = admin_for(rls_url)
    setup_sales(admin, fresh_database, tag)
    granted = run_sql(admin, f'GRANT ROLE "AWSIDC:amer-{tag}" TO "AWSIDC:gina-{tag}@example.com"',
                      database=fresh_database)
    assert granted["Status"] == "FINISHED", granted.get("Error")
    gina = client_for(rls_url, registry, f"gina-{tag}@example.com", ())
    assert rows(gina, "SELECT region FROM sales", fresh_database) == [("AMER",), ("AMER",)]


def test_column_grant_denies_other_columns_when_granted_per_column(rls_url, registry, fresh_database, tag):
    admin = admin_for(rls_url)
    run_sql(admin, f"""CREATE TABLE secrets (region VARCHAR(8), salary INT);
        CREATE ROLE "AWSIDC:col-{tag}";
        GRANT SELECT (region) ON secrets TO ROLE "AWSIDC:col-{tag}";""", database=fresh_database)
    user = client_for(rls_url, registry, f"c-{tag}@example.com", (f"col-{tag}",))
    assert run_sql(user, "SELECT region FROM secrets", database=fresh_database)["Status"] == "FINISHED"
    denied = run_sql(user, "SELECT salary FROM secrets", database=fresh_database)
    assert denied["Status"] == "FAILED" and "permission denied" in denied["Error"]


def test_iam_role_caller_maps_to_iamr_user_when_not_identity_enhanced(rls_url, registry, fresh_database):
    caller = client_for(rls_url, registry, None, (), role_name="LoadTestRole")
    assert rows(caller, "SELECT current_user", fresh_database) == [("IAMR:LoadTestRole",)]


def test_rls_commands_fail_clearly_when_policy_unknown(rls_url, fresh_database):
    admin = admin_for(rls_url)
    run_sql(admin, "CREATE TABLE t (region VARCHAR(8))", database=fresh_database)
    failed = run_sql(admin, "ATTACH RLS POLICY nope ON t TO PUBLIC", database=fresh_database)
    assert failed["Status"] == "FAILED" and 'Policy "nope" does not exist' in failed["Error"]
