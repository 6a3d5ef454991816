"""The SQL of the scoring hot path: counter upserts, ledger inserts, score increments.

Every write is an atomic upsert (``value = value + n``), so concurrent requests for one
person never lose an update; nothing reads a score and writes it back.
"""

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from django.db import connections, router

from ..conf import get_setting
from .models import STAGE, Score, ScoreCounter, ScoreEntry


class EntryRow(NamedTuple):
    """A ledger line to insert, in the order of its columns (COPY writes it as it is)."""

    event_id: int
    rule_id: int | None
    page_id: int | None
    source: str
    label: str
    dimension: str
    points: int
    counted: bool
    day: int
    occurred_at: object


ENTRY_COLUMNS = EntryRow._fields


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


def upsert_adding(connection, model, columns, rows, returning=()):
    """``INSERT INTO model (columns) rows`` (``VALUES …`` or a ``SELECT``) where a row
    meeting a stored one on the owner's unique key (the first two ``columns``) adds its
    last column to the stored value instead: atomic, no update lost to a concurrent one.
    MySQL and MariaDB have no partial keys: a plain unique key stands in (NULLs never
    collide) and is met by any conflict, hence ``ON DUPLICATE KEY``."""
    quote = connection.ops.quote_name
    table, added = quote(model._meta.db_table), quote(columns[-1])
    names = ", ".join(map(quote, columns))
    if connection.vendor == "mysql":
        sql = (f"INSERT INTO {table} ({names}) {rows} "
               f"ON DUPLICATE KEY UPDATE {added} = {table}.{added} + VALUES({added})")
    else:
        owner, key = map(quote, columns[:2])
        sql = (f"INSERT INTO {table} AS t ({names}) {rows} "
               f"ON CONFLICT ({owner}, {key}) WHERE {owner} IS NOT NULL "
               f"DO UPDATE SET {added} = t.{added} + excluded.{added}")
    if returning:
        sql += f" RETURNING {', '.join(map(quote, returning))}"
    return sql


def increment_counters(owner, keys):
    """Add one to each counter ``(key, expires_day)`` of ``owner``; return {key: new count}."""
    connection = connection_for(ScoreCounter)
    owner_id = _owner_param(owner, connection)
    rows, params = _values(connection, [(owner_id, key, expires, 1) for key, expires in keys],
                           [owner_type(owner, connection), "varchar", "integer", "integer"])
    sql = rows.prefix + upsert_adding(
        connection, ScoreCounter, (owner.column, "key", "expires_day", "count"), rows.select,
        returning=("key", "count"))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


@dataclass(frozen=True)
class Rows:
    prefix: str  # a WITH clause, or ""
    select: str  # what follows INSERT INTO t (columns)


def owner_type(owner, connection):
    field = Score._meta.get_field("contact" if owner.is_contact else "visitor")
    return field.target_field.rel_db_type(connection)


def _values(connection, rows, types):
    """Rows to insert. On PostgreSQL in autocommit with TRACKING_ASYNC_COMMIT, the
    statement's own commit does not wait for the disk flush, like the event it scores
    (a crash can lose the last moment of both; a rebuild repairs scores)."""
    row = "(" + ", ".join(["%s"] * len(types)) + ")"
    params = [value for values in rows for value in values]
    if connection.vendor != "postgresql":
        return Rows("", "VALUES " + ", ".join([row] * len(rows))), params
    typed = "(" + ", ".join(f"CAST(%s AS {db_type})" for db_type in types) + ")"
    values = f"(VALUES {', '.join([typed] * len(rows))}) AS v"
    if get_setting("TRACKING_ASYNC_COMMIT") and not connection.in_atomic_block:
        return Rows("WITH leadscore_commit AS (SELECT set_config('synchronous_commit', 'off', "
                    "true)) ", f"SELECT v.* FROM {values}, leadscore_commit"), params
    return Rows("", f"SELECT v.* FROM {values}"), params


