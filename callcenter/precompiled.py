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
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import DateField, DateTimeField, Field, Model, QuerySet
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery, UpdateQuery

logger = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"%%|%s")
# UpdateIn and PrecompiledBulkInsert compile one statement per number of rows up to this;
# more rows go through the ORM or in several statements.
COMPILED_UP_TO = 100
_SENTINEL_TIME = datetime(2000, 1, 2, 3, 4, 5, tzinfo=UTC)
# (SQL, varying positions, constants) -> (PREPARE text, EXECUTE text, name), or None: sent
# as text.
_server_forms: dict[tuple, tuple[str, str, str] | None] = {}
SERVER_FORMS_KEPT = 4096


def _pg_forms(cursor, sql: str, params: Sequence[Any], varying: tuple[int, ...]):
    """The statement with its varying parameters as $1, $2... and the others (constants:
    a phase, a status list) written in, so the server plans it knowing them: a generic
    plan for `phase IN ($1, $2)` would expect most calls to match and scan the table."""
    # The constants are part of the key: the same SQL with another constant (another phase
    # in the filter) is another statement.
    constants = tuple(p for i, p in enumerate(params) if i not in varying)
    try:
        key = (sql, varying, constants)
        forms = _server_forms.get(key, False)
    except TypeError:  # a constant that cannot be a key (a list): sent as text
        return None
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
    if len(_server_forms) >= SERVER_FORMS_KEPT:
        _server_forms.clear()  # (a statement's forms are cheap to make again)
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
                constants = tuple(p for i, p in enumerate(params) if i not in varying)
                _server_forms[(sql, varying, constants)] = None
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


def _run_bound(using: str, sql: str, params: tuple, slots: dict[int, int], args, *, fetch):
    """Run a compiled query with `args` in its argument slots; answer (`fetch`) all its
    rows, the first, or the count of rows it changed."""
    bound = list(params)
    for position, index in slots.items():
        bound[position] = args[index]
    connection = connections[using]
    with connection.cursor() as cursor:
        execute(connection, cursor, sql, bound, tuple(sorted(slots)))
        if fetch == "all":
            return cursor.fetchall()
        if fetch == "one":
            return cursor.fetchone()
        return cursor.rowcount


def _bind(using: str, types: Sequence[type], args: Sequence[Any]) -> Sequence[Any]:
    """The arguments as the database takes them (a datetime as its DateTimeField value)."""
    if len(args) != len(types):
        raise TypeError(f"expected {len(types)} arguments, got {len(args)}")
    if datetime not in types:
        return args
    adapt = connections[using].ops.adapt_datetimefield_value
    return [
        adapt(_aware(a)) if kind is datetime and a is not None else a
        for a, kind in zip(args, types, strict=True)
    ]


_DATETIME = DateTimeField()


