"""Redshift SQL -> PostgreSQL for the local stack.

Ordinary statements go through sqlglot (Redshift in, PostgreSQL out) plus AST rewrites for
SUPER: ``payload.name.first`` (a path whose head is a column, not a table) becomes
``payload -> 'name' -> 'first'`` (jsonb, NULL when the path is missing), ``JSON_PARSE(x)``
calls the ``json_parse`` helper installed by :data:`HELPER_FUNCTIONS_SQL` (it accepts text
and bytea, so VARBYTE stream data parses directly), SUPER/VARBYTE types become jsonb/bytea
and Data API ``:name`` parameters become string literals (Redshift also receives them as
text and casts them). Names and SUPER keys fold to lower case as :class:`CaseRules` (the
session's ``enable_case_sensitive_identifier``) say.

Statements sqlglot does not understand — ``CREATE EXTERNAL SCHEMA … FROM KINESIS``, the
streaming materialized-view header, ``REFRESH MATERIALIZED VIEW`` — are recognised by a
small parser over sqlglot's tokens and returned as command objects for ``streaming.py``.
"""
from __future__ import annotations

import contextvars
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.redshift import Redshift
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from .sql_errors import SqlTranslationError, UnsupportedSqlError  # re-exported: callers import them from here
from .sql_functions import HELPER_FUNCTIONS_SQL  # re-exported: the functions translated SQL calls
from .super_labels import ProjectionLabels
from .super_paths import PathResolver, source_names, value_aliases
from .super_semantics import SuperTranslator
from .super_typing import SuperTyper

__all__ = [
    "SqlTranslationError",
    "UnsupportedSqlError",
    "CreateKinesisSchema",
    "CreateMaterializedView",
    "RefreshMaterializedView",
    "DropMaterializedView",
    "PlainSql",
    "CaseRules",
    "CASE_RULES",
    "split_statements",
    "parse_statement",
    "schema_and_name",
    "translate_expression",
    "HELPER_FUNCTIONS_SQL",
]

_REDSHIFT = Redshift()


@dataclass(frozen=True)
class CaseRules:
    """Redshift's ``enable_case_sensitive_identifier`` and ``enable_case_sensitive_super_attribute``.

    Off (the default), every name folds to lower case, "quoted" ones too, and so do SUPER keys.
    ``identifier`` on keeps the case of quoted names and quoted SUPER keys; ``super_attribute``
    on keeps the case of unquoted SUPER keys. Unquoted names always fold."""

    identifier: bool = False
    super_attribute: bool = False


# The rules of the statement being translated (its session's settings); a task-local default so
# that modules translating on a statement's behalf (streaming, rbac) follow them too.
CASE_RULES: contextvars.ContextVar[CaseRules] = contextvars.ContextVar("redshift_case_rules", default=CaseRules())


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
    # A query that leaves the session as it found it (no SET, no temp table, no set_config()):
    # its pooled connection needs no reset afterwards.
    read_only: bool = False


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

    def __init__(self, sql: str, fold_quoted: bool = False) -> None:
        self.sql = sql
        # Redshift folds even "quoted" names to lower case unless enable_case_sensitive_identifier.
        self.fold_quoted = fold_quoted
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
            return token.text.lower() if self.fold_quoted else token.text
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


def schema_and_name(name: tuple[str, ...]) -> tuple[str, str]:
    """``(schema, object)`` of a name read by ``_Tokens.name``; an unqualified one is in
    ``public``. A three-part name is refused in PostgreSQL's words."""
    if len(name) == 1:
        return "public", name[0]
    if len(name) == 2:
        return name[0], name[1]
    raise SqlTranslationError(f"improper qualified name (too many dotted names): {'.'.join(name)}")