def write_entries(owner, entries, deltas):
    """Insert the ledger ``entries`` (:class:`EntryRow`) and add ``deltas``
    ({dimension: points}) to the owner's scores; return {dimension: new value}.

    PostgreSQL does both in one statement (the ledger insert as a data-modifying CTE);
    other databases in two.
    """
    connection = connection_for(ScoreEntry)
    owner_id = _owner_param(owner, connection)
    entry_sql, entry_params = _entry_insert(owner, owner_id, entries, connection)
    if not deltas:
        with connection.cursor() as cursor:
            cursor.execute(entry_sql, entry_params)
        return {}
    rows, score_params = _values(
        connection, [(owner_id, dimension, points) for dimension, points in deltas.items()],
        [owner_type(owner, connection), "varchar", "integer"])
    quote = connection.ops.quote_name
    score_sql = upsert_adding(connection, Score, (owner.column, "dimension", "value"),
                              rows.select, returning=("dimension", "value"))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            prefix = rows.prefix.removesuffix(" ") + "," if rows.prefix else "WITH"
            cursor.execute(f"{prefix} {quote('entry')} AS ({entry_sql}) {score_sql}",
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
        params.extend(field.get_db_prep_save(value, connection)
                      for field, value in zip(fields, entry, strict=True))
    sql = (f"INSERT INTO {quote(ScoreEntry._meta.db_table)} ({columns}) "
           f"VALUES {', '.join([row] * len(entries))}")
    return sql, params


# The columns of the candidate lines a scored event sends with its INSERT (one JSON array of
# objects: one parameter, quoted on the client at the cost of one string), and their types.
LINE_COLUMNS = (("rule_id", "integer"), ("page_id", "integer"), ("source", "varchar"),
                ("label", "varchar"), ("dimension", "varchar"), ("points", "integer"),
                ("counted", "boolean"), ("aged", "integer"), ("counter", "varchar"),
                ("at_least", "integer"), ("at_most", "integer"))


class ScoringInsert:
    """An :class:`~..db.InsertCompanion` that scores an event in the statement that inserts
    it (PostgreSQL): the counter upserts, the ledger lines whose counter condition holds
    (``engine.is_earned``, in SQL) and the score upserts are CTEs after the event's. The
    owner is known only then (the visitor's contact, or the visitor), so each upsert comes
    twice, once per owner kind and conflict target.
    After the insert, ``deltas`` and ``scores`` are ``{dimension: points}`` added and
    ``{dimension: value}`` after."""

    def __init__(self, counter_keys, lines, day, occurred_at):
        """``counter_keys``: ``[(key, expires_day)]`` to count; ``lines``: ``(EntryRow,
        aged points, counter, at_least, at_most)`` for every line a contact could earn."""
        self.ctes, self.result = _scoring_sql(connection_for(ScoreEntry).alias)
        self.counter_keys, self.lines = counter_keys, lines
        self.day, self.occurred_at = day, occurred_at
        self.deltas = self.scores = None

    def params(self):
        keys = [{"key": key, "expires_day": expires} for key, expires in self.counter_keys]
        names = [name for name, _ in LINE_COLUMNS]
        lines = [dict(zip(names, (*row[1:8], *condition), strict=True))
                 for row, *condition in self.lines]
        return [json.dumps(keys), json.dumps(lines), STAGE, self.day, self.occurred_at]

    def read(self, value):
        outcome = json.loads(value)
        self.deltas, self.scores = outcome["deltas"] or {}, outcome["scores"] or {}


@lru_cache(maxsize=None)
def _scoring_sql(alias):
    connection = connections[alias]
    quote = connection.ops.quote_name
    counters = quote(ScoreCounter._meta.db_table)
    entries = quote(ScoreEntry._meta.db_table)
    scores = quote(Score._meta.db_table)

    def per_owner_kind(name, table, key, value, source, increment):
        """An upsert CTE per owner kind: contact (when the visitor has one), or visitor."""
        return [
            f"{name}_{column} AS (INSERT INTO {table} AS t ({column}, {key}, {value}"
            f"{', expires_day' if table == counters else ''}) "
            f"SELECT e.{column}, s.{key}, {increment}"
            f"{', s.expires_day' if table == counters else ''} FROM leadscore_event e, {source} "
            f"WHERE e.contact_id IS {'NOT NULL' if column == 'contact_id' else 'NULL'} "
            f"ON CONFLICT ({column}, {key}) WHERE {column} IS NOT NULL "
            f"DO UPDATE SET {value} = t.{value} + excluded.{value} RETURNING {key}, {value})"
            for column in ("contact_id", "visitor_id")
        ]

    line_columns = ", ".join(f"{name} {db_type}" for name, db_type in LINE_COLUMNS)
    ctes = (
        "leadscore_keys AS (SELECT * FROM json_to_recordset(CAST(%s AS json)) "
        "AS k(key varchar, expires_day integer))",
        *per_owner_kind("leadscore_counts", counters, "key", "count", "leadscore_keys s", "1"),
        "leadscore_counts AS (SELECT * FROM leadscore_counts_contact_id "
        "UNION ALL SELECT * FROM leadscore_counts_visitor_id)",
        f"leadscore_earned AS (SELECT l.* FROM leadscore_event e, "
        f"json_to_recordset(CAST(%s AS json)) AS l({line_columns}) "
        "LEFT JOIN leadscore_counts c ON c.key = l.counter "
        "WHERE (l.counter IS NULL OR c.count BETWEEN l.at_least AND l.at_most) "
        "AND (l.dimension <> %s OR e.contact_id IS NOT NULL))",
        f"leadscore_entries AS (INSERT INTO {entries} (contact_id, visitor_id, "
        f"{', '.join(quote(column) for column in ENTRY_COLUMNS)}) "
        "SELECT e.contact_id, CASE WHEN e.contact_id IS NULL THEN e.visitor_id END, e.id, "
        "l.rule_id, l.page_id, l.source, l.label, l.dimension, l.points, l.counted, "
        "CAST(%s AS integer), CAST(%s AS timestamptz) FROM leadscore_event e, leadscore_earned l)",
        "leadscore_deltas AS (SELECT dimension, CAST(sum(aged) AS integer) AS value "
        "FROM leadscore_earned WHERE counted GROUP BY dimension)",
        *per_owner_kind("leadscore_scores", scores, "dimension", "value", "leadscore_deltas s",
                        "s.value"),
    )
    result = (
        "CAST(json_build_object("
        "'deltas', (SELECT json_object_agg(dimension, value) FROM leadscore_deltas), "
        "'scores', (SELECT json_object_agg(dimension, value) FROM ("
        "SELECT * FROM leadscore_scores_contact_id UNION ALL "
        "SELECT * FROM leadscore_scores_visitor_id) AS s)) AS text)"
    )
    return ctes, result


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
        for model, columns in ((Score, ("dimension", "value")),
                               (ScoreCounter, ("key", "expires_day", "count"))):
            table = quote(model._meta.db_table)
            copied = ", ".join(f"s.{quote(column)}" for column in columns)
            cursor.execute(
                upsert_adding(connection, model, ("contact_id", *columns),
                              f"SELECT %s, {copied} FROM {table} s WHERE s.visitor_id = %s"),
                [contact_param, visitor_param],
            )
            cursor.execute(f"DELETE FROM {table} WHERE visitor_id = %s", [visitor_param])
