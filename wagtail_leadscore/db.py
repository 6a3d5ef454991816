"""Database helpers shared by the write paths."""

import hashlib
import json
import weakref
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from typing import Protocol

from django.db import DEFAULT_DB_ALIAS, ProgrammingError, connections, router, transaction


def savepoint_if_in_transaction(using=DEFAULT_DB_ALIAS):
    """A savepoint inside the caller's transaction (e.g. ATOMIC_REQUESTS), else nothing.

    In autocommit a failed statement leaves nothing to undo, and skipping BEGIN / COMMIT
    keeps the tracking hot path at one round trip per write.
    """
    if connections[using].in_atomic_block:
        return transaction.atomic(using=using)
    return nullcontext()


@contextmanager
def tracking_transaction(model, async_commit):
    """One transaction (one commit) for a few tracking writes, e.g. a new visitor and its
    first event; on PostgreSQL, with ``async_commit``, a commit that does not wait for the
    disk flush. Inside the caller's transaction it is only a savepoint, and never async."""
    connection = connections[router.db_for_write(model)]
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=connection.alias):
        if async_commit and outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def select_for_update(queryset, **options):
    """``queryset.select_for_update(**options)`` without the options this database lacks
    (Django refuses them): without ``no_key`` (PostgreSQL's lighter lock) the rows get the
    ordinary row lock; without ``of`` (MySQL, MariaDB) the rows of every table the query
    reads are locked, not only those named."""
    features = connections[router.db_for_write(queryset.model)].features
    if not features.has_select_for_no_key_update:
        options.pop("no_key", None)
    if not features.has_select_for_update_of:
        options.pop("of", None)
    return queryset.select_for_update(**options)


def claim_due(model, due, order_by, limit, **lease):
    """The ids of up to ``limit`` rows of ``model`` matching ``due``, claimed: locked with
    ``SKIP LOCKED`` on PostgreSQL (several workers share the rows, none takes another's)
    and updated with ``lease`` (a status, a lease end) in the same transaction."""
    with transaction.atomic(using=router.db_for_write(model)):
        ids = list(model.objects.select_for_update(skip_locked=True).filter(due)
                   .order_by(*order_by).values_list("pk", flat=True)[:limit])
        model.objects.filter(pk__in=ids).update(**lease)
    return ids


def can_insert_for_visitor(model):
    """Whether :func:`insert_for_visitor` runs here. Not on MySQL or MariaDB: there an
    ``INSERT … SELECT`` holds the table's auto-increment lock while it waits for the
    contact's row lock (the foreign key check), and deadlocks with a transaction that
    holds that row lock and inserts an event (``qualify``, ``identify``)."""
    connection = connections[router.db_for_write(model)]
    return connection.features.can_return_columns_from_insert and connection.vendor != "mysql"


class InsertCompanion(Protocol):
    """SQL that runs in the very statement inserting a visitor's event (PostgreSQL): more
    data-modifying CTEs reading the inserted row from ``leadscore_event`` (``id``,
    ``contact_id``, ``visitor_id``), and one more column of the statement's result. Scoring
    is one (``scoring.store.ScoringInsert``): a scored page view then costs one round
    trip."""

    ctes: tuple  # "name AS (...)", ... after the event's CTE
    result: str  # a text expression over the CTEs: the value ``read`` gets

    def params(self) -> list:
        """The parameters of ``ctes``, in order."""

    def read(self, value):
        """Called with the ``result`` of a statement that inserted the event."""


class JoinedCompanions:
    """Several :class:`InsertCompanion` in one INSERT: their CTEs one after the other, and
    their results (text each) as one JSON array."""

    def __init__(self, companions):
        self.companions = tuple(companions)
        self.ctes = tuple(cte for companion in self.companions for cte in companion.ctes)
        self.result = ("CAST(json_build_array("
                       + ", ".join(companion.result for companion in self.companions)
                       + ") AS text)")

    def params(self):
        return [param for companion in self.companions for param in companion.params()]

    def read(self, value):
        for companion, part in zip(self.companions, json.loads(value), strict=True):
            companion.read(part)


