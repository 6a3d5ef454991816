"""Rebuild every score from the event log, with the current pages, rules and window.

The log is replayed per owner in the order it was recorded, through the same
``ledger_lines`` as live scoring, so an unchanged configuration gives exactly the
incremental scores. Memory stays bounded: events are streamed, and the ledger is written
per batch of owners, each batch in its own short transaction (the site keeps running).
"""

from itertools import groupby

from django.apps import apps
from django.db import transaction

from ..models import Contact, Event
from .aging import current_day, event_day
from .engine import counter_keys, entry_rows, ledger_lines, score_deltas
from .models import Score, ScoreCounter, ScoreEntry
from .pages import LeadScoringPageMixin
from .sources import RuleSet, is_scored, page_source
from .store import ENTRY_COLUMNS, connection_for

EVENT_FIELDS = ("pk", "type", "name", "visitor_id", "contact_id", "page_id", "path", "query",
                "properties", "occurred_at")
BATCH_EVENTS = 20_000


class LoggedEvent:
    """A row of the log with the attributes triggers read."""

    __slots__ = EVENT_FIELDS

    def __init__(self, row):
        for name, value in zip(EVENT_FIELDS, row, strict=True):
            setattr(self, name, value)


class Replay:
    def __init__(self):
        self.rules = RuleSet.load()
        self.page_sources = self._page_sources()
        self.page_paths = None
        self.today = current_day()
        self.stage_since = dict(Contact.objects.values_list("pk", "stage_changed_at"))

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

    def matching(self, event):
        matched = []
        if event.type == "page_view" and event.page_id in self.page_sources:
            matched.append(self.page_sources[event.page_id])
        for source, matches in self.rules.by_event_type.get(event.type, ()):
            if matches(event, self.page_path):
                matched.append(source)
        return matched

    def owner_rows(self, events, is_contact, stage_since):
        """Ledger rows and counters of one owner's events, in recorded order."""
        counts, rows = {}, []
        for event in events:
            matched = self.matching(event)
            if not matched:
                continue
            day = event_day(event.occurred_at)
            for source in matched:
                for key, expires in counter_keys(source, day):
                    count, _ = counts.get(key, (0, expires))
                    counts[key] = (count + 1, expires)
            lines = ledger_lines(matched, day, {key: count for key, (count, _) in
                                                counts.items()}, is_contact)
            rows.extend(entry_rows(event.pk, event.occurred_at, day, self.today, lines,
                                   stage_since))
        return rows, counts


def rebuild_scores(progress=None):
    """Replace every ledger line, score and counter. Returns (owners, events, lines)."""
    replay = Replay()
    totals = [0, 0, 0]
    for column in ("contact_id", "visitor_id"):
        other = "visitor_id" if column == "contact_id" else "contact_id"
        events = (Event.objects.filter(**{f"{column}__isnull": False})
                  .filter(**({} if column == "contact_id" else {f"{other}__isnull": True}))
                  .order_by(column, "pk").values_list(*EVENT_FIELDS))
        batch = []
        for owner_id, owner_events in groupby(
                (LoggedEvent(row) for row in events.iterator(chunk_size=5000)),
                key=lambda event: getattr(event, column)):
            owner_events = list(owner_events)
            batch.append((owner_id, owner_events))
            totals[1] += len(owner_events)
            if sum(len(events) for _, events in batch) >= BATCH_EVENTS:
                totals[2] += _write_batch(replay, column, batch)
                totals[0] += len(batch)
                batch = []
                if progress:
                    progress(*totals)
        if batch:
            totals[2] += _write_batch(replay, column, batch)
            totals[0] += len(batch)
    _delete_orphans()
    return tuple(totals)


def _write_batch(replay, column, batch):
    is_contact = column == "contact_id"
    owner_ids = [owner_id for owner_id, _ in batch]
    entries, scores, counters = [], [], []
    for owner_id, events in batch:
        stage_since = replay.stage_since.get(owner_id) if is_contact else None
        rows, counts = replay.owner_rows(events, is_contact, stage_since)
        for row in rows:
            row[column] = owner_id
        entries.extend(rows)
        for dimension, value in score_deltas(rows, replay.today).items():
            scores.append(Score(**{column: owner_id}, dimension=dimension, value=value))
        counters.extend(
            ScoreCounter(**{column: owner_id}, key=key, count=count, expires_day=expires)
            for key, (count, expires) in counts.items()
            if expires is None or expires > replay.today)
    with transaction.atomic(using=connection_for(ScoreEntry).alias):
        for model in (ScoreEntry, Score, ScoreCounter):
            model.objects.filter(**{f"{column}__in": owner_ids}).delete()
        _insert_entries(column, entries)
        Score.objects.bulk_create(scores, batch_size=5000)
        ScoreCounter.objects.bulk_create(counters, batch_size=5000)
    return len(entries)


def _insert_entries(column, entries):
    connection = connection_for(ScoreEntry)
    columns = (column, *ENTRY_COLUMNS)
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if hasattr(raw, "copy"):  # psycopg 3: COPY, several times faster than INSERT
                with raw.copy(f"COPY {quote(ScoreEntry._meta.db_table)} "
                              f"({', '.join(quote(name) for name in columns)}) "
                              "FROM STDIN") as copy:
                    for entry in entries:
                        copy.write_row([entry[name] for name in columns])
                return
    ScoreEntry.objects.bulk_create(
        [ScoreEntry(**{name: entry[name] for name in columns}) for entry in entries],
        batch_size=2000)


def _delete_orphans():
    """Lines of owners who have no events any more (nothing replayed them)."""
    for model in (ScoreEntry, Score, ScoreCounter):
        model.objects.filter(contact__isnull=False).exclude(
            contact_id__in=Event.objects.filter(contact__isnull=False).values("contact_id")
        ).delete()
        model.objects.filter(visitor__isnull=False).exclude(
            visitor_id__in=Event.objects.filter(visitor__isnull=False, contact__isnull=True)
            .values("visitor_id")
        ).delete()

