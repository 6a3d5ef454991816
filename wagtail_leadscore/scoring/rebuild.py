"""Rebuild every score from the event log, with the current pages, rules and window.

The log is replayed per owner in the order it was recorded, through the same
``ledger_lines`` as live scoring, so an unchanged configuration gives exactly the
incremental scores. Memory stays bounded: one query streams the log (on PostgreSQL a
server-side cursor, so one snapshot), and the ledger is written per batch of owners. On
PostgreSQL the batches fill shadow tables with COPY, swapped in at the end in one short
transaction; elsewhere each batch replaces its owners' rows in its own transaction. Either
way the site keeps running.
"""

import json
import re
from contextlib import closing, contextmanager, suppress

from django.apps import apps
from django.db import DatabaseError, OperationalError, transaction
from django.db.models import Exists, Max, OuterRef, Q, TextField
from django.db.models.functions import Cast

from ..conf import get_setting
from ..models import Contact, Event, Visitor
from .aging import current_day, event_day
from .engine import counter_keys, entry_rows, ledger_lines, score_deltas
from .models import Score, ScoreCounter, ScoreEntry
from .pages import LeadScoringPageMixin
from .shadow import ShadowTables
from .sources import RuleSet, awarded_source, is_scored, page_source
from .store import ENTRY_COLUMNS, connection_for

OWNER_COLUMNS = ("contact_id", "visitor_id")
# The derived tables, in the order live scoring writes them (counters first).
SCORE_MODELS = (ScoreCounter, ScoreEntry, Score)
LOGGED_FIELDS = ("pk", "type", "name", "page_id", "path", "query", "properties", "occurred_at")
OCCURRED_AT, OWNER = 7, 8  # positions in a logged row
BATCH_OWNERS = 5_000
SWAP_ATTEMPTS = 3
FETCH_ROWS = 10_000
BULK_ROWS = 2_000  # rows per INSERT where there is no COPY
# Distinct (page, path, query) of page views whose matches are remembered: page-view
# triggers read nothing else, and most views repeat a URL seen before.
PAGE_VIEW_MEMO_SIZE = 100_000


class LoggedEvent:
    """A row of the log (``LOGGED_FIELDS``) with the attributes triggers read; its JSON is
    decoded only if read."""

    __slots__ = ("pk", "type", "name", "page_id", "path", "query", "_properties",
                 "occurred_at")

    def __init__(self, pk, type, name, page_id, path, query, properties, occurred_at):
        self.pk, self.type, self.name, self.page_id = pk, type, name, page_id
        self.path, self.query, self._properties, self.occurred_at = (path, query, properties,
                                                                     occurred_at)

    @property
    def properties(self):
        if isinstance(self._properties, str):
            self._properties = json.loads(self._properties)
        return self._properties


class Replay:
    """The configuration the log is replayed through, loaded once per rebuild."""

    def __init__(self):
        self.rules = RuleSet.load()
        self.page_sources = self._page_sources()
        self.page_paths = None
        self.page_view_matches = {}
        self.today = current_day()
        self.stage_since = dict(Contact.objects.values_list("pk", "stage_changed_at"))
        self.contacts_before = list(self.stage_since)

    @staticmethod
    def _page_sources():
        found = {}
        for model in apps.get_models():
            if issubclass(model, LeadScoringPageMixin):
                for page in model.objects.prefetch_related("leadscore_topics"):
                    if is_scored(page):
                        found[page.pk] = page_source(
                            page, [topic.pk for topic in page.leadscore_topics.all()])
        return found

    def page_path(self, page_id):
        if self.page_paths is None:
            from wagtail.models import Page

            self.page_paths = dict(Page.objects.values_list("pk", "path"))
        return self.page_paths.get(page_id)

    def matching(self, row):
        """The sources a logged row (``LOGGED_FIELDS``, then the owner) earns points
        from."""
        if row[1] != "page_view":
            return self._matching(LoggedEvent(*row[:OWNER]))
        key = row[3:6]  # page_id, path, query
        matched = self.page_view_matches.get(key)
        if matched is None:
            if len(self.page_view_matches) >= PAGE_VIEW_MEMO_SIZE:
                self.page_view_matches.clear()
            matched = self.page_view_matches[key] = self._matching(
                LoggedEvent(*row[:OWNER]))
        return matched

    def _matching(self, event):
        matched = []
        if event.type == "page_view" and event.page_id in self.page_sources:
            matched.append(self.page_sources[event.page_id])
        awarded = awarded_source(event)
        if awarded is not None:
            matched.append(awarded)
        for source, matches in self.rules.by_event_type.get(event.type, ()):
            if matches(event, self.page_path):
                matched.append(source)
        return matched

    def owner_rows(self, events, is_contact, stage_since):
        """Ledger rows and counters ``{key: (count, expires_day)}`` of one owner's logged
        rows, in recorded order."""
        counts, expiries, rows = {}, {}, []
        for event in events:
            matched = self.matching(event)
            if not matched:
                continue
            event_id, occurred_at = event[0], event[OCCURRED_AT]
            day = event_day(occurred_at)
            for source in matched:
                for key, expires in counter_keys(source, day):
                    counts[key] = counts.get(key, 0) + 1
                    expiries[key] = expires
            lines = ledger_lines(matched, day, counts, is_contact)
            rows.extend(entry_rows(event_id, occurred_at, day, self.today, lines,
                                   stage_since))
        return rows, {key: (count, expiries[key]) for key, count in counts.items()}