def _aware(value: datetime) -> datetime:
    """A naive datetime as a DateTimeField takes it (a warning, the default time zone)."""
    return value if value.tzinfo is not None else _DATETIME.get_prep_value(value)


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
        """`types`: str, int or datetime, one per argument of `build` (a datetime is
        compared or stored as a DateTimeField's value; a naive one is taken as the ORM
        takes it, in the default time zone with a warning). `count`: the query
        answers one row, how many rows `build` selects (a sliced query counts at most its
        slice)."""
        self._build = build
        self._types = types
        self._count = count
        self._using = using
        self._compiled: tuple | None = None
        self._lock = threading.Lock()

    def _sentinels(self) -> list[Any]:
        # Integer sentinels fit a smallint: Django drops a comparison with a number out of
        # the column's range from the SQL (PostgreSQL), and the argument would be lost.
        # A datetime sentinel has microseconds, so its text form (SQLite) is unique too.
        return [
            30_011 + 7 * i
            if kind is int
            else _SENTINEL_TIME + timedelta(microseconds=7 + i)
            if kind is datetime
            else f"\x00precompiled-argument-{i}\x00"
            for i, kind in enumerate(self._types)
        ]

    def _slots(self, sentinels: list[Any], params: Sequence[Any]) -> dict[int, int]:
        """{parameter position: argument index}, found by each sentinel's database form."""
        adapt = connections[self._using].ops.adapt_datetimefield_value
        targets = [adapt(s) if isinstance(s, datetime) else s for s in sentinels]
        slots = {}
        for position, value in enumerate(params):
            for index, target in enumerate(targets):
                if type(value) is type(target) and value == target:
                    slots[position] = index
        if sorted(set(slots.values())) != list(range(len(sentinels))):
            raise ValueError("an argument did not reach the SQL unchanged; use the ORM here")
        return slots

    def _bind(self, args: Sequence[Any]) -> Sequence[Any]:
        return _bind(self._using, self._types, args)

    def _compile(self) -> tuple[str, tuple, dict[int, int], Any, int]:
        sentinels = self._sentinels()
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
        return sql, tuple(params), self._slots(sentinels, params), converters, width

    def compiled(self) -> tuple[str, tuple, dict[int, int], Any, int]:
        """(SQL, parameters, {parameter position: argument index}, converters, columns)."""
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = self._compile()
        return self._compiled

    def rows(self, *args: str | int | datetime) -> list[tuple[Any, ...]]:
        sql, params, slots, converters, _width = self.compiled()
        rows = _run_bound(self._using, sql, params, slots, self._bind(args), fetch="all")
        if converters is not None and rows:
            compiler, functions = converters
            rows = [tuple(row) for row in compiler.apply_converters(rows, functions)]
        return rows

    def first(self, *args: str | int | datetime) -> tuple[Any, ...] | None:
        found = self.rows(*args)
        return found[0] if found else None

    def reset(self) -> None:
        """Compile again on next use (tests that switch databases)."""
        self._compiled = None


class PrecompiledUpdate(Precompiled):
    """`QuerySet.update(**values)` with its UPDATE compiled once: `build(*args)` answers
    the queryset and the values, and arguments may stand for either (an id in the filter,
    the time written). The filter must stay on the model's own table, as an UPDATE's does
    on SQLite and PostgreSQL. `run(*args)` answers the number of rows changed."""

    def _compile(self) -> tuple[str, tuple, dict[int, int], Any, int]:
        sentinels = self._sentinels()
        queryset, values = self._build(*sentinels)
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(values)
        query.annotations = {}
        if query.related_updates:
            raise ValueError("an update of a related model's fields; use the ORM here")
        sql, params = query.get_compiler(using=self._using).as_sql()
        return sql, tuple(params), self._slots(sentinels, params), None, 0

    def rows(self, *args):
        raise TypeError("an UPDATE answers no rows: use run()")

    def run(self, *args: str | int | datetime) -> int:
        sql, params, slots, _converters, _width = self.compiled()
        return _run_bound(self._using, sql, params, slots, self._bind(args), fetch="count")


