"""Whole segments rebuilt set-based: after an edit (a queued task) and, for time-based
conditions, on the hourly schedule. A rebuild sends ``segment_membership_changed`` once
per segment and kind of person, with the ids that entered and left (its events are
written in bulk, without ``event_recorded``)."""

import json

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from ..models import Event
from ..scoring.store import connection_for
from .compiler import MEMBER_KINDS, is_time_based, referenced_segments, segment_q
from .conditions import NOTHING, Scope
from .membership import ENTERED, LEFT
from .models import Segment, SegmentMembership

# sender=Segment, segment=<Segment>, kind="contact"|"visitor", entered=[ids], left=[ids]
segment_membership_changed = Signal()

REBUILD_BATCH = 5000


def rebuild_segment(segment, now=None):
    """Re-test ``segment`` for everyone, set-based; returns ``{kind: (entered, left)}``.

    Per kind of person: on PostgreSQL one statement (the members by the conditions, the
    memberships inserted and deleted and their events, as data-modifying CTEs); elsewhere
    a query for the members, then batched writes. Events are written in bulk (no
    ``event_recorded`` per person); ``segment_membership_changed`` says what changed."""
    now = now or timezone.now()
    outcome = {}
    for kind in MEMBER_KINDS:
        scope = Scope(kind, now)
        with transaction.atomic():
            if connection_for(SegmentMembership).vendor == "postgresql":
                entered, left = _rebuild_in_one_statement(segment, scope)
            else:
                entered, left = _rebuild_in_batches(segment, scope)
        if entered or left:
            segment_membership_changed.send(sender=Segment, segment=segment, kind=kind,
                                            entered=entered, left=left)
        outcome[kind] = (len(entered), len(left))
    Segment.objects.filter(pk=segment.pk).update(rebuilt_at=now)
    return outcome


def _members_now(segment, scope):
    if not segment.is_active:
        return scope.people().filter(NOTHING)
    return members_by_conditions(segment, scope)


def _rebuild_in_batches(segment, scope):
    column, now = scope.column, scope.now
    members = set(_members_now(segment, scope).values_list("pk", flat=True))
    stored = set(SegmentMembership.objects.filter(
        segment=segment, **{f"{column}__isnull": False}).values_list(column, flat=True))
    entered, left = sorted(members - stored), sorted(stored - members)
    for start in range(0, len(left), REBUILD_BATCH):
        SegmentMembership.objects.filter(
            segment=segment, **{f"{column}__in": left[start:start + REBUILD_BATCH]}).delete()
    SegmentMembership.objects.bulk_create(
        [SegmentMembership(segment=segment, entered_at=now, **{column: person})
         for person in entered], batch_size=REBUILD_BATCH, ignore_conflicts=True)
    Event.objects.bulk_create(
        [Event(type=event_type, name=segment.slug[:200], occurred_at=now,
               properties={"segment": segment.pk}, **{column: person})
         for event_type, people in ((ENTERED, entered), (LEFT, left)) for person in people],
        batch_size=REBUILD_BATCH)
    return entered, left


def _rebuild_in_one_statement(segment, scope):
    """PostgreSQL: no member passes through Python but the ids the signal reports."""
    connection = connection_for(SegmentMembership)
    column, quote = scope.column, connection.ops.quote_name
    members_sql, members_params = _members_now(segment, scope).values("pk").query \
        .sql_with_params()
    memberships = quote(SegmentMembership._meta.db_table)
    events = quote(Event._meta.db_table)
    event_columns = "type, name, contact_id, visitor_id, path, query, referrer, properties, " \
                    "occurred_at"
    owners = "change.id, NULL" if column == "contact_id" else "NULL, change.id"
    sql = (
        f"WITH members (id) AS ({members_sql}), "
        f"stored AS (SELECT {column} AS id FROM {memberships} "
        f"WHERE segment_id = %s AND {column} IS NOT NULL), "
        f"entered AS (INSERT INTO {memberships} (segment_id, {column}, entered_at) "
        f"SELECT %s, m.id, %s FROM members m WHERE m.id NOT IN (SELECT id FROM stored) "
        f"ON CONFLICT DO NOTHING RETURNING {column} AS id), "
        f"gone AS (DELETE FROM {memberships} WHERE segment_id = %s AND {column} IN ("
        f"SELECT id FROM stored WHERE id NOT IN (SELECT id FROM members)) "
        f"RETURNING {column} AS id), "
        f"logged AS (INSERT INTO {events} ({event_columns}) "
        f"SELECT change.type, %s, {owners}, "
        f"'', '', '', CAST(%s AS jsonb), %s FROM ("
        f"SELECT %s AS type, id FROM entered UNION ALL SELECT %s, id FROM gone) AS change) "
        f"SELECT (SELECT array_agg(id ORDER BY id) FROM entered), "
        f"(SELECT array_agg(id ORDER BY id) FROM gone)"
    )
    params = [*members_params, segment.pk, segment.pk, scope.now, segment.pk,
              segment.slug[:200], json.dumps({"segment": segment.pk}), scope.now, ENTERED, LEFT]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        entered, left = cursor.fetchone()
    return entered or [], left or []


def members_by_conditions(segment, scope):
    return scope.people().filter(segment_q(segment, scope))


def count_members(segment, now):
    """{"contacts": n, "visitors": n}: who ``segment`` (saved or not) has by its conditions."""
    return {f"{kind}s": members_by_conditions(segment, Scope(kind, now)).count()
            for kind in MEMBER_KINDS}


def rebuild_time_based(now=None):
    """The scheduled refresh: every active segment with a time-based condition (and the
    segments that use one) is rebuilt; returns {slug: outcome}."""
    segments = list(Segment.objects.filter(is_active=True).order_by("pk"))
    timed = [segment for segment in segments if is_time_based(segment)]
    todo = list(timed)
    for segment in segments:
        if segment not in todo and any(used in timed
                                       for used in referenced_segments(segment, deep=True)):
            todo.append(segment)
    return {segment.slug: rebuild_segment(segment, now) for segment in _in_dependency_order(todo)}


def _in_dependency_order(segments):
    """Segments used by others first, so "member of" reads rebuilt memberships."""
    ordered = []

    def visit(segment):
        if segment in ordered:
            return
        for used in referenced_segments(segment):
            if used in segments:
                visit(used)
        ordered.append(segment)

    for segment in segments:
        visit(segment)
    return ordered