def insert_for_visitor(event, visitor_id, async_commit=False, companion=None):
    """INSERT ``event`` for a visitor, with the visitor's current contact, in one statement.

    ``INSERT … SELECT … FROM visitor WHERE id = … ON CONFLICT DO NOTHING RETURNING``: no
    SELECT round trip first, and a seen ``dedupe_key`` is skipped without an error. Returns
    False when nothing was inserted (no such visitor, a visitor who objected to tracking,
    or the dedupe_key was seen). Needs
    INSERT … RETURNING (PostgreSQL, SQLite 3.35+); a ``companion`` (an
    :class:`InsertCompanion`) needs data-modifying CTEs (PostgreSQL).

    ``async_commit`` on PostgreSQL, outside a transaction: the statement's own commit does
    not wait for the WAL flush (``synchronous_commit`` off for this statement only).
    """
    from .models import Visitor

    model = type(event)
    connection = connections[router.db_for_write(model)]
    async_commit = (async_commit and connection.vendor == "postgresql"
                    and not connection.in_atomic_block)
    joined = (companion.ctes, companion.result) if companion is not None else None
    sql, fields = _insert_for_visitor_sql(model, connection.alias, async_commit, joined)
    params = [field.get_db_prep_save(getattr(event, field.attname), connection)
              for field in fields]
    params.append(Visitor._meta.pk.get_db_prep_value(visitor_id, connection))
    if companion is not None:
        params.extend(companion.params())
    with connection.cursor() as cursor:
        execute_prepared(cursor, sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    event.pk, event.contact_id = row[:2]
    event.visitor_id = visitor_id
    event._state.adding = False
    event._state.db = connection.alias
    if companion is not None:
        companion.read(row[2])
    return True


# psycopg connection -> the names of the statements prepared on its server session.
_prepared_names = weakref.WeakKeyDictionary()


def execute_prepared(cursor, sql, params):
    """``cursor.execute(sql, params)``, on PostgreSQL as a prepared statement: planning costs
    the hot path's big statements as much as running them, and Django never prepares
    (parameters are bound on the client). Not behind a transaction pooler
    (``DISABLE_SERVER_SIDE_CURSORS``), where a prepared statement may be on another
    server session. Prepared statements outlive rollbacks; one lost otherwise (``DISCARD
    ALL``) is prepared again."""
    connection = cursor.db
    if (connection.vendor != "postgresql"
            or connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")):
        cursor.execute(sql, params)
        return
    name, prepare, execute = _prepared_sql(sql)
    names = _prepared_names.setdefault(connection.connection, set())
    if name not in names:
        cursor.execute(prepare)
        names.add(name)
    try:
        cursor.execute(execute, params)
    except ProgrammingError as error:
        if getattr(error.__cause__, "sqlstate", None) != "26000":  # invalid statement name
            raise
        names.clear()
        if connection.in_atomic_block:  # the transaction is aborted: the caller decides
            raise
        cursor.execute(prepare)
        names.add(name)
        cursor.execute(execute, params)


@lru_cache(maxsize=64)
def _prepared_sql(sql):
    """(name, PREPARE statement, EXECUTE statement with %s placeholders) for ``sql``."""
    parts = sql.split("%s")
    name = f"wagtail_leadscore_{hashlib.sha1(sql.encode()).hexdigest()[:16]}"
    numbered = "".join(f"{part}${number}" for number, part in enumerate(parts[:-1], 1))
    prepare = f"PREPARE {name} AS {numbered}{parts[-1]}"
    arguments = f"({', '.join(['%s'] * (len(parts) - 1))})" if len(parts) > 1 else ""
    return name, prepare, f"EXECUTE {name}{arguments}"


@lru_cache(maxsize=None)
def _insert_for_visitor_sql(model, alias, async_commit, joined=None):
    from .models import Visitor

    connection = connections[alias]
    quote = connection.ops.quote_name
    fields = [
        field for field in model._meta.concrete_fields
        if not field.primary_key and field.attname not in ("visitor_id", "contact_id")
    ]
    # PostgreSQL types the SELECT list from its values, so NULLs need their column's type.
    if connection.vendor == "postgresql":
        placeholders = [f"CAST(%s AS {field.db_type(connection)})" for field in fields]
    else:
        placeholders = ["%s"] * len(fields)
    # set_config(..., true) lasts for the statement's own (implicit) transaction only.
    ctes = (["leadscore_commit AS (SELECT set_config('synchronous_commit', 'off', true))"]
            if async_commit else [])
    returning = [quote("id"), quote("contact_id")]
    insert = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(field.column) for field in fields)}, "
        f"{quote('visitor_id')}, {quote('contact_id')}) "
        f"SELECT {', '.join(placeholders)}, v.{quote('id')}, v.{quote('contact_id')} "
        f"FROM {quote(Visitor._meta.db_table)} v{', leadscore_commit' if async_commit else ''} "
        f"WHERE v.{quote('id')} = %s AND NOT v.{quote('tracking_objected')} "
        f"ON CONFLICT DO NOTHING RETURNING "
    )
    if joined is None:
        sql = f"{insert}{', '.join(returning)}"
    else:
        companion_ctes, result = joined
        ctes.append(f"leadscore_event AS ({insert}{', '.join([*returning, quote('visitor_id')])})")
        sql = f"SELECT id, contact_id, {result} FROM leadscore_event"
        ctes.extend(companion_ctes)
    return (f"WITH {', '.join(ctes)} {sql}" if ctes else sql), fields