def parse_statement(sql: str, parameters: dict[str, str] | None = None, case: CaseRules | None = None):
    """Classify and translate one statement (no trailing semicolon)."""
    case = case or CASE_RULES.get()
    tokens = _Tokens(sql, fold_quoted=not case.identifier)
    if tokens.accept("CREATE", "EXTERNAL", "SCHEMA"):
        return _parse_create_external_schema(tokens)
    if tokens.accept("CREATE", "MATERIALIZED", "VIEW"):
        return _parse_create_materialized_view(tokens, case)
    if tokens.accept("REFRESH", "MATERIALIZED", "VIEW"):
        name = tokens.name()
        if not tokens.at_end():
            raise UnsupportedSqlError(f"REFRESH MATERIALIZED VIEW option {tokens.peek_word()}")
        return RefreshMaterializedView(name)
    if tokens.accept("DROP", "MATERIALIZED", "VIEW"):
        if_exists = tokens.accept("IF", "EXISTS")
        name = tokens.name()
        return DropMaterializedView(name, if_exists)
    tree = parse_redshift(sql)
    if isinstance(tree, exp.Command):
        return PlainSql(sql)  # sqlglot does not model it; PostgreSQL judges it verbatim
    return PlainSql(translate_expression(tree, parameters, case), _leaves_session_alone(tree))


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


def _parse_create_materialized_view(tokens: _Tokens, case: CaseRules) -> CreateMaterializedView:
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
    return CreateMaterializedView(name, auto_refresh, _fold_table_names(select_sql, case))


def _fold_table_names(select_sql: str, case: CaseRules) -> str:
    """The SELECT with its table names as Redshift resolves them, so a streaming view reads the
    stream Redshift would read: unquoted names fold to lower case, quoted ones unless case-sensitive."""
    tree = parse_redshift(select_sql)
    changed = False
    for table in tree.find_all(exp.Table):
        for key in ("catalog", "db", "this"):
            part = table.args.get(key)
            if isinstance(part, exp.Identifier):
                name = part.this if part.quoted and case.identifier else part.this.lower()
                if name != part.this:
                    part.set("this", name)
                    changed = True
    return tree.sql(dialect="redshift") if changed else select_sql


def parse_redshift(sql: str) -> exp.Expression:
    try:
        expressions = sqlglot.parse(sql, read="redshift")
    except (ParseError, TokenError) as exc:
        first = str(exc).splitlines()[0]
        raise SqlTranslationError(f"syntax error: {first}") from None
    if len(expressions) != 1 or expressions[0] is None:
        raise SqlTranslationError("expected exactly one SQL statement")
    return expressions[0]


def _leaves_session_alone(tree: exp.Expression) -> bool:
    if not isinstance(tree, (exp.Select, exp.SetOperation)) or tree.find(exp.Into) is not None:
        return False
    return not any(isinstance(f, exp.Anonymous) and f.name.lower() in _SESSION_CHANGING_FUNCTIONS
                   for f in tree.find_all(exp.Anonymous))


_SESSION_CHANGING_FUNCTIONS = {"set_config", "pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock",
                               "pg_try_advisory_lock_shared", "setseed", "dblink_connect"}


def translate_sql(sql: str, parameters: dict[str, str] | None = None, case: CaseRules | None = None) -> str:
    tree = parse_redshift(sql)
    if isinstance(tree, exp.Command):
        return sql  # sqlglot does not model it; PostgreSQL judges it verbatim
    return translate_expression(tree, parameters, case)


def translate_expression(tree: exp.Expression, parameters: dict[str, str] | None = None,
                         case: CaseRules | None = None) -> str:
    params = parameters or {}
    case = case or CASE_RULES.get()
    tree = tree.copy()
    sources = source_names(tree)
    paths = PathResolver(sources, value_aliases(tree, sources), case)
    SuperTyper(tree, paths).run()
    labels = ProjectionLabels(tree, paths)

    def rewrite(node: exp.Expression) -> exp.Expression:
        """Everything but SUPER semantics (super_semantics.py has those)."""
        if isinstance(node, exp.Identifier) and node.quoted and not case.identifier and node.this != node.this.lower() \
                and node.find_ancestor(exp.GrantPrincipal) is None:  # role and user names keep their case
            return exp.Identifier(this=node.this.lower(), quoted=True)
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

    translated = SuperTranslator(paths, rewrite).translate(tree)
    labels.restore()
    return translated.sql(dialect="postgres", copy=False)  # the tree is this call's own copy


def _postgres_type(node: exp.DataType) -> exp.DataType:
    if node.this == exp.DataType.Type.SUPER:
        return exp.DataType.build("jsonb", dialect="postgres")
    if node.this in (exp.DataType.Type.VARBINARY, exp.DataType.Type.BINARY):
        return exp.DataType.build("bytea", dialect="postgres")
    return node
