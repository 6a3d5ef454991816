"""Database helpers shared by the write paths."""

from contextlib import contextmanager, nullcontext
from functools import lru_cache

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction


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


def can_insert_for_visitor(model):
    return connections[router.db_for_write(model)].features.can_return_columns_from_insert


def insert_for_visitor(event, visitor_id, async_commit=False):
    """INSERT ``event`` for a visitor, with the visitor's current contact, in one statement.

    ``INSERT … SELECT … FROM visitor WHERE id = … ON CONFLICT DO NOTHING RETURNING``: no
    SELECT round trip first, and a seen ``dedupe_key`` is skipped without an error. Returns
    False when nothing was inserted (no such visitor, or the dedupe_key was seen). Needs
    INSERT … RETURNING (PostgreSQL, SQLite 3.35+).

    ``async_commit`` on PostgreSQL, outside a transaction: the statement's own commit does
    not wait for the WAL flush (``synchronous_commit`` off for this statement only).
    """
    from .models import Visitor

    model = type(event)
    connection = connections[router.db_for_write(model)]
    async_commit = (async_commit and connection.vendor == "postgresql"
                    and not connection.in_atomic_block)
    sql, fields = _insert_for_visitor_sql(model, connection.alias, async_commit)
    params = [field.get_db_prep_save(getattr(event, field.attname), connection)
              for field in fields]
    params.append(Visitor._meta.pk.get_db_prep_value(visitor_id, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    event.pk, event.contact_id = row
    event.visitor_id = visitor_id
    event._state.adding = False
    event._state.db = connection.alias
    return True


@lru_cache(maxsize=None)
def _insert_for_visitor_sql(model, alias, async_commit):
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
    commit_mode = (
        "WITH leadscore_commit AS (SELECT set_config('synchronous_commit', 'off', true)) "
        if async_commit else ""
    )
    sql = (
        f"{commit_mode}INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(field.column) for field in fields)}, "
        f"{quote('visitor_id')}, {quote('contact_id')}) "
        f"SELECT {', '.join(placeholders)}, v.{quote('id')}, v.{quote('contact_id')} "
        f"FROM {quote(Visitor._meta.db_table)} v{', leadscore_commit' if async_commit else ''} "
        f"WHERE v.{quote('id')} = %s "
        f"ON CONFLICT DO NOTHING RETURNING {quote('id')}, {quote('contact_id')}"
    )
    return sql, fields
