"""The fastest way each database has to take many rows: COPY on PostgreSQL, executemany elsewhere.

(A handful of rows, one person from a form, goes in as plain INSERTs: COPY costs more round trips.)

This bypasses the ORM's statement building, not its rules: callers are services that have
already validated what they write (`person_upsert_many` writes new people and their contact
points this way), the benchmark-scale loader (`barnstorm seed --fast`), and the raw baseline of
`barnstorm bench import`. Nothing that people send us reaches it without a service in between.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable

from django.db import connections, models, transaction
from django.utils import timezone

# Up to this many rows, PostgreSQL takes plain INSERTs (one round trip; the driver pipelines them)
# faster than COPY, whose start, data and end are three: one person from a form is one row a table.
SMALL_BATCH = 8

# Field types whose Python values the database drivers already take as they are; every
# other field's values go through the field's own get_db_prep_save (JSON, dates on SQLite…).
_PASS_THROUGH = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "EmailField",
    "FloatField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
}


def bulk_insert_rows(
    model: type[models.Model],
    columns: list[str],
    rows: Iterable[tuple],
    chunk_size: int = 50_000,
    using: str = "default",
    reset_sequence: bool = True,
) -> int:
    """Insert `rows` (tuples of Python values in the order of `columns`) into `model`'s table.

    `columns` are field names or attnames ("person" or "person_id"). Fields left out take
    their model default, worked out once per call (auto_now fields: the time of the call).
    Each chunk is one transaction. When the rows carry explicit ids, the table's id sequence
    is moved past them afterwards so that later ORM inserts do not collide. Returns the
    number of rows.
    """
    connection = connections[using]
    postgres = connection.vendor == "postgresql"
    fields = [model._meta.get_field(name) for name in columns]
    converters = [_converter(field, connection, postgres) for field in fields]
    needs_conversion = any(converters)
    omitted = [f for f in model._meta.concrete_fields if f not in fields and not f.primary_key]
    # Defaults are constants for the whole call: prepare them once, append them to each row.
    defaults = tuple(f.get_db_prep_save(_default(f), connection) for f in omitted)
    table = connection.ops.quote_name(model._meta.db_table)
    column_sql = ", ".join(connection.ops.quote_name(f.column) for f in fields + omitted)

    def prepare(row: tuple) -> tuple:
        return tuple(v if c is None else c(v) for v, c in zip(row, converters, strict=True)) + defaults

    total = 0
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, chunk_size)):
        if needs_conversion:
            chunk = [prepare(row) for row in chunk]
        elif defaults:
            chunk = [tuple(row) + defaults for row in chunk]
        # Inside a caller's transaction (one person from a form) a savepoint would only cost two round
        # trips: a failure rolls the caller back anyway. On its own, each chunk is one transaction.
        in_transaction = connection.in_atomic_block
        with (
            transaction.atomic(using=using, savepoint=not in_transaction),
            connection.cursor() as cursor,
            connection.wrap_database_errors,
        ):
            if postgres and len(chunk) > SMALL_BATCH:
                with cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy:
                    for row in chunk:
                        copy.write_row(row)
            else:
                placeholders = ", ".join(["%s"] * (len(fields) + len(omitted)))
                cursor.executemany(f"INSERT INTO {table} ({column_sql}) VALUES ({placeholders})", chunk)
        total += len(chunk)

    pk = model._meta.pk
    if reset_sequence and postgres and total and any(f.column == pk.column for f in fields):
        _reset_sequence(connection, model._meta.db_table, pk.column)
    return total


def insert_from_select(
    model: type[models.Model], rows, *, fields: list[str], using: str = "default", **constants
) -> int:
    """`INSERT INTO model (fields…, constants…) SELECT …`: the rows of a `values_list` queryset
    (its values in the order of `fields`), plus the same constant for every row, in one statement
    that never brings the rows into Python (snapshots, a mailing's recipients, a campaign's
    contacts). Returns the number of rows written."""
    connection = connections[using]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in [*fields, *constants])
    select_sql, params = rows.query.sql_with_params()
    extra = "".join(", %s" for _ in constants)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({columns}) SELECT s.*{extra} FROM ({select_sql}) s",
            [*constants.values(), *params],
        )
        return cursor.rowcount


def _default(field: models.Field):
    if field.has_default():
        return field.get_default()
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return timezone.now()
    if field.null:
        return None
    if field.empty_strings_allowed:
        return ""
    raise ValueError(f"bulk_insert_rows: {field.model.__name__}.{field.name} needs a value")


def _converter(field: models.Field, connection, postgres: bool) -> Callable | None:
    kind = field.get_internal_type()
    if kind in _PASS_THROUGH or (postgres and kind == "DateTimeField"):
        return None
    if postgres and kind == "JSONField":
        # COPY reads jsonb from its text form: json.dumps is several times cheaper than the
        # driver's Jsonb wrapper, which imports pay once or twice per row.
        def to_json(value):
            return None if value is None else json.dumps(value, cls=field.encoder)

        return to_json

    def convert(value):
        return field.get_db_prep_save(value, connection)

    return convert


def _reset_sequence(connection, table: str, column: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX({connection.ops.quote_name(column)}), 0) + 1,"
            f" false) FROM {connection.ops.quote_name(table)}",
            [table, column],
        )


def reserve_ids(model: type[models.Model], count: int, using: str = "default") -> list[int]:
    """Take `count` fresh primary keys for `model`, as an INSERT would, without inserting.

    PostgreSQL draws them from the table's sequence, which is safe beside concurrent writers.
    SQLite continues after the highest id ever used (AUTOINCREMENT's record included); call it
    inside a transaction, which on SQLite holds the write lock (BEGIN IMMEDIATE) until commit.
    """
    if count <= 0:
        return []
    connection = connections[using]
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
            )
            return [row[0] for row in cursor.fetchall()]
        if not connection.in_atomic_block:
            raise RuntimeError("reserve_ids on SQLite must run inside a transaction")
        cursor.execute(
            f"SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0),"
            f" COALESCE((SELECT MAX({connection.ops.quote_name(column)}) FROM {connection.ops.quote_name(table)}), 0))",
            [table],
        )
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def bulk_insert_objects(objects: list[models.Model], using: str = "default") -> None:
    """Insert unsaved model instances of one model with bulk_insert_rows, giving them their ids.

    Primary keys are reserved first (reserve_ids), so callers can point other rows at the new
    ones; auto_now/auto_now_add fields get the time of the call, on the instances too. (Rows
    nobody points at go in cheaper as tuples through bulk_insert_rows.)
    """
    if not objects:
        return
    model = type(objects[0])
    if len(objects) <= SMALL_BATCH and connections[using].vendor == "postgresql":
        # INSERT … RETURNING gives the ids in the same round trip that writes the rows.
        model.objects.using(using).bulk_create(objects)
        return
    now = timezone.now()
    fields = model._meta.concrete_fields
    for obj, pk in zip(objects, reserve_ids(model, len(objects), using=using), strict=True):
        obj.pk = pk
    stamped = [f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for obj in objects:
        for attname in stamped:
            setattr(obj, attname, now)
    attnames = [f.attname for f in fields]
    bulk_insert_rows(
        model,
        attnames,
        (tuple(getattr(obj, name) for name in attnames) for obj in objects),
        using=using,
        reset_sequence=False,
    )
    for obj in objects:
        obj._state.adding = False
        obj._state.db = using


def rows_where_in(
    model: type[models.Model], column: str, values: Iterable, select: list[str], using: str = "default"
) -> list[tuple]:
    """`select` (field names) of the rows whose `column` is one of `values`, as tuples.

    For lookups by thousands of keys at once (a batch of imported rows), where building an
    ORM `__in` filter costs more than the query: PostgreSQL takes the keys as one array
    parameter; SQLite takes them in chunks that stay under its limit of bound parameters.
    """
    values = list(dict.fromkeys(values))
    if not values:
        return []
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    key = quote(model._meta.get_field(column).column)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in select)
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT {columns} FROM {table} WHERE {key} = ANY(%s)", [values])
            rows.extend(cursor.fetchall())
        else:
            for start in range(0, len(values), 900):
                chunk = values[start : start + 900]
                placeholders = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"SELECT {columns} FROM {table} WHERE {key} IN ({placeholders})", chunk)
                rows.extend(cursor.fetchall())
    return rows


def bulk_update_objects(objects: list[models.Model], fields: list[str], using: str = "default") -> None:
    """Write `fields` of saved instances of one model: one UPDATE statement run for every row.

    The driver sends the rows together (executemany; a pipeline in psycopg 3), where the ORM's
    bulk_update builds a CASE expression with one WHEN per row and field.
    """
    if not objects:
        return
    connection = connections[using]
    model = type(objects[0])
    quote = connection.ops.quote_name
    concrete = [model._meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in concrete)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(model._meta.pk.column)} = %s"
    params = [[f.get_db_prep_save(getattr(obj, f.attname), connection) for f in concrete] + [obj.pk] for obj in objects]
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.executemany(sql, params)