def rebuild_scores(progress=None):
    """Replace every ledger line, score and counter. Returns (owners, events, lines).

    ``progress(owners, events, lines)`` is called after each batch. On PostgreSQL, outside
    a transaction, the rows go to shadow tables that are then swapped in (``shadow.py``);
    elsewhere each batch replaces its owners' rows in place."""
    replay = Replay()
    connection = connection_for(ScoreEntry)
    if (connection.vendor != "postgresql" or connection.in_atomic_block
            or not ShadowTables.usable(connection, SCORE_MODELS)):
        totals = _replay_log(replay, progress)
    else:
        last_event = Event.objects.aggregate(last=Max("pk"))["last"] or 0
        with ShadowTables(connection, SCORE_MODELS) as shadow:
            totals = _replay_log(replay, progress, shadow.names)
            shadow.build_indexes()
            for attempt in range(1, SWAP_ATTEMPTS + 1):
                try:
                    with transaction.atomic(using=connection.alias):
                        shadow.swap()
                        # Owners with events recorded since the log was read: again, whole.
                        _replay_owners(replay, Event.objects.filter(pk__gt=last_event))
                    break
                except OperationalError:  # a lock timeout or deadlock against live traffic
                    if attempt == SWAP_ATTEMPTS:
                        raise
    _delete_rows_of_deleted_owners(replay.contacts_before)
    return totals


def _replay_log(replay, progress, tables=None):
    """Replay every owner in batches; into ``tables`` ({model: empty table}) if given,
    else in place (each batch deleting the rows it replaces)."""
    batch_size = get_setting("REBUILD_BATCH_EVENTS")
    owners = events = lines = 0
    for column in OWNER_COLUMNS:
        batch, batch_events, after = [], 0, None
        with closing(owners_events(column)) as owners_stream:
            for owner_id, owned_events in owners_stream:
                batch.append((owner_id, owned_events))
                batch_events += len(owned_events)
                if batch_events >= batch_size or len(batch) >= BATCH_OWNERS:
                    stale = None if tables else _stale_rows(column, batch, after)
                    lines += _write_batch(replay, column, batch, stale, tables)
                    owners, events = owners + len(batch), events + batch_events
                    batch, batch_events, after = [], 0, owner_id
                    if progress:
                        progress(owners, events, lines)
        stale = None if tables else _stale_rows(column, batch, after, last=True)
        lines += _write_batch(replay, column, batch, stale, tables)
        owners, events = owners + len(batch), events + batch_events
    return owners, events, lines


def _replay_owners(replay, events):
    """Replay, in place, the whole history of the owners of ``events``; a visitor's rows
    go if all its events have a contact now (identified meanwhile)."""
    for column in OWNER_COLUMNS:
        owner_ids = set(events.filter(**{f"{column}__isnull": False})
                        .values_list(column, flat=True))
        if column == "contact_id":  # a stage changed meanwhile counts from its new date
            replay.stage_since.update(Contact.objects.filter(pk__in=owner_ids)
                                      .values_list("pk", "stage_changed_at"))
        if owner_ids:
            with closing(owners_events(column, owner_ids)) as owners_stream:
                _write_batch(replay, column, list(owners_stream),
                             Q(**{f"{column}__in": owner_ids}))


def _delete_rows_of_deleted_owners(contacts_before):
    """Rows replayed for a contact or visitor deleted while the rebuild ran (the tables
    have no foreign keys to stop them). Contacts: those of ``contacts_before`` gone now;
    visitors (far more of them): any without its row."""
    gone = list(set(contacts_before).difference(Contact.objects.values_list("pk", flat=True)))
    alive = Visitor.objects.filter(pk=OuterRef("visitor_id"))
    for table in SCORE_MODELS:
        for start in range(0, len(gone), BATCH_OWNERS):
            table.objects.filter(contact_id__in=gone[start:start + BATCH_OWNERS]).delete()
        table.objects.filter(visitor_id__isnull=False).exclude(Exists(alive)).delete()


def _stale_rows(column, batch, after, last=False):
    """The rows a batch replaces: among the owners after ``after`` up to the batch's last
    owner (up to the end if ``last``), those of the batch's owners and of owners with no
    events left (erased, pruned). Owners first seen after the log was read keep theirs."""
    in_range = Q(**{f"{column}__isnull": False})
    if after is not None:
        in_range &= Q(**{f"{column}__gt": after})
    if not last:
        in_range &= Q(**{f"{column}__lte": batch[-1][0]})
    logged = _owned_events(column).filter(**{column: OuterRef(column)})
    return in_range & (Q(**{f"{column}__in": [owner_id for owner_id, _ in batch]})
                       | ~Exists(logged))


