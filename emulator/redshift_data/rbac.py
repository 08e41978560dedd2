"""Redshift RBAC and row-level security on PostgreSQL.

Redshift's RLS policy is a reusable object attached to (table, grantee) pairs; PostgreSQL's
policy belongs to one table. So Redshift's policies and attachments live in our catalog and
every change re-derives the table's PostgreSQL policies (``sync_table_policies``):

- ``CONJUNCTION TYPE AND`` (Redshift's default): one RESTRICTIVE policy per attached RLS
  policy, ``TO`` its grantees, plus one PERMISSIVE ``USING (true)`` base policy ``TO`` every
  grantee. PostgreSQL needs at least one permissive policy to show a row, so a user with no
  attached policy sees nothing, and several applicable policies AND together — Redshift's rule.
- ``CONJUNCTION TYPE OR``: one PERMISSIVE policy per attached RLS policy (they OR together).

Tables get ``FORCE ROW LEVEL SECURITY``; mapped users connect as their own non-superuser
login roles (see ``models``), so neither the superuser nor the owner bypass reaches them.
INSERT stays unrestricted, as in Redshift, through a permissive ``FOR INSERT`` policy.
"""
from __future__ import annotations

from dataclasses import dataclass

import psycopg
import sqlglot
from psycopg import sql
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from .translate import SqlTranslationError, _Tokens, schema_and_name, translate_expression

__all__ = ["RBAC_CATALOG_SQL", "CreateRlsPolicy", "DropRlsPolicy", "AttachRlsPolicy", "TableRowLevelSecurity",
           "GrantRole", "parse_rbac_statement", "RbacCatalog", "FEDERATED_PREFIXES", "ensure_role"]

CATALOG = "streamload_catalog"
POLICY_PREFIX = "rls:"  # names of the PostgreSQL policies this module owns
# Users and roles Redshift creates on first sign-in (Identity Center, IAM); created on demand here.
FEDERATED_PREFIXES = ("AWSIDC:", "IAMR:", "IAM:")

RBAC_CATALOG_SQL = f"""
CREATE TABLE IF NOT EXISTS {CATALOG}.rls_policies (
    policy_name text PRIMARY KEY, using_sql text NOT NULL, columns text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS {CATALOG}.rls_attachments (
    policy_name text NOT NULL REFERENCES {CATALOG}.rls_policies ON DELETE CASCADE,
    table_schema text NOT NULL, table_name text NOT NULL, grantee text NOT NULL,
    PRIMARY KEY (policy_name, table_schema, table_name, grantee));
CREATE TABLE IF NOT EXISTS {CATALOG}.rls_tables (
    table_schema text NOT NULL, table_name text NOT NULL, enabled boolean NOT NULL,
    conjunction text NOT NULL DEFAULT 'AND', PRIMARY KEY (table_schema, table_name));
"""


@dataclass(frozen=True)
class CreateRlsPolicy:
    name: str
    columns: tuple[str, ...]
    using_sql: str  # PostgreSQL predicate over the table's own (unqualified) columns


@dataclass(frozen=True)
class DropRlsPolicy:
    name: str
    if_exists: bool
    cascade: bool


@dataclass(frozen=True)
class AttachRlsPolicy:
    name: str
    tables: tuple[tuple[str, str], ...]
    grantees: tuple[str, ...]  # role or user names; "PUBLIC" for everyone
    attach: bool  # False: DETACH


@dataclass(frozen=True)
class TableRowLevelSecurity:
    table: tuple[str, str]
    enabled: bool
    conjunction: str | None


@dataclass(frozen=True)
class GrantRole:
    roles: tuple[str, ...]
    grantees: tuple[str, ...]
    grant: bool  # False: REVOKE
    admin_option: bool


def _single(tokens: _Tokens) -> str:
    name = tokens.name()
    if len(name) != 1:
        raise SqlTranslationError(f"name must not be qualified: {'.'.join(name)}")
    return name[0]


def _grantees(tokens: _Tokens) -> tuple[str, ...]:
    grantees = []
    while True:
        if tokens.accept("PUBLIC"):
            grantees.append("PUBLIC")
        else:
            tokens.accept("ROLE") or tokens.accept("USER") or tokens.accept("GROUP")
            grantees.append(_single(tokens))
        if not tokens.accept(","):
            return tuple(grantees)