class UpdateIn:
    """`base().filter(<field>__in=ids).update(**values)` for a hot path that updates a
    batch of rows, compiled once per number of ids and per set of value names (a value is
    an argument: a string, an integer or a datetime; None is written in). Above
    COMPILED_UP_TO ids it is the ORM's update()."""

    def __init__(self, base: Callable[[], QuerySet], field: str, *, using: str = "default"):
        self._base = base
        self._lookup = f"{field}__in"
        self._using = using
        self._compiled: dict[tuple, PrecompiledUpdate] = {}

    def run(self, ids: Sequence[int], **values: Any) -> int:
        if not ids:
            return 0
        if len(ids) > COMPILED_UP_TO:
            return self._base().filter(**{self._lookup: ids}).update(**values)
        kinds, args = [], []
        for name, value in values.items():
            if value is None:
                kinds.append(None)
                continue
            if isinstance(value, datetime):
                kind = datetime
            elif isinstance(value, str):
                kind, value = str, str.__str__(value)  # a choice's plain value
            elif type(value) is int:
                kind = int
            else:
                raise TypeError(f"{name}: {type(value).__name__} values need the ORM here")
            kinds.append(kind)
            args.append(value)
        key = (len(ids), tuple(values), tuple(kinds))
        update = self._compiled.get(key)
        if update is None:
            update = self._compiled[key] = self._update(len(ids), list(values), kinds)
        return update.run(*args, *ids)

    def _update(self, n: int, names: list[str], kinds: list[type | None]) -> PrecompiledUpdate:
        given = [kind for kind in kinds if kind is not None]

        def build(*args):
            args = list(args)
            values = {
                name: None if kind is None else args.pop(0)
                for name, kind in zip(names, kinds, strict=True)
            }
            return self._base().filter(**{self._lookup: args}), values

        return PrecompiledUpdate(build, *given, *[int] * n, using=self._using)


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
        types = [kind for part in self._parts for kind in part._types]
        return sql, tuple(params), slots, types, pieces

    def first(self, *args: str | int | datetime) -> tuple[Any, ...]:
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = self._compile()
        sql, params, slots, types, pieces = self._compiled
        args = _bind(self._using, types, args)
        row = _run_bound(self._using, sql, params, slots, args, fetch="one")
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
            # Per column: where the value is read (the attribute, when pre_save is plain),
            # and the type it may have to be sent as it is (see _plain_type).
            dynamic = [
                (i, fields[i], fields[i].attname if _pre_save_is_plain(fields[i]) else None)
                for i in sorted(set(given) | set(changing))
            ]
            dynamic = [(i, f, attname, _plain_type(f)) for i, f, attname in dynamic]
            plan = self._plans[keys] = (template, dynamic, tuple(i for i, *_ in dynamic))
        template, dynamic, varying = plan
        params = template.copy()
        late = []
        for i, f, attname, plain in dynamic:
            value = compiler.pre_save_val(f, obj) if attname is None else getattr(obj, attname)
            if type(value) is plain:
                params[i] = value  # what preparing it would give
                continue
            params[i] = _prepared(compiler, f, value, self._using)
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


_PLAIN_TYPES = {
    "CharField": str,
    "TextField": str,
    "AutoField": int,
    "BigAutoField": int,
    "SmallAutoField": int,
    "IntegerField": int,
    "BigIntegerField": int,
    "SmallIntegerField": int,
    "PositiveIntegerField": int,
    "PositiveBigIntegerField": int,
    "PositiveSmallIntegerField": int,
}


def _plain_type(field: Field) -> type | None:
    """The type a value of `field` may have to be sent as it is, its preparation for the
    database leaving it unchanged: a string for a text column, an integer for an integer
    column or a key to one."""
    return _PLAIN_TYPES.get(
        (field.target_field if field.is_relation else field).get_internal_type()
    )


# The datetime prepared last (a webhook writes the same moment in its call and its event).
_recent_datetime: tuple[Any, str, Any] = (None, "", None)


def _prepared(compiler, field: Field, value: Any, using: str) -> Any:
    """compiler.prepare_value(field, value), a DateTimeField's value prepared once for
    consecutive uses of the same object."""
    global _recent_datetime
    if type(field) is DateTimeField and type(value) is datetime:
        recent = _recent_datetime
        if recent[0] is value and recent[1] == using:
            return recent[2]
        prepared = compiler.prepare_value(field, value)
        _recent_datetime = (value, using, prepared)
        return prepared
    return compiler.prepare_value(field, value)


