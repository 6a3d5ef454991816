"""Scoring one event: the sources it matches, the points they award, the ledger lines.

The same functions score live events and replay the log (``rebuild``): ``ledger_lines``
is pure, given the occurrence counts. Live, a visitor's event on PostgreSQL is scored in
the statement that inserts it (``scoring_insert``: the line conditions are tested in
SQL); any other event by ``score_event``, on ``event_recorded``.
"""

import logging

from ..db import savepoint_if_in_transaction
from ..events import insert_companion
from .aging import aged_points, current_day, event_day, is_counted
from .models import GLOBAL, STAGE, Cap, Score, ScoreEntry, topic_dimension
from .sources import sources
from .store import (
    ENTRY_COLUMNS,
    EntryRow,
    Owner,
    ScoringInsert,
    connection_for,
    increment_counters,
    merge_visitor_into_contact,
    write_entries,
)

logger = logging.getLogger(__name__)


def occurrence_key(source):
    return f"n:{source.key}"


def period_key(source, day):
    """The counter of the fixed period of ``cap_period_days`` days holding ``day``, and the
    first day after it (when the counter can go)."""
    period = day // source.cap_period_days
    return (f"p:{source.key}:{source.cap_period_days}:{period}",
            (period + 1) * source.cap_period_days)


def counter_keys(source, day):
    keys = []
    if source.cap == Cap.ONCE or source.bonus_occurrence:
        keys.append((occurrence_key(source), None))
    if source.cap == Cap.PER_PERIOD:
        keys.append(period_key(source, day))
    return keys


def is_earned(condition, counts):
    """A line's ``condition``: () for always, or ``(counter, at_least, at_most)``: earned
    when the counter's count after this event lies between the two."""
    return not condition or condition[1] <= counts.get(condition[0], 0) <= condition[2]


def ledger_lines(sources_matched, day, counts, is_contact):
    """The lines ``(source, label, points, dimension, condition)`` the matched sources
    award, given the occurrence ``counts`` after counting this event. With ``counts``
    None, every line they can award: live scoring on PostgreSQL tests the conditions in
    SQL (see :func:`is_earned`). Stage scores are a contact's only."""
    lines = []
    for source in sources_matched:
        dimensions = source.dimensions if is_contact else [
            dimension for dimension in source.dimensions if dimension != STAGE]
        if source.points:
            if source.cap == Cap.ONCE:
                condition = (occurrence_key(source), 1, 1)
            elif source.cap == Cap.PER_PERIOD:
                condition = (period_key(source, day)[0], 1, source.cap_count)
            else:
                condition = ()
            if counts is None or is_earned(condition, counts):
                lines.extend((source, source.label, source.points, dimension, condition)
                             for dimension in dimensions)
        if source.bonus_occurrence:
            condition = (occurrence_key(source), source.bonus_occurrence,
                         source.bonus_occurrence)
            if counts is None or is_earned(condition, counts):
                lines.extend((source, source.bonus_label, source.bonus_points, dimension,
                              condition) for dimension in dimensions)
    return lines


def entry_rows(event_id, occurred_at, day, today, lines, stage_since=None):
    """Ledger rows for ``lines``; a stage line before ``stage_since`` never counts."""
    in_window = is_counted(day, today)
    before_stage = stage_since is not None and occurred_at < stage_since
    return [
        EntryRow(event_id, source.rule_id, source.page_id, source.key, label[:255], dimension,
                 points, in_window and not (before_stage and dimension == STAGE), day,
                 occurred_at)
        for source, label, points, dimension, _ in lines
    ]


def score_deltas(rows, today):
    deltas = {}
    for row in rows:
        if row.counted:
            deltas[row.dimension] = (deltas.get(row.dimension, 0)
                                     + aged_points(row.points, row.day, today))
    return deltas


def score_event(event, page=None):
    """Add the points ``event`` earns to its contact's (or anonymous visitor's) scores;
    returns ``({dimension: new value}, {dimension: points added})``.

    Costs nothing for an event no source matches; else one counter upsert (only for
    sources with a cap or a bonus) and the ledger insert with the score upsert (one
    statement on PostgreSQL, two elsewhere). A visitor's tracked event on PostgreSQL never
    comes here: its INSERT scored it (:func:`scoring_insert`)."""
    owner = Owner.of(event)
    if owner is None:
        return {}, {}
    matched = sources.matching(event, page)
    if not matched:
        return {}, {}
    day, today = event_day(event.occurred_at), current_day()
    keys = [key for source in matched for key in counter_keys(source, day)]
    counts = increment_counters(owner, keys) if keys else {}
    lines = ledger_lines(matched, day, counts, owner.is_contact)
    if not lines:
        return {}, {}
    rows = entry_rows(event.pk, event.occurred_at, day, today, lines)
    deltas = score_deltas(rows, today)
    values = write_entries(owner, rows, deltas)
    if owner.is_contact:
        qualify_on_crossing(owner.id, values, deltas)
    return values, deltas