def parse_rbac_statement(sql_text: str):
    """The RBAC/RLS command in ``sql_text``, or None when it is none of them."""
    tokens = _Tokens(sql_text)
    if tokens.accept("CREATE", "RLS", "POLICY"):
        return _parse_create_policy(tokens, sql_text)
    if tokens.accept("DROP", "RLS", "POLICY"):
        if_exists = tokens.accept("IF", "EXISTS")
        name = _single(tokens)
        cascade = tokens.accept("CASCADE")
        tokens.accept("RESTRICT")
        _expect_end(tokens)
        return DropRlsPolicy(name, if_exists, cascade)
    for verb, preposition in (("ATTACH", "TO"), ("DETACH", "FROM")):
        if tokens.accept(verb, "RLS", "POLICY"):
            name = _single(tokens)
            tokens.expect("ON")
            tokens.accept("TABLE")
            tables = [schema_and_name(tokens.name())]
            while tokens.accept(","):
                tables.append(schema_and_name(tokens.name()))
            tokens.expect(preposition)
            grantees = _grantees(tokens)
            _expect_end(tokens)
            return AttachRlsPolicy(name, tuple(tables), grantees, verb == "ATTACH")
    if tokens.accept("ALTER", "TABLE"):
        table = schema_and_name(tokens.name())
        if not tokens.accept("ROW", "LEVEL", "SECURITY"):
            return None
        enabled = tokens.accept("ON")
        if not enabled:
            tokens.expect("OFF")
        conjunction = None
        if tokens.accept("CONJUNCTION", "TYPE"):
            conjunction = tokens.peek_word()
            if conjunction not in ("AND", "OR"):
                raise SqlTranslationError(f'syntax error at or near "{conjunction or "end of input"}"')
            tokens.pos += 1
        if tokens.accept("FOR", "DATASHARES"):
            raise SqlTranslationError("not supported by the local stack: ROW LEVEL SECURITY FOR DATASHARES")
        _expect_end(tokens)
        return TableRowLevelSecurity(table, enabled, conjunction)
    for verb, preposition in (("GRANT", "TO"), ("REVOKE", "FROM")):
        if tokens.accept(verb, "ROLE"):
            roles = [_single(tokens)]
            while tokens.accept(","):
                roles.append(_single(tokens))
            admin = tokens.accept("WITH", "ADMIN", "OPTION")
            tokens.expect(preposition)
            grantees = _grantees(tokens)
            admin = admin or tokens.accept("WITH", "ADMIN", "OPTION")
            _expect_end(tokens)
            return GrantRole(tuple(roles), grantees, verb == "GRANT", admin)
    return None


def _expect_end(tokens: _Tokens) -> None:
    if not tokens.at_end():
        raise SqlTranslationError(f'syntax error at or near "{tokens.peek_word()}"')


def _parse_create_policy(tokens: _Tokens, sql_text: str) -> CreateRlsPolicy:
    name = _single(tokens)
    columns: list[str] = []
    alias = None
    if tokens.accept("WITH"):
        tokens.expect("(")
        depth = 1
        expect_name = True
        while depth:  # column names; their types only matter to Redshift's attach-time check
            if tokens.at_end():
                raise SqlTranslationError("syntax error at end of input")
            word = tokens.peek_word()
            if word == "(":
                depth += 1
            elif word == ")":
                depth -= 1
            elif word == "," and depth == 1:
                expect_name = True
                tokens.pos += 1
                continue
            if expect_name and depth == 1 and word not in ("(", ")"):
                columns.append(_single(tokens))
                expect_name = False
                continue
            tokens.pos += 1
        tokens.accept("AS")
        if tokens.peek_word() != "USING":
            alias = _single(tokens)
    tokens.expect("USING")
    predicate = tokens.rest().strip()
    if not (predicate.startswith("(") and predicate.endswith(")")):
        raise SqlTranslationError("syntax error: USING needs a parenthesised predicate")
    try:
        tree = sqlglot.parse_one(predicate, read="redshift")
    except (ParseError, TokenError) as exc:
        raise SqlTranslationError(f"syntax error in RLS predicate: {str(exc).splitlines()[0]}") from None
    if alias:  # the alias names the table the policy is attached to; PostgreSQL needs bare columns
        for column in tree.find_all(exp.Column):
            if column.table and column.table.lower() == alias.lower():
                column.set("table", None)
    return CreateRlsPolicy(name, tuple(columns), translate_expression(tree))


def _role_exists_sql() -> str:
    return "SELECT 1 FROM pg_roles WHERE rolname = %s"