class PrecompiledBulkInsert:
    """`Model.objects.bulk_create(...)` for a hot path's rows of plain values: `insert(rows)`
    writes each row (one value per named field, in order; the other fields take their
    defaults) in one statement and answers the new primary keys in the rows' order. The
    INSERT is compiled once per number of rows, and a value is prepared for the database
    as its field would prepare it, each distinct object once per call (a batch's shared
    timestamp). Like bulk_create, it sends no model signals."""

    def __init__(self, model: type[Model], fields: Sequence[str], *, using: str = "default"):
        meta = model._meta
        self._model = model
        self._using = using
        self._named = [meta.get_field(name) for name in fields]
        self._others = [
            f
            for f in meta.local_concrete_fields
            if f is not meta.auto_field and not f.generated and f not in self._named
        ]
        for f in self._named + self._others:
            if not _pre_save_is_plain(f):
                raise ValueError(f"{f.name} is set on save (auto_now): use the ORM here")
        self._plain = [_plain_type(f) for f in self._named]
        self._statements: dict[int, tuple[str, Sequence[Any]]] = {}
        self._lock = threading.Lock()

    def _statement(self, n: int) -> tuple[str, Sequence[Any], bool]:
        """(SQL, its RETURNING parameters, whether it takes a list per column: Django
        writes several rows on PostgreSQL as one array per column, through UNNEST)."""
        statement = self._statements.get(n)
        if statement is None:
            fields = self._named + self._others
            query = InsertQuery(self._model)
            query.insert_values(fields, [self._model()] * n)
            compiler = query.get_compiler(using=self._using)
            compiler.returning_fields = [self._model._meta.pk]
            [(sql, params)] = compiler.as_sql()
            per_column = n > 1 and len(params) - len(compiler.returning_params) == len(fields)
            with self._lock:
                statement = (sql, compiler.returning_params, per_column)
                self._statements[n] = statement
        return statement

    def insert(self, rows: Sequence[Sequence[Any]]) -> list[Any]:
        if len(rows) > COMPILED_UP_TO:  # in statements of at most that many rows
            return [
                pk
                for start in range(0, len(rows), COMPILED_UP_TO)
                for pk in self.insert(rows[start : start + COMPILED_UP_TO])
            ]
        if not rows:
            return []
        connection = connections[self._using]
        if not connection.features.can_return_rows_from_bulk_insert:
            names = [f.attname for f in self._named]
            made = self._model.objects.using(self._using).bulk_create(
                [self._model(**dict(zip(names, row, strict=True))) for row in rows]
            )
            return [obj.pk for obj in made]
        named = list(zip(self._named, self._plain, strict=True))
        # The defaults once per call (a callable one, dict say, for every row).
        defaults = [
            (
                f,
                f.has_default() and callable(f.default),
                f.get_db_prep_save(f.get_default(), connection),
            )
            for f in self._others
        ]
        prepared: dict[tuple[int, Field], Any] = {}
        params: list[Any] = []
        for row in rows:
            if len(row) != len(named):
                raise TypeError(f"expected {len(named)} values, got {len(row)}")
            for (f, plain), value in zip(named, row, strict=True):
                if type(value) is plain:
                    params.append(value)
                    continue
                key = (id(value), f)  # the row holds the value: its id stays its own
                if key not in prepared:
                    prepared[key] = f.get_db_prep_save(value, connection)
                params.append(prepared[key])
            for f, calls, value in defaults:
                params.append(f.get_db_prep_save(f.get_default(), connection) if calls else value)
        sql, returning_params, per_column = self._statement(len(rows))
        with connection.cursor() as cursor:
            if per_column:
                # Not prepared: an array of JSON arrives as text[], which the server
                # converts to jsonb[] only when the statement itself says so. (UNNEST is
                # Django's own way to keep its planning short.)
                width = len(params) // len(rows)
                columns = [params[i::width] for i in range(width)]
                cursor.execute(sql, [*columns, *returning_params])
            else:
                params.extend(returning_params)
                execute(connection, cursor, sql, params, tuple(range(len(params))))
            return [row[0] for row in connection.ops.fetch_returned_insert_rows(cursor)]

    def instances(self, ids: Sequence[Any], rows: Sequence[Sequence[Any]]) -> list[Model]:
        """The saved model instances of `rows` written with primary keys `ids`, as
        bulk_create would answer them (the other fields at their defaults)."""
        fields = self._model._meta.concrete_fields
        where = {f.attname: i for i, f in enumerate(fields)}
        places = [where[f.attname] for f in self._named]
        pk_place = where[self._model._meta.pk.attname]
        template = [f.get_default() for f in fields]
        calls = [(i, f) for i, f in enumerate(fields) if f.has_default() and callable(f.default)]
        made = []
        for pk, row in zip(ids, rows, strict=True):
            values = template.copy()
            for i, f in calls:
                values[i] = f.get_default()  # (a dict of its own for each)
            for place, value in zip(places, row, strict=True):
                values[place] = value
            values[pk_place] = pk
            made.append(self._model.from_db(self._using, None, values))
        return made


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
    On SQLite outside a transaction, straight through its connection (_sqlite_together).
    Otherwise, or when the ORM must save a row (signal receivers), both inside a
    transaction (a savepoint inside the caller's)."""
    connection = connections[using]
    first, second = parent.statement, child.statement
    link_index = None
    if first is not None and second is not None:
        link_index = next(i for i, f in enumerate(second.fields) if f.name == link)
        if first.late or any(i != link_index for i, _f in second.late):
            link_index = None  # another row still to be saved first: the plain way
    if link_index is not None and _sqlite_direct(connection):
        parent_pk, child_pk = _sqlite_together(connection, first, second, link_index)
        return _linked(parent, child, second.fields[link_index], parent_pk, child_pk, using)
    if link_index is None or connection.vendor != "postgresql":
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
    return _linked(parent, child, second.fields[link_index], parent_pk, child_pk, using)


def _linked(parent, child, link_field, parent_pk, child_pk, using: str) -> tuple[Model, Model]:
    setattr(child.obj, link_field.attname, parent_pk)
    link_field.set_cached_value(child.obj, parent.obj)  # kept, as the ORM would
    return _saved(parent.obj, parent_pk, using), _saved(child.obj, child_pk, using)


def _sqlite_direct(connection) -> bool:
    """Whether insert_together may write straight through SQLite's own connection: our
    SQLite backend (its write lock), outside any transaction (inside one, a savepoint is
    Django's business; so is autocommit switched off), and nobody watching Django's cursors (DEBUG's query log,
    assertNumQueries, an execute_wrapper)."""
    return (
        connection.vendor == "sqlite"
        and hasattr(connection, "_write_lock_acquire")
        and not connection.in_atomic_block
        and connection.get_autocommit()
        and not connection.queries_logged
        and not connection.execute_wrappers
    )


def _sqlite_together(connection, first: _Statement, second: _Statement, link: int):
    """Both INSERTs in one transaction on the sqlite3 connection itself: the same
    statements, write lock and BEGIN mode as through Django's atomic() and cursors, whose
    layers (autocommit switches, cursor wrappers, on-commit bookkeeping) cost about as
    much again as SQLite's own work for these two rows (45 of 125 µs a webhook). Errors
    come out as Django's (IntegrityError for a repeated CallSid), after a rollback."""
    connection.validate_thread_sharing()
    connection.ensure_connection()
    from callcenter.db.sqlite3.base import qmark  # (the %s → ? its cursors would make)

    raw = connection.connection
    begin = f"BEGIN {connection.transaction_mode}" if connection.transaction_mode else "BEGIN"
    params = list(second.params)
    with connection.wrap_database_errors:
        connection._write_lock_acquire()
        try:
            try:
                raw.execute(begin)
                (parent_pk,) = raw.execute(qmark(first.sql), first.params).fetchone()
                params[link] = parent_pk
                (child_pk,) = raw.execute(qmark(second.sql), params).fetchone()
                raw.execute("COMMIT")
            except BaseException:
                if raw.in_transaction:
                    _sqlite_rollback(connection, raw)
                raise
        finally:
            connection._write_lock_release()
    return parent_pk, child_pk


def _sqlite_rollback(connection, raw) -> None:
    """ROLLBACK after a failed write; a connection that cannot roll back is closed (as
    Django's atomic() does), so no transaction outlives the write lock."""
    try:
        raw.execute("ROLLBACK")
    except Exception:
        logger.warning("rollback failed; closing the connection", exc_info=True)
        connection.close()
