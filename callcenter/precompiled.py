"""Queries compiled by the ORM once per process, for the few hot paths where compiling
costs more than running (the incoming-call webhook: an `Exists` lookup compiles in about a
millisecond and runs in a tenth of that; an INSERT of a call row compiles in half that).

The query is still written with the ORM, so it follows the models; only its SQL is kept.
Arguments are passed as sentinels when it is first compiled and found again among the
compiled parameters, so they may only be plain strings or integers the ORM passes through
unchanged (a phone number, a primary key). Rows are tuples of the selected values with the
fields' own conversions applied (datetimes, decimals); an annotation without an output
field comes back as the database driver gives it (SQLite answers EXISTS as 0/1). A query
with select_for_update must first be run inside a transaction, as the ORM requires.

On PostgreSQL each statement is also prepared on the server, once per connection
(`PREPARE`, then `EXECUTE` with the arguments): psycopg2 sends every query as text, which
the server parses and plans anew each time, and for these short statements planning costs
several times the running (the incoming call's combined read: 0.35 ms planned, 0.1 ms run).
Prepared statements outlive a rollback but not the connection. A pooler that hands one
server connection to several clients (PgBouncer in transaction mode, any version: it does
not track SQL-level PREPARE) or that runs DISCARD ALL breaks them: set
DB_PREPARED_STATEMENTS=false behind one. Should a statement vanish anyway (DEALLOCATE), the
connection's record is cleared and, outside a transaction, the statement is prepared again
and run; inside one, that transaction fails and the next prepares afresh.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import DateField, Field, Model, QuerySet
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery

logger = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"%%|%s")
# (SQL, varying positions) -> (PREPARE text, EXECUTE text), or None: sent as text.
_server_forms: dict[tuple[str, tuple[int, ...]], tuple[str, str] | None] = {}


def _pg_forms(cursor, sql: str, params: Sequence[Any], varying: tuple[int, ...]):
    """The statement with its varying parameters as $1, $2... and the others (constants:
    a phase, a status list) written in, so the server plans it knowing them: a generic
    plan for `phase IN ($1, $2)` would expect most calls to match and scan the table."""
    key = (sql, varying)
    forms = _server_forms.get(key, False)
    if forms is not False:
        return forms
    position = iter(range(len(params) + 1))
    numbers = {p: n for n, p in enumerate(varying, start=1)}

    def placeholder(match: re.Match) -> str:
        if match.group() == "%%":
            return "%"
        p = next(position)
        if p >= len(params):
            raise IndexError(p)
        if p in numbers:
            return f"${numbers[p]}"
        return cursor.mogrify("%s", [params[p]]).decode()

    try:
        body = _PLACEHOLDER.sub(placeholder, sql)
        complete = next(position) == len(params)
    except IndexError:
        complete = False
    if not complete:  # placeholders and parameters disagree: leave it to the driver
        forms = None
    else:
        name = "sangdam_" + hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest()[:24]
        args = f"({', '.join(['%s'] * len(varying))})" if varying else ""
        forms = (f"PREPARE {name} AS {body}", f"EXECUTE {name}{args}", name)
    _server_forms[key] = forms
    return forms


def _prepared_here(connection) -> set[str]:
    """Names prepared on this database session (a new session starts with none)."""
    raw = connection.connection
    state = getattr(connection, "_sangdam_prepared", None)
    if state is None or state[0] is not raw:
        state = connection._sangdam_prepared = (raw, set())
    return state[1]


def execute(
    connection,
    cursor,
    sql: str,
    params: Sequence[Any],
    varying: tuple[int, ...],
    *,
    again: bool = True,
) -> None:
    """cursor.execute(sql, params), through a server-side prepared statement on
    PostgreSQL (see the module's docstring). `varying`: the positions of the parameters
    that change from one call to the next; the others must always be the same."""
    if connection.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        cursor.execute(sql, params)
        return
    forms = _pg_forms(cursor, sql, params, varying)
    if forms is None:
        cursor.execute(sql, params)
        return
    prepare, run, name = forms
    prepared = _prepared_here(connection)
    if name not in prepared:
        try:
            # In a savepoint: a PREPARE the server refuses must not abort the caller's
            # transaction. Only the first use on each connection pays for it.
            with transaction.atomic(using=connection.alias):
                cursor.execute(prepare)
        except DatabaseError as exc:
            if _sqlstate(exc).startswith("42"):  # refused for good (e.g. a parameter's type)
                logger.warning("statement not preparable; sent as text from now on", exc_info=True)
                _server_forms[(sql, varying)] = None
            cursor.execute(sql, params)
            return
        prepared.add(name)
    try:
        cursor.execute(run, [params[p] for p in varying])
    except DatabaseError as exc:
        if _sqlstate(exc) != "26000":  # not "prepared statement does not exist"
            raise
        prepared.clear()  # deallocated behind our back: this session has none of them
        if connection.in_atomic_block or not again:
            raise
        execute(connection, cursor, sql, params, varying, again=False)


def _run_bound(using: str, sql: str, params: tuple, slots: dict[int, int], args, *, all_rows):
    """Run a compiled query with `args` in its argument slots: all rows, or the first."""
    bound = list(params)
    for position, index in slots.items():
        bound[position] = args[index]
    connection = connections[using]
    with connection.cursor() as cursor:
        execute(connection, cursor, sql, bound, tuple(sorted(slots)))
        return cursor.fetchall() if all_rows else cursor.fetchone()


def _sqlstate(exc: BaseException) -> str:
    return getattr(exc.__cause__, "pgcode", None) or getattr(exc, "pgcode", None) or ""


class Precompiled:
    def __init__(
        self,
        build: Callable[..., QuerySet],
        *types: type,
        count: bool = False,
        using: str = "default",
    ) -> None:
        """`types`: str or int, one per argument of `build`. `count`: the query answers
        one row, how many rows `build` selects (a sliced query counts at most its slice)."""
        self._build = build
        self._types = types
        self._count = count
        self._using = using
        self._compiled: tuple[str, tuple, dict[int, int]] | None = None
        self._lock = threading.Lock()

    def _compile(self) -> tuple[str, tuple, dict[int, int]]:
        # Integer sentinels fit a smallint: Django drops a comparison with a number out of
        # the column's range from the SQL (PostgreSQL), and the argument would be lost.
        sentinels = [
            30_011 + 7 * i if kind is int else f"\x00precompiled-argument-{i}\x00"
            for i, kind in enumerate(self._types)
        ]
        compiler = self._build(*sentinels).query.get_compiler(using=self._using)
        sql, params = compiler.as_sql()
        converters = None
        width = 1
        if self._count:
            sql = f"SELECT COUNT(*) FROM ({sql}) AS counted"  # noqa: S608 - the ORM's own SQL
        else:
            width = compiler.col_count
            # The fields' from-database conversions (SQLite's datetimes are text).
            selected = [column for column, _sql, _alias in compiler.select[: compiler.col_count]]
            if compiler.get_converters(selected):
                converters = (compiler, compiler.get_converters(selected))
        slots = {}
        for position, value in enumerate(params):
            if type(value) in (str, int) and value in sentinels:
                slots[position] = sentinels.index(value)
        if sorted(set(slots.values())) != list(range(len(sentinels))):
            raise ValueError("an argument did not reach the SQL unchanged; use the ORM here")
        return sql, tuple(params), slots, converters, width

    def compiled(self) -> tuple[str, tuple, dict[int, int], Any, int]:
        """(SQL, parameters, {parameter position: argument index}, converters, columns)."""
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = self._compile()
        return self._compiled

    def rows(self, *args: str | int) -> list[tuple[Any, ...]]:
        sql, params, slots, converters, _width = self.compiled()
        if len(args) != len(self._types):
            raise TypeError(f"expected {len(self._types)} arguments, got {len(args)}")
        rows = _run_bound(self._using, sql, params, slots, args, all_rows=True)
        if converters is not None and rows:
            compiler, functions = converters
            rows = [tuple(row) for row in compiler.apply_converters(rows, functions)]
        return rows

    def first(self, *args: str | int) -> tuple[Any, ...] | None:
        found = self.rows(*args)
        return found[0] if found else None

    def reset(self) -> None:
        """Compile again on next use (tests that switch databases)."""
        self._compiled = None


class PrecompiledJoin:
    """Several precompiled queries answered by one statement, one round trip: the first
    must answer exactly one row (a count, say), each further one at most one row, joined to
    it (its columns are None when it has none). `first(*args)` takes every part's
    arguments in order and answers one tuple of all their columns."""

    def __init__(self, *parts: Precompiled, using: str = "default") -> None:
        self._parts = parts
        self._using = using
        self._compiled = None
        self._lock = threading.Lock()

    def _compile(self):
        sql, params, slots, pieces = "", [], {}, []
        arg_offset, column = 0, 0
        for i, part in enumerate(self._parts):
            part_sql, part_params, part_slots, converters, width = part.compiled()
            if i == 0:
                sql = f"SELECT * FROM ({part_sql}) AS part0"  # noqa: S608 - the ORM's SQL
            else:
                sql += f" LEFT JOIN ({part_sql}) AS part{i} ON 1 = 1"
            for position, index in part_slots.items():
                slots[len(params) + position] = arg_offset + index
            params.extend(part_params)
            pieces.append((column, width, converters))
            arg_offset += len(part._types)
            column += width
        return sql, tuple(params), slots, arg_offset, pieces

    def first(self, *args: str | int) -> tuple[Any, ...]:
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = self._compile()
        sql, params, slots, arity, pieces = self._compiled
        if len(args) != arity:
            raise TypeError(f"expected {arity} arguments, got {len(args)}")
        row = _run_bound(self._using, sql, params, slots, args, all_rows=False)
        out = []
        for start, width, converters in pieces:
            values = row[start : start + width]
            if converters is not None and any(v is not None for v in values):
                compiler, functions = converters
                values = next(iter(compiler.apply_converters([values], functions)))
            out.extend(values)
        return tuple(out)


def _pre_save_is_plain(field: Field) -> bool:
    """pre_save returns the attribute as it is (not auto_now, not a file being saved)."""
    if isinstance(field, DateField):
        return not (field.auto_now or field.auto_now_add)
    return type(field).pre_save is Field.pre_save


class PrecompiledInsert:
    """`Model.objects.create(**values)` for a hot path, with the INSERT's SQL compiled once
    per process: the same fields, the same `pre_save` (auto_now) and database preparation
    of each value, and the primary key read back, as Django's own save() does. Model
    signals are the one difference, so while any receiver listens for this model's
    pre_save or post_save, create() simply calls the ORM."""

    def __init__(self, model: type[Model], *, using: str = "default") -> None:
        self._model = model
        self._using = using
        self._compiled = None
        self._plans: dict[frozenset[str], tuple[list, list[int]]] = {}
        self._init = None
        self._lock = threading.Lock()

    def _compile(self, obj: Model):
        meta = self._model._meta
        fields = [
            f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated
        ]
        query = InsertQuery(self._model)
        query.insert_values(fields, [obj])
        compiler = query.get_compiler(using=self._using)
        compiler.returning_fields = [meta.auto_field]
        [(sql, _params)] = compiler.as_sql()
        # A column left at a constant default (most of a new call's 45) is prepared once.
        constants = {}
        for position, f in enumerate(fields):
            if _pre_save_is_plain(f) and not (f.has_default() and callable(f.default)):
                constants[position] = compiler.prepare_value(f, f.get_default())
        return sql, fields, constants, compiler, compiler.returning_params

    def create(self, **values: Any) -> Model:
        return self.prepare(**values)()

    def _instance(self, values: dict[str, Any]) -> Model:
        """`Model(**values)` by Django's faster positional path: every column's default
        worked out once (a callable default is still called each time), the given values
        put in their places, and a related object given by name set through its
        descriptor, as the keyword path would."""
        if self._init is None:
            fields = self._model._meta.concrete_fields
            template, calls, places = [], [], {}
            for i, f in enumerate(fields):
                calls_default = f.has_default() and callable(f.default)
                template.append(None if calls_default else f.get_default())
                if calls_default:
                    calls.append((i, f))
                places[f.attname] = i
                if not f.is_relation:
                    places[f.name] = i
            relations = {f.name for f in fields if f.is_relation}
            self._init = (template, calls, places, relations)
        template, calls, places, relations = self._init
        args = template.copy()
        for i, f in calls:
            args[i] = f.get_default()
        related = []
        for name, value in values.items():
            i = places.get(name)
            if i is not None:
                args[i] = value
            elif name in relations:
                related.append((name, value))
            else:
                raise TypeError(f"{self._model.__name__}() got an unexpected keyword '{name}'")
        obj = self._model(*args)
        for name, value in related:
            setattr(obj, name, value)
        return obj

    def prepare(self, **values: Any) -> PreparedInsert:
        """create() in two halves: the Python work now (the model instance and every
        parameter), the INSERT when the returned object is called. A hot path prepares
        before its transaction starts, so the database's write lock (SQLite's is one for
        everyone) is held only for the statements. A foreign key to an object not yet saved
        (an event's call) is read when the insert runs, after that object's own."""
        obj = self._instance(values)
        if pre_save.has_listeners(self._model) or post_save.has_listeners(self._model):

            def save() -> Model:  # what QuerySet.create() does, signals and all
                obj.save(force_insert=True, using=self._using)
                return obj

            return PreparedInsert(obj, save)
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = self._compile(obj)
        sql, fields, constants, compiler, returning_params = self._compiled
        keys = frozenset(values)
        plan = self._plans.get(keys)
        if plan is None:
            # Which columns this call site sets, or that change by themselves (auto_now, a
            # callable default): those are prepared on every insert, the rest are copied.
            given = [i for i, f in enumerate(fields) if f.name in keys or f.attname in keys]
            changing = [i for i in range(len(fields)) if i not in constants]
            template = [constants.get(i) for i in range(len(fields))]
            plan = self._plans[keys] = (template, sorted(set(given) | set(changing)))
        template, dynamic = plan
        varying = tuple(dynamic)
        params = template.copy()
        late = []
        for i in dynamic:
            f = fields[i]
            params[i] = compiler.prepare_value(f, compiler.pre_save_val(f, obj))
            if f.is_relation and params[i] is None and f.is_cached(obj):
                late.append((i, f))

        def insert() -> Model:
            for i, f in late:
                related = f.get_cached_value(obj)
                setattr(obj, f.attname, related.pk)  # (which forgets the object...)
                f.set_cached_value(obj, related)  # (...kept: reaching it costs no query)
                params[i] = compiler.prepare_value(f, related.pk)
            connection = connections[self._using]
            with connection.cursor() as cursor:
                execute(connection, cursor, sql, params, varying)
                row = connection.ops.fetch_returned_insert_columns(cursor, returning_params)
            return _saved(obj, row[0], self._using)

        return PreparedInsert(obj, insert, _Statement(sql, params, varying, fields, late))


def _saved(obj: Model, pk: Any, using: str) -> Model:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = using
    return obj


class _Statement:
    """A prepared INSERT's SQL and parameters, for insert_together."""

    def __init__(self, sql: str, params: list, varying: tuple[int, ...], fields, late) -> None:
        self.sql, self.params, self.varying = sql, params, varying
        self.fields, self.late = fields, late


class PreparedInsert:
    """A row ready to insert: `obj` is the model instance (no primary key yet), calling
    it runs the INSERT and returns the saved instance."""

    def __init__(
        self, obj: Model, insert: Callable[[], Model], statement: _Statement | None = None
    ) -> None:
        self.obj = obj
        self._insert = insert
        self.statement = statement  # None: saved by the ORM (signal receivers listen)

    def __call__(self) -> Model:
        return self._insert()


_together_sql: dict[tuple[str, str, int], str] = {}


def _combined(parent: _Statement, child: _Statement, link: int, qn, child_table: str):
    """WITH parent AS (its INSERT … RETURNING pk) the child's INSERT with its link
    parameter replaced by the parent's new key, returning both keys."""
    key = (parent.sql, child.sql, link)
    sql = _together_sql.get(key)
    if sql is None:
        position = iter(range(len(child.params) + 1))
        link_column = f"{qn(child_table)}.{qn(child.fields[link].column)}"

        def placeholder(match: re.Match) -> str:
            if match.group() == "%%":
                return "%%"
            return '(SELECT "pk" FROM "parent_row")' if next(position) == link else "%s"

        body = _PLACEHOLDER.sub(placeholder, child.sql)
        sql = _together_sql[key] = (
            f'WITH "parent_row" ("pk") AS ({parent.sql}) {body}, {link_column}'  # noqa: S608
        )
    params = parent.params + [v for i, v in enumerate(child.params) if i != link]
    offset = len(parent.params)
    varying = parent.varying + tuple(offset + i - (i > link) for i in child.varying if i != link)
    return sql, params, varying


def insert_together(
    parent: PreparedInsert, child: PreparedInsert, link: str, *, using: str = "default"
) -> tuple[Model, Model]:
    """Insert `parent`, then `child` whose foreign key `link` points at it: both or
    neither. On PostgreSQL in one statement (WITH … INSERT … RETURNING), which needs no
    transaction of its own: one round trip where BEGIN, two INSERTs and COMMIT take four.
    Elsewhere, or when the ORM must save a row (signal receivers), both inside a
    transaction (a savepoint inside the caller's)."""
    connection = connections[using]
    first, second = parent.statement, child.statement
    link_index = None
    if connection.vendor == "postgresql" and first is not None and second is not None:
        link_index = next(i for i, f in enumerate(second.fields) if f.name == link)
        if first.late or any(i != link_index for i, _f in second.late):
            link_index = None  # another row still to be saved first: the plain way
    if link_index is None:
        with transaction.atomic(using=using):
            return parent(), child()
    child_table = child.obj._meta.db_table
    sql, params, varying = _combined(
        first, second, link_index, connection.ops.quote_name, child_table
    )
    with transaction.atomic(using=using) if connection.in_atomic_block else nullcontext():
        with connection.cursor() as cursor:
            execute(connection, cursor, sql, params, varying)
            child_pk, parent_pk = cursor.fetchone()
    link_field = second.fields[link_index]
    setattr(child.obj, link_field.attname, parent_pk)
    link_field.set_cached_value(child.obj, parent.obj)  # kept, as the ORM would
    return _saved(parent.obj, parent_pk, using), _saved(child.obj, child_pk, using)
