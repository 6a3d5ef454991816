"""The SQL of the scoring hot path: counter upserts, ledger inserts, score increments.

Every write is an atomic upsert (``value = value + n``), so concurrent requests for one
person never lose an update; nothing reads a score and writes it back.
"""

from dataclasses import dataclass

from django.db import connections, router

from .models import Score, ScoreCounter, ScoreEntry

ENTRY_COLUMNS = ("event_id", "rule_id", "page_id", "source", "label", "dimension", "points",
                 "counted", "day", "occurred_at")


@dataclass(frozen=True)
class Owner:
    """Whose scores: a contact, or an anonymous visitor (``column`` names the FK)."""

    column: str  # "contact_id" or "visitor_id"
    id: object

    @property
    def is_contact(self):
        return self.column == "contact_id"

    @classmethod
    def of(cls, event):
        if event.contact_id is not None:
            return cls("contact_id", event.contact_id)
        if event.visitor_id is not None:
            return cls("visitor_id", event.visitor_id)
        return None

    def filter(self):
        return {self.column: self.id}


def connection_for(model):
    return connections[router.db_for_write(model)]


def _owner_param(owner, connection):
    field = (Score._meta.get_field("contact") if owner.is_contact
             else Score._meta.get_field("visitor"))
    return field.get_db_prep_save(owner.id, connection)


def increment_counters(owner, keys):
    """Add one to each counter ``(key, expires_day)`` of ``owner``; return {key: new count}."""
    connection = connection_for(ScoreCounter)
    quote = connection.ops.quote_name
    table = quote(ScoreCounter._meta.db_table)
    rows = ", ".join(["(%s, %s, 1, %s)"] * len(keys))
    sql = (
        f"INSERT INTO {table} AS t ({quote(owner.column)}, {quote('key')}, {quote('count')}, "
        f"{quote('expires_day')}) VALUES {rows} "
        f"ON CONFLICT ({quote(owner.column)}, {quote('key')}) "
        f"WHERE {quote(owner.column)} IS NOT NULL "
        f"DO UPDATE SET {quote('count')} = t.{quote('count')} + 1 "
        f"RETURNING {quote('key')}, {quote('count')}"
    )
    owner_id = _owner_param(owner, connection)
    params = [value for key, expires in keys for value in (owner_id, key, expires)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def write_entries(owner, entries, deltas):
    """Insert the ledger ``entries`` (dicts of ENTRY_COLUMNS) and add ``deltas``
    ({dimension: points}) to the owner's scores; return {dimension: new value}.

    PostgreSQL does both in one statement (the ledger insert as a data-modifying CTE);
    other databases in two.
    """
    connection = connection_for(ScoreEntry)
    quote = connection.ops.quote_name
    owner_id = _owner_param(owner, connection)
    entry_sql, entry_params = _entry_insert(owner, owner_id, entries, connection)
    score_sql, score_params = _score_upsert(owner, owner_id, deltas, connection)
    with connection.cursor() as cursor:
        if not deltas:
            cursor.execute(entry_sql, entry_params)
            return {}
        if connection.vendor == "postgresql":
            cursor.execute(f"WITH {quote('entry')} AS ({entry_sql}) {score_sql}",
                           entry_params + score_params)
        else:
            cursor.execute(entry_sql, entry_params)
            cursor.execute(score_sql, score_params)
        return dict(cursor.fetchall())


def _entry_insert(owner, owner_id, entries, connection):
    quote = connection.ops.quote_name
    fields = [ScoreEntry._meta.get_field(column.removesuffix("_id")) for column in ENTRY_COLUMNS]
    columns = ", ".join(quote(column) for column in (owner.column, *ENTRY_COLUMNS))
    row = "(" + ", ".join(["%s"] * (len(ENTRY_COLUMNS) + 1)) + ")"
    params = []
    for entry in entries:
        params.append(owner_id)
        params.extend(field.get_db_prep_save(entry[column], connection)
                      for field, column in zip(fields, ENTRY_COLUMNS, strict=True))
    sql = (f"INSERT INTO {quote(ScoreEntry._meta.db_table)} ({columns}) "
           f"VALUES {', '.join([row] * len(entries))}")
    return sql, params


def _score_upsert(owner, owner_id, deltas, connection):
    quote = connection.ops.quote_name
    column = quote(owner.column)
    rows = ", ".join(["(%s, %s, %s)"] * len(deltas))
    sql = (
        f"INSERT INTO {quote(Score._meta.db_table)} AS t ({column}, {quote('dimension')}, "
        f"{quote('value')}) VALUES {rows} "
        f"ON CONFLICT ({column}, {quote('dimension')}) WHERE {column} IS NOT NULL "
        f"DO UPDATE SET {quote('value')} = t.{quote('value')} + excluded.{quote('value')} "
        f"RETURNING {quote('dimension')}, {quote('value')}"
    )
    params = [value for dimension, points in deltas.items()
              for value in (owner_id, dimension, points)]
    return sql, params


def merge_visitor_into_contact(visitor_id, contact_id):
    """An anonymous visitor's ledger, scores and counters become the contact's: sums are
    added with atomic upserts, so views recorded meanwhile are never lost."""
    connection = connection_for(Score)
    quote = connection.ops.quote_name
    contact_param = Score._meta.get_field("contact").get_db_prep_save(contact_id, connection)
    visitor_param = Score._meta.get_field("visitor").get_db_prep_save(visitor_id, connection)
    ScoreEntry.objects.filter(visitor_id=visitor_id).update(contact_id=contact_id,
                                                            visitor_id=None)
    with connection.cursor() as cursor:
        for model, key, value in ((Score, "dimension", "value"),
                                  (ScoreCounter, "key", "count")):
            table = quote(model._meta.db_table)
            extra = ", expires_day" if model is ScoreCounter else ""
            cursor.execute(
                f"INSERT INTO {table} AS t (contact_id, {key}, {value}{extra}) "
                f"SELECT %s, {key}, {value}{extra} FROM {table} WHERE visitor_id = %s "
                f"ON CONFLICT (contact_id, {key}) WHERE contact_id IS NOT NULL "
                f"DO UPDATE SET {value} = t.{value} + excluded.{value}",
                [contact_param, visitor_param],
            )
            cursor.execute(f"DELETE FROM {table} WHERE visitor_id = %s", [visitor_param])
