"""Redshift SQL -> PostgreSQL for the local stack.

Ordinary statements go through sqlglot (Redshift in, PostgreSQL out) plus AST rewrites for
SUPER: ``payload.name.first`` (a path whose head is a column, not a table) becomes
``payload -> 'name' -> 'first'`` (jsonb, NULL when the path is missing), ``JSON_PARSE(x)``
calls the ``json_parse`` helper installed by :data:`HELPER_FUNCTIONS_SQL` (it accepts text
and bytea, so VARBYTE stream data parses directly), SUPER/VARBYTE types become jsonb/bytea
and Data API ``:name`` parameters become string literals (Redshift also receives them as
text and casts them).

Statements sqlglot does not understand — ``CREATE EXTERNAL SCHEMA … FROM KINESIS``, the
streaming materialized-view header, ``REFRESH MATERIALIZED VIEW`` — are recognised by a
small parser over sqlglot's tokens and returned as command objects for ``streaming.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.redshift import Redshift
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

__all__ = [
    "SqlTranslationError",
    "UnsupportedSqlError",
    "CreateKinesisSchema",
    "CreateMaterializedView",
    "RefreshMaterializedView",
    "DropMaterializedView",
    "PlainSql",
    "split_statements",
    "parse_statement",
    "translate_expression",
    "HELPER_FUNCTIONS_SQL",
]

_REDSHIFT = Redshift()

HELPER_FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION public.json_parse(bytea) RETURNS jsonb
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT convert_from($1, 'UTF8')::jsonb $$;
CREATE OR REPLACE FUNCTION public.json_parse(text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1::jsonb $$;
CREATE OR REPLACE FUNCTION public.json_serialize(jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1::text $$;
CREATE OR REPLACE FUNCTION public.can_json_parse(text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT
    PARALLEL SAFE AS $$ BEGIN PERFORM $1::jsonb; RETURN true; EXCEPTION WHEN others THEN RETURN false; END $$;
CREATE OR REPLACE FUNCTION public.can_json_parse(bytea) RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT
    PARALLEL SAFE AS $$ BEGIN PERFORM convert_from($1, 'UTF8')::jsonb; RETURN true;
    EXCEPTION WHEN others THEN RETURN false; END $$;
CREATE OR REPLACE FUNCTION public.is_valid_json(text) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT
    PARALLEL SAFE AS $$ SELECT public.can_json_parse($1) AND jsonb_typeof($1::jsonb) = 'object' $$;
CREATE OR REPLACE FUNCTION public.is_valid_json_array(text) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT
    PARALLEL SAFE AS $$ SELECT public.can_json_parse($1) AND jsonb_typeof($1::jsonb) = 'array' $$;
CREATE OR REPLACE FUNCTION public.json_extract_path_text(text, VARIADIC text[]) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1::jsonb #>> $2 $$;
"""


class SqlTranslationError(Exception):
    """The statement cannot run; the message becomes the statement's ``Error``."""


class UnsupportedSqlError(SqlTranslationError):
    def __init__(self, what: str) -> None:
        super().__init__(f"not supported by the local stack: {what}")


@dataclass(frozen=True)
class CreateKinesisSchema:
    schema: str
    iam_role: str | None
    if_not_exists: bool


@dataclass(frozen=True)
class CreateMaterializedView:
    name: tuple[str, ...]  # (view,) or (schema, view)
    auto_refresh: bool
    select_sql: str  # the Redshift SELECT text after AS, untranslated


@dataclass(frozen=True)
class RefreshMaterializedView:
    name: tuple[str, ...]


@dataclass(frozen=True)
class DropMaterializedView:
    name: tuple[str, ...]
    if_exists: bool


@dataclass(frozen=True)
class PlainSql:
    sql: str  # PostgreSQL text, ready to run


def _tokenize(sql: str) -> list[Token]:
    try:
        return _REDSHIFT.tokenize(sql)
    except TokenError as exc:
        raise SqlTranslationError(f"syntax error: {exc}") from None


def split_statements(sql: str) -> list[str]:
    """Split on top-level semicolons (the tokenizer already skips those in strings)."""
    statements, start = [], 0
    for token in _tokenize(sql):
        if token.token_type == TokenType.SEMICOLON:
            statements.append(sql[start:token.start].strip())
            start = token.end + 1
    statements.append(sql[start:].strip())
    return [s for s in statements if s]