async def ensure_role(conn: psycopg.AsyncConnection, name: str, login: bool = False) -> None:
    """Create role ``name`` unless it exists (PostgreSQL roles are cluster-wide)."""
    if await (await conn.execute(_role_exists_sql(), (name,))).fetchone():
        if login:
            await conn.execute(sql.SQL("ALTER ROLE {} LOGIN").format(sql.Identifier(name)))
        return
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(872342)")  # concurrent creators
            if not await (await conn.execute(_role_exists_sql(), (name,))).fetchone():
                await conn.execute(sql.SQL("CREATE ROLE {} " + ("LOGIN" if login else "NOLOGIN"))
                                   .format(sql.Identifier(name)))
            elif login:
                await conn.execute(sql.SQL("ALTER ROLE {} LOGIN").format(sql.Identifier(name)))
    except psycopg.errors.DuplicateObject:
        pass


class RbacCatalog:
    """Runs the RBAC/RLS commands on an admin connection."""

    async def run(self, conn: psycopg.AsyncConnection, command) -> None:
        if isinstance(command, CreateRlsPolicy):
            inserted = await conn.execute(
                f"INSERT INTO {CATALOG}.rls_policies (policy_name, using_sql, columns) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING", (command.name, command.using_sql, list(command.columns)))
            if inserted.rowcount == 0:
                raise SqlTranslationError(f'ERROR: Policy "{command.name}" already exists')
        elif isinstance(command, DropRlsPolicy):
            await self._drop_policy(conn, command)
        elif isinstance(command, AttachRlsPolicy):
            await self._attach(conn, command)
        elif isinstance(command, TableRowLevelSecurity):
            await self._set_table(conn, command)
        elif isinstance(command, GrantRole):
            await self._grant_role(conn, command)

    async def _drop_policy(self, conn, command: DropRlsPolicy) -> None:
        async with conn.transaction():
            tables = await (await conn.execute(
                f"SELECT DISTINCT table_schema, table_name FROM {CATALOG}.rls_attachments WHERE policy_name = %s",
                (command.name,))).fetchall()
            if tables and not command.cascade:
                raise SqlTranslationError(f'ERROR: Policy "{command.name}" is attached to a relation. '
                                          "Use DROP RLS POLICY ... CASCADE or detach it first.")
            deleted = await conn.execute(f"DELETE FROM {CATALOG}.rls_policies WHERE policy_name = %s",
                                         (command.name,))
            if deleted.rowcount == 0 and not command.if_exists:
                raise SqlTranslationError(f'ERROR: Policy "{command.name}" does not exist')
            for table in tables:
                await self.sync_table_policies(conn, tuple(table))

    async def _attach(self, conn, command: AttachRlsPolicy) -> None:
        async with conn.transaction():
            policy = await (await conn.execute(
                f"SELECT columns FROM {CATALOG}.rls_policies WHERE policy_name = %s", (command.name,))).fetchone()
            if policy is None:
                raise SqlTranslationError(f'ERROR: Policy "{command.name}" does not exist')
            for grantee in command.grantees:
                await self._ensure_grantee(conn, grantee)
            for table in command.tables:
                await self._check_columns(conn, command.name, table, policy[0])
                for grantee in command.grantees:
                    if command.attach:
                        await conn.execute(
                            f"INSERT INTO {CATALOG}.rls_attachments VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                            (command.name, *table, grantee))
                    else:
                        await conn.execute(
                            f"DELETE FROM {CATALOG}.rls_attachments WHERE policy_name = %s AND table_schema = %s "
                            "AND table_name = %s AND grantee = %s", (command.name, *table, grantee))
                await self.sync_table_policies(conn, table)

    async def _set_table(self, conn, command: TableRowLevelSecurity) -> None:
        async with conn.transaction():
            await self._check_columns(conn, None, command.table, [])
            await conn.execute(
                f"INSERT INTO {CATALOG}.rls_tables AS t VALUES (%s, %s, %s, %s) ON CONFLICT (table_schema, table_name) "
                "DO UPDATE SET enabled = excluded.enabled, conjunction = "
                "CASE WHEN %s THEN excluded.conjunction ELSE t.conjunction END",
                (*command.table, command.enabled, command.conjunction or "AND", command.conjunction is not None))
            await self.sync_table_policies(conn, command.table)

    async def _grant_role(self, conn, command: GrantRole) -> None:
        for name in (*command.roles, *command.grantees):
            if name != "PUBLIC":
                await self._ensure_grantee(conn, name)
        statement = sql.SQL("GRANT {} TO {}{}" if command.grant else "REVOKE {} FROM {}{}").format(
            sql.SQL(", ").join(sql.Identifier(r) for r in command.roles),
            sql.SQL(", ").join(sql.SQL("PUBLIC") if g == "PUBLIC" else sql.Identifier(g) for g in command.grantees),
            sql.SQL(" WITH ADMIN OPTION" if command.admin_option and command.grant else ""))
        await conn.execute(statement)

    @staticmethod
    async def _ensure_grantee(conn, name: str) -> None:
        if name == "PUBLIC":
            return
        if name.startswith(FEDERATED_PREFIXES):
            # Identity Center users are created as login users; their groups as plain roles.
            await ensure_role(conn, name, login="@" in name or name.startswith(("IAMR:", "IAM:")))
        elif not await (await conn.execute(_role_exists_sql(), (name,))).fetchone():
            raise SqlTranslationError(f'ERROR: role "{name}" does not exist')

    @staticmethod
    async def _check_columns(conn, policy: str | None, table: tuple[str, str], columns: list[str]) -> None:
        found = {r[0] for r in await (await conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
            (sql.Identifier(*table).as_string(conn),))).fetchall()}
        if not found:
            raise SqlTranslationError(f'ERROR: relation "{table[0]}.{table[1]}" does not exist')
        missing = [c for c in columns if c not in found]
        if missing:
            raise SqlTranslationError(f'ERROR: column "{missing[0]}" of policy "{policy}" does not exist '
                                      f'in relation "{table[1]}"')

    async def sync_table_policies(self, conn: psycopg.AsyncConnection, table: tuple[str, str]) -> None:
        """Re-derive ``table``'s PostgreSQL policies from the catalog (see module docstring)."""
        relation = sql.Identifier(*table)
        existing = await (await conn.execute(
            "SELECT policyname FROM pg_policies WHERE schemaname = %s AND tablename = %s AND policyname LIKE %s",
            (*table, POLICY_PREFIX + "%"))).fetchall()
        for (name,) in existing:
            await conn.execute(sql.SQL("DROP POLICY {} ON {}").format(sql.Identifier(name), relation))
        state = await (await conn.execute(
            f"SELECT enabled, conjunction FROM {CATALOG}.rls_tables WHERE table_schema = %s AND table_name = %s",
            table)).fetchone()
        if not state or not state[0]:
            await conn.execute(sql.SQL("ALTER TABLE {} NO FORCE ROW LEVEL SECURITY, "
                                       "DISABLE ROW LEVEL SECURITY").format(relation))
            return
        await conn.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY")
                           .format(relation))
        rows = await (await conn.execute(
            f"SELECT a.policy_name, p.using_sql, array_agg(a.grantee ORDER BY a.grantee) "
            f"FROM {CATALOG}.rls_attachments a JOIN {CATALOG}.rls_policies p USING (policy_name) "
            "WHERE a.table_schema = %s AND a.table_name = %s GROUP BY a.policy_name, p.using_sql", table)).fetchall()
        restrictive = state[1] == "AND"
        everyone: set[str] = set()
        for policy_name, using_sql, grantees in rows:
            everyone.update(grantees)
            await conn.execute(sql.SQL("CREATE POLICY {} ON {} AS {} FOR ALL TO {} USING ({}) WITH CHECK (true)").format(
                sql.Identifier((POLICY_PREFIX + policy_name)[:63]), relation,
                sql.SQL("RESTRICTIVE" if restrictive else "PERMISSIVE"), _role_list(grantees), sql.SQL(using_sql)))
        if restrictive and everyone:
            await conn.execute(sql.SQL("CREATE POLICY {} ON {} AS PERMISSIVE FOR ALL TO {} USING (true)").format(
                sql.Identifier(POLICY_PREFIX + "base"), relation, _role_list(sorted(everyone))))
        await conn.execute(sql.SQL("CREATE POLICY {} ON {} AS PERMISSIVE FOR INSERT TO PUBLIC WITH CHECK (true)")
                           .format(sql.Identifier(POLICY_PREFIX + "insert"), relation))


def _role_list(grantees) -> sql.Composable:
    return sql.SQL(", ").join(sql.SQL("PUBLIC") if g == "PUBLIC" else sql.Identifier(g) for g in grantees)