def qualify_on_crossing(contact_id, values, deltas):
    """Evaluate the lead definition only when this event carried a score across its
    threshold: the common view costs no extra query."""
    from ..lifecycle.transitions import qualify

    threshold = sources.rules.lead.min_score
    if any(crossed(values, deltas, dimension, threshold) for dimension in (GLOBAL, STAGE)):
        qualify(contact_id)


def crossed(values, deltas, dimension, threshold):
    """Whether the points an event added (``deltas``) carried ``dimension`` from below
    ``threshold`` to it or above (``values``: the new scores)."""
    if dimension not in values:
        return False
    after = values[dimension]
    return after - deltas.get(dimension, 0) < threshold <= after


def scoring_insert(event):
    """What scores ``event`` in the very statement that inserts it (PostgreSQL), or None:
    a scored page view is then one round trip. The ``event_recorded`` receiver finishes."""
    if connection_for(ScoreEntry).vendor != "postgresql":
        return None
    matched = sources.matching(event, cached_page(event))
    if not matched:
        return None
    day, today = event_day(event.occurred_at), current_day()
    lines = ledger_lines(matched, day, None, True)  # the SQL tests their counters
    rows = entry_rows(None, event.occurred_at, day, today, lines)
    candidates = [(row, aged_points(row.points, day, today) if row.counted else 0,
                   *(condition or (None, 0, 0)))
                  for row, (*_, condition) in zip(rows, lines, strict=True)]
    keys = [key for source in matched for key in counter_keys(source, day)]
    return ScoringInsert(keys, candidates, day, event.occurred_at)


def cached_page(event):
    """The page object ``event`` was built with (a tracked view carries it), or None."""
    from ..models import Event

    return event.page if Event.page.is_cached(event) else None


def score_recorded_event(sender, event, **kwargs):
    """``event_recorded`` receiver. A failure is logged, never raised: the event is stored,
    and ``leadscore_rebuild_scores`` can score it later. The receivers after it (segments)
    find the scores it changed as ``event.leadscore_scores`` ({dimension: value}) and what
    it added to them as ``event.leadscore_deltas`` ({dimension: points})."""
    scored = insert_companion(event, ScoringInsert)
    try:
        with savepoint_if_in_transaction():
            if scored is not None:
                event.leadscore_scores, event.leadscore_deltas = scored.scores, scored.deltas
                if event.contact_id is not None:
                    qualify_on_crossing(event.contact_id, scored.scores, scored.deltas)
            else:
                event.leadscore_scores, event.leadscore_deltas = score_event(
                    event, cached_page(event))
    except Exception:
        logger.exception("Scoring event %s failed; rebuild the scores to repair.", event.pk)


def carry_over(visitor_id, contact):
    """On identify: the anonymous visitor's ledger, scores and counters become the
    contact's, with the stage lines a contact's events have (counting if they happened
    in its current stage), so that live scores equal a rebuild's."""
    moved = ScoreEntry.objects.filter(visitor_id=visitor_id).values_list(
        *ENTRY_COLUMNS).distinct()
    stage_rows, seen = [], set()
    for line in map(EntryRow._make, moved):
        key = (line.event_id, line.source, line.label)
        if key not in seen and sources.feeds_stage(line.source):
            seen.add(key)
            stage_rows.append(line._replace(dimension=STAGE, counted=line.counted and (
                line.occurred_at >= contact.stage_changed_at)))
    merge_visitor_into_contact(visitor_id, contact.pk)
    if stage_rows:
        write_entries(Owner("contact_id", contact.pk), stage_rows,
                      score_deltas(stage_rows, current_day()))


def global_score_column():
    """A contact queryset's global score, for ``annotate`` (0 without a score row, so it
    sorts the same on every database)."""
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import Coalesce

    return Coalesce(Subquery(Score.objects.filter(contact=OuterRef("pk"), dimension=GLOBAL)
                             .values("value")), 0)


def scores_for(contact):
    """A contact's current (aged) scores: ``{"global": n, "stage": n, "topics": {Topic: n}}``."""
    from .models import Topic

    values = dict(Score.objects.filter(contact=contact).values_list("dimension", "value"))
    topics = Topic.objects.in_bulk(
        [int(key.split(":", 1)[1]) for key in values if key.startswith("topic:")])
    return {
        "global": values.get(GLOBAL, 0),
        "stage": values.get(STAGE, 0),
        "topics": {topic: values[topic_dimension(pk)] for pk, topic in sorted(
            topics.items(), key=lambda item: -values[topic_dimension(item[0])])},
    }