class _Tokens:
    """Cursor over tokens with keyword matching by text (case-insensitive)."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.tokens = _tokenize(sql)
        self.starts = [t.start for t in self.tokens]
        if self.tokens and self.tokens[0].token_type == TokenType.COMMAND:
            # sqlglot swallows the rest of a "command" (e.g. REFRESH) as one string
            offset = self.tokens[0].end + 1
            tail = _tokenize(sql[offset:])
            self.tokens = self.tokens[:1] + tail
            self.starts = self.starts[:1] + [t.start + offset for t in tail]
        self.pos = 0

    def peek_word(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.tokens[i].text.upper() if i < len(self.tokens) else ""

    def accept(self, *words: str) -> bool:
        if all(self.peek_word(i) == w for i, w in enumerate(words)):
            self.pos += len(words)
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.accept(word):
            raise SqlTranslationError(f'syntax error at or near "{self.peek_word() or "end of input"}"')

    def name(self) -> tuple[str, ...]:
        """A possibly qualified name; unquoted parts fold to lower case like Redshift."""
        parts = [self._name_part()]
        while self.accept("."):
            parts.append(self._name_part())
        return tuple(parts)

    def _name_part(self) -> str:
        if self.pos >= len(self.tokens):
            raise SqlTranslationError("syntax error at end of input")
        token = self.tokens[self.pos]
        self.pos += 1
        if token.token_type == TokenType.IDENTIFIER:
            return token.text
        if token.token_type in (TokenType.STRING, TokenType.NUMBER):
            raise SqlTranslationError(f'syntax error at or near "{token.text}"')
        return token.text.lower()

    def string(self) -> str:
        token = self.tokens[self.pos] if self.pos < len(self.tokens) else None
        if token is None or token.token_type != TokenType.STRING:
            raise SqlTranslationError("syntax error: expected a quoted string")
        self.pos += 1
        return token.text

    def rest(self) -> str:
        return self.sql[self.starts[self.pos]:] if self.pos < len(self.tokens) else ""

    def at_end(self) -> bool:
        return self.pos >= len(self.tokens)


def parse_statement(sql: str, parameters: dict[str, str] | None = None):
    """Classify and translate one statement (no trailing semicolon)."""
    tokens = _Tokens(sql)
    if tokens.accept("CREATE", "EXTERNAL", "SCHEMA"):
        return _parse_create_external_schema(tokens)
    if tokens.accept("CREATE", "MATERIALIZED", "VIEW"):
        return _parse_create_materialized_view(tokens)
    if tokens.accept("REFRESH", "MATERIALIZED", "VIEW"):
        name = tokens.name()
        if not tokens.at_end():
            raise UnsupportedSqlError(f"REFRESH MATERIALIZED VIEW option {tokens.peek_word()}")
        return RefreshMaterializedView(name)
    if tokens.accept("DROP", "MATERIALIZED", "VIEW"):
        if_exists = tokens.accept("IF", "EXISTS")
        name = tokens.name()
        return DropMaterializedView(name, if_exists)
    return PlainSql(translate_sql(sql, parameters))


def _parse_create_external_schema(tokens: _Tokens) -> CreateKinesisSchema:
    if_not_exists = tokens.accept("IF", "NOT", "EXISTS")
    schema = tokens.name()
    if len(schema) != 1:
        raise SqlTranslationError(f"schema name must not be qualified: {'.'.join(schema)}")
    schema = schema[0]
    tokens.expect("FROM")
    source = tokens.peek_word()
    if source != "KINESIS":
        raise UnsupportedSqlError(f"CREATE EXTERNAL SCHEMA … FROM {source or 'nothing'} (only KINESIS)")
    tokens.pos += 1
    iam_role = None
    if tokens.accept("IAM_ROLE"):
        iam_role = "default" if tokens.accept("DEFAULT") else tokens.string()
    if not tokens.at_end():
        raise UnsupportedSqlError(f"CREATE EXTERNAL SCHEMA option {tokens.peek_word()}")
    return CreateKinesisSchema(schema, iam_role, if_not_exists)


def _parse_create_materialized_view(tokens: _Tokens) -> CreateMaterializedView:
    name = tokens.name()
    auto_refresh = False
    while not tokens.accept("AS"):
        if tokens.accept("AUTO", "REFRESH"):
            auto_refresh = tokens.accept("YES")
            if not auto_refresh:
                tokens.expect("NO")
        elif tokens.accept("BACKUP"):
            if not (tokens.accept("YES") or tokens.accept("NO")):
                tokens.expect("YES")
        else:
            raise UnsupportedSqlError(f"CREATE MATERIALIZED VIEW option {tokens.peek_word() or 'end of input'}")
    select_sql = tokens.rest()
    if not select_sql:
        raise SqlTranslationError("syntax error at end of input")
    return CreateMaterializedView(name, auto_refresh, select_sql)


def parse_redshift(sql: str) -> exp.Expression:
    try:
        expressions = sqlglot.parse(sql, read="redshift")
    except (ParseError, TokenError) as exc:
        first = str(exc).splitlines()[0]
        raise SqlTranslationError(f"syntax error: {first}") from None
    if len(expressions) != 1 or expressions[0] is None:
        raise SqlTranslationError("expected exactly one SQL statement")
    return expressions[0]


def translate_sql(sql: str, parameters: dict[str, str] | None = None) -> str:
    tree = parse_redshift(sql)
    if isinstance(tree, exp.Command):
        return sql  # sqlglot does not model it; PostgreSQL judges it verbatim
    return translate_expression(tree, parameters)


def translate_expression(tree: exp.Expression, parameters: dict[str, str] | None = None) -> str:
    sources = _source_names(tree)
    params = parameters or {}

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, (exp.Column, exp.Dot, exp.Bracket)):
            return _super_path(node, sources) or node
        if isinstance(node, exp.ParseJSON):
            return exp.Anonymous(this="json_parse", expressions=[node.this])
        if isinstance(node, exp.DataType):
            return _postgres_type(node)
        if isinstance(node, exp.CurrentTimestamp):  # GETDATE/SYSDATE: TIMESTAMP, UTC sessions
            return exp.var("LOCALTIMESTAMP")
        if isinstance(node, exp.GrantPrincipal) and node.args.get("kind"):
            return exp.GrantPrincipal(this=node.this.copy())  # Redshift's "TO ROLE r" is PostgreSQL's "TO r"
        if isinstance(node, exp.Placeholder):
            if node.name not in params:
                raise SqlTranslationError(f"no value given for parameter :{node.name}")
            return exp.Literal.string(params[node.name])
        return node

    return tree.transform(rewrite, copy=True).sql(dialect="postgres")


def _source_names(tree: exp.Expression) -> set[str]:
    """Names a column qualifier can refer to: tables, their aliases, CTEs, subqueries."""
    names: set[str] = set()
    for table in tree.find_all(exp.Table):
        names.add(table.name.lower())
        if table.alias:
            names.add(table.alias.lower())
    for node in tree.find_all(exp.Subquery, exp.CTE):
        if node.alias:
            names.add(node.alias.lower())
    return names


def _flatten_path(node: exp.Expression) -> list[exp.Expression] | None:
    """``a.b[0].c`` -> [Identifier a, Identifier b, Literal 0, Identifier c]."""
    if isinstance(node, exp.Column):
        if isinstance(node.this, exp.Star):
            return None
        return [p for p in (node.args.get("catalog"), node.args.get("db"), node.args.get("table"), node.this) if p]
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Identifier):
        head = _flatten_path(node.this)
        return head + [node.expression] if head else None
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
        head = _flatten_path(node.this)
        index = node.expressions[0]
        if head and isinstance(index, exp.Literal) and not index.is_string:
            return head + [index]
    return None


def _super_path(node: exp.Expression, sources: set[str]) -> exp.Expression | None:
    parts = _flatten_path(node)
    if not parts or len(parts) < 2 or not isinstance(parts[0], exp.Identifier):
        return None
    names = [p.name.lower() if isinstance(p, exp.Identifier) else None for p in parts]
    if names[0] in sources:
        qualifier, column, path = parts[:1], parts[1], parts[2:]
    elif len(parts) >= 3 and names[1] in sources:
        qualifier, column, path = parts[:2], parts[2], parts[3:]
    else:
        qualifier, column, path = [], parts[0], parts[1:]
    if not path or not isinstance(column, exp.Identifier):
        return None
    base = exp.column(column.copy(), table=qualifier[-1].copy() if qualifier else None,
                      db=qualifier[0].copy() if len(qualifier) == 2 else None)
    for step in path:
        if isinstance(step, exp.Literal):
            key = exp.JSONPathSubscript(this=int(step.this))
        else:  # unquoted SUPER keys fold to lower case, as Redshift does by default
            key = exp.JSONPathKey(this=step.name if step.quoted else step.name.lower())
        base = exp.JSONExtract(this=base, expression=exp.JSONPath(expressions=[exp.JSONPathRoot(), key]),
                               only_json_types=True)
    return base


def _postgres_type(node: exp.DataType) -> exp.DataType:
    if node.this == exp.DataType.Type.SUPER:
        return exp.DataType.build("jsonb", dialect="postgres")
    if node.this in (exp.DataType.Type.VARBINARY, exp.DataType.Type.BINARY):
        return exp.DataType.build("bytea", dialect="postgres")
    return node