def _owned_events(column):
    """The events ``column`` names the owner of: a contact owns its events, an anonymous
    visitor those with no contact."""
    owned = Event.objects.filter(**{f"{column}__isnull": False})
    return owned.filter(contact__isnull=True) if column == "visitor_id" else owned


def owners_events(column, owner_ids=None):
    """(owner id, [logged row]) for each owner named by ``column`` (or each of
    ``owner_ids``), in recorded order."""
    events = _owned_events(column)
    if owner_ids is not None:
        events = events.filter(**{f"{column}__in": owner_ids})
    events = events.order_by(column, "pk")
    owner_id, owned_events = None, []
    for row in _stream(events, column):  # the logged row, then its owner
        if row[-1] != owner_id:
            if owned_events:
                yield owner_id, owned_events
            owner_id, owned_events = row[-1], []
        owned_events.append(row)
    if owned_events:
        yield owner_id, owned_events


def _stream(events, column):
    """Rows (*LOGGED_FIELDS, owner) of the ``events`` queryset, in its order."""
    connection = connection_for(Event)
    if (connection.vendor != "postgresql"
            or connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")):  # e.g. PgBouncer
        yield from events.values_list(*LOGGED_FIELDS, column).iterator(chunk_size=FETCH_ROWS)
        return
    # A server-side cursor in binary: the C loaders of psycopg, and JSON left as text.
    events = events.annotate(properties_text=Cast("properties", TextField())).values_list(
        *(name if name != "properties" else "properties_text" for name in LOGGED_FIELDS),
        column)
    sql, params = events.query.get_compiler(connection=connection).as_sql()
    with connection.cursor() as cursor:
        # A cursor's plan favours its first rows (here an index scan in owner order, several
        # times slower than scanning and sorting): the whole log is read.
        cursor.execute("SET cursor_tuple_fraction = 1")
    try:
        with connection.chunked_cursor() as cursor:
            cursor.cursor.execute(sql, params, binary=True)
            while rows := cursor.cursor.fetchmany(FETCH_ROWS):
                yield from rows
    finally:
        with suppress(DatabaseError), connection.cursor() as cursor:
            # In a transaction that failed, its rollback undoes the SET.
            cursor.execute("RESET cursor_tuple_fraction")


def _write_batch(replay, column, batch, stale, tables=None):
    """Replay the owners of ``batch`` and write their lines, scores and counters in one
    transaction, after deleting the ``stale`` rows (a Q; None: nothing to delete), into
    ``tables`` ({model: table}) or the models' own; returns the ledger lines written.

    On PostgreSQL the lines are sent as they are replayed: the database takes them in while
    Python replays the next owner."""
    is_contact = column == "contact_id"
    connection = connection_for(ScoreEntry)
    tables = tables or {}
    scores, counters, lines = [], [], 0
    with transaction.atomic(using=connection.alias):
        if stale is not None:
            for model in SCORE_MODELS:
                model.objects.filter(stale).delete()
        with _inserter(connection, ScoreEntry, (column, *ENTRY_COLUMNS),
                       tables.get(ScoreEntry)) as insert:
            for owner_id, events in batch:
                stage_since = replay.stage_since.get(owner_id) if is_contact else None
                rows, counts = replay.owner_rows(events, is_contact, stage_since)
                for row in rows:
                    insert((owner_id, *row))
                lines += len(rows)
                scores.extend((owner_id, dimension, value) for dimension, value
                              in score_deltas(rows, replay.today).items())
                counters.extend((owner_id, key, count, expires)
                                for key, (count, expires) in counts.items()
                                if expires is None or expires > replay.today)
        for model, rows, columns in ((Score, scores, ("dimension", "value")),
                                     (ScoreCounter, counters, ("key", "count", "expires_day"))):
            with _inserter(connection, model, (column, *columns), tables.get(model)) as insert:
                for row in rows:
                    insert(row)
    return lines


@contextmanager
def _inserter(connection, model, columns, table=None):
    """``insert(row)`` for rows of ``columns`` into ``table`` (default: ``model``'s): COPY
    on PostgreSQL, else bulk inserts of BULK_ROWS rows."""
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        with connection.cursor() as cursor, cursor.cursor.copy(
                f"COPY {quote(table or model._meta.db_table)} "
                f"({', '.join(map(quote, columns))}) "
                "FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([re.sub(r"\(.*\)$", "", model._meta.get_field(name).db_type(
                connection)) for name in columns])
            yield copy.write_row
        return
    pending = []

    def insert(row):
        pending.append(model(**dict(zip(columns, row, strict=True))))
        if len(pending) >= BULK_ROWS:
            model.objects.bulk_create(pending)
            pending.clear()

    yield insert
    model.objects.bulk_create(pending)
