"""Stored segment membership: updated for one person when an event can change it, rebuilt
set-based for a whole segment, and read per request for personalisation.

An event re-tests only the segments whose conditions it can change (``changed_by``), for
its person only, in one query whatever their number; a change of membership writes the
membership and records a ``segment_entered`` / ``segment_left`` event. A rebuild (after an
edit, and on a schedule for time-based conditions) sends ``segment_membership_changed``
once per segment and kind of person, with the ids that entered and left.
"""

import logging
import time

from django.db import transaction
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, Value, When
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal
from django.utils import timezone

from ..conf import get_setting
from ..db import savepoint_if_in_transaction
from ..events import record_event
from ..models import Event
from .compiler import MEMBER_KINDS, changed_by, is_time_based, referenced_segments, segment_q
from .conditions import Scope
from .models import Segment, SegmentMembership

logger = logging.getLogger(__name__)

# sender=Segment, segment=<Segment>, kind="contact"|"visitor", entered=[ids], left=[ids]
segment_membership_changed = Signal()

ENTERED, LEFT = "segment_entered", "segment_left"
REBUILD_BATCH = 5000


class ActiveSegments:
    """The active segments, loaded once per process and again after an edit (or after
    SCORING_CACHE_SECONDS, for edits made by another process)."""

    def __init__(self):
        self._segments = None
        self._loaded_at = 0.0

    def all(self):
        max_age = get_setting("SCORING_CACHE_SECONDS")
        if self._segments is None or time.monotonic() - self._loaded_at >= max_age:
            self._segments = list(Segment.objects.filter(is_active=True).order_by("pk"))
            self._loaded_at = time.monotonic()
        return self._segments

    def clear(self, **kwargs):
        self._segments = None


active_segments = ActiveSegments()


def person_of(event):
    """(kind, id) of whom ``event`` is about: its contact, else its anonymous visitor."""
    if event.contact_id is not None:
        return "contact", event.contact_id
    if event.visitor_id is not None:
        return "visitor", event.visitor_id
    return None, None


def update_on_event(sender, event, **kwargs):
    """``event_recorded`` receiver (after scoring): re-test the segments ``event`` can
    change, for its person. A failure is logged: the scheduled rebuild repairs it."""
    if event.type in (ENTERED, LEFT):
        return
    kind, person_id = person_of(event)
    if kind is None:
        return
    segments = active_segments.all()
    identified = event.type == "identify"
    candidates = segments if identified else [
        segment for segment in segments if changed_by(segment, event)]
    if not candidates:
        return
    try:
        with savepoint_if_in_transaction():
            if identified and event.visitor_id is not None and kind == "contact":
                adopt_visitor_memberships(event.visitor_id, person_id)
            refresh_person(kind, person_id, candidates, segments)
    except Exception:
        logger.exception("Updating the segments of %s %s failed.", kind, person_id)


def adopt_visitor_memberships(visitor_id, contact_id):
    """The anonymous visitor's memberships become the contact's, like its events (their
    ``segment_entered`` events included), so that identifying enters nothing twice."""
    adopted = SegmentMembership.objects.filter(visitor_id=visitor_id)
    adopted.filter(segment__memberships__contact_id=contact_id).delete()
    adopted.update(contact_id=contact_id, visitor_id=None)


def refresh_person(kind, person_id, candidates, segments=None, now=None):
    """Re-test ``candidates`` for one person in one query; then the segments that use a
    segment whose membership changed ("member of"), round after round."""
    segments = active_segments.all() if segments is None else segments
    scope = Scope(kind, now or timezone.now(), person_id)
    if kind == "visitor":
        candidates = [segment for segment in candidates if segment.include_visitors]
    while candidates:
        changed = _apply(scope, candidates)
        candidates = [segment for segment in segments
                      if any(used in changed for used in referenced_segments(segment))]


def _apply(scope, segments):
    annotations = {}
    for segment in segments:
        annotations[f"holds_{segment.pk}"] = Case(
            When(segment_q(segment, scope), then=Value(True)), default=Value(False),
            output_field=BooleanField())
        annotations[f"was_{segment.pk}"] = Exists(SegmentMembership.objects.filter(
            segment_id=segment.pk, **{scope.column: OuterRef("pk")}))
    row = scope.people().values(**annotations).first()
    if row is None:
        return []
    changed = []
    for segment in segments:
        holds, was = row[f"holds_{segment.pk}"], row[f"was_{segment.pk}"]
        if holds == was:
            continue
        person = {scope.column: scope.owner_id}
        if holds:
            SegmentMembership.objects.create(segment=segment, entered_at=scope.now, **person)
        else:
            SegmentMembership.objects.filter(segment=segment, **person).delete()
        record_event(ENTERED if holds else LEFT, name=segment.slug[:200],
                     properties={"segment": segment.pk}, occurred_at=scope.now,
                     **_event_person(scope.kind, scope.owner_id))
        changed.append(segment)
    return changed


def _event_person(kind, person_id):
    from ..models import Contact, Visitor

    if kind == "contact":
        return {"contact": Contact(pk=person_id)}
    return {"visitor": Visitor(pk=person_id)}


def rebuild_segment(segment, now=None):
    """Re-test ``segment`` for everyone, set-based; returns ``{kind: (entered, left)}``.

    Each kind of person is one query for the members by the conditions, then batched
    writes of the changes and their events (bulk: no ``event_recorded`` per person; the
    ``segment_membership_changed`` signal says what changed)."""
    now = now or timezone.now()
    outcome = {}
    for kind in MEMBER_KINDS:
        scope = Scope(kind, now)
        column = scope.column
        members = set(members_by_conditions(segment, scope).values_list(
            "pk", flat=True)) if segment.is_active else set()
        stored = set(SegmentMembership.objects.filter(
            segment=segment, **{f"{column}__isnull": False}).values_list(column, flat=True))
        entered, left = sorted(members - stored), sorted(stored - members)
        with transaction.atomic():
            for start in range(0, len(left), REBUILD_BATCH):
                SegmentMembership.objects.filter(
                    segment=segment, **{f"{column}__in": left[start:start + REBUILD_BATCH]}
                ).delete()
            SegmentMembership.objects.bulk_create(
                [SegmentMembership(segment=segment, entered_at=now, **{column: person})
                 for person in entered], batch_size=REBUILD_BATCH, ignore_conflicts=True)
            Event.objects.bulk_create(
                [Event(type=event_type, name=segment.slug[:200], occurred_at=now,
                       properties={"segment": segment.pk}, **{column: person})
                 for event_type, people in ((ENTERED, entered), (LEFT, left))
                 for person in people], batch_size=REBUILD_BATCH)
        if entered or left:
            segment_membership_changed.send(sender=Segment, segment=segment, kind=kind,
                                            entered=entered, left=left)
        outcome[kind] = (len(entered), len(left))
    Segment.objects.filter(pk=segment.pk).update(rebuilt_at=now)
    return outcome


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


def queue_rebuild(sender, instance, **kwargs):
    """A segment saved: its members are rebuilt by a worker once the change commits."""
    from django_q.tasks import async_task

    active_segments.clear()
    transaction.on_commit(lambda: async_task("wagtail_leadscore.tasks.rebuild_segment",
                                             instance.pk))


def connect_signals():
    post_save.connect(queue_rebuild, sender=Segment, dispatch_uid="leadscore_segment_saved")
    post_delete.connect(active_segments.clear, sender=Segment,
                        dispatch_uid="leadscore_segment_deleted")


def member_segments(request):
    """The slugs of the segments this browser's person is in (its contact's, or its
    anonymous visitor's): one query per request, made only when a template asks."""
    cached = getattr(request, "_leadscore_segments", None)
    if cached is not None:
        return cached
    from ..models import Visitor

    context = getattr(request, "leadscore", None)
    visitor_id = context.cookie_visitor_id if context is not None and context.allowed else None
    memberships = SegmentMembership.objects.none()
    if visitor_id is not None:
        # The visitor's contact's memberships, or the anonymous visitor's own.
        memberships = SegmentMembership.objects.filter(segment__is_active=True).filter(
            Q(visitor_id=visitor_id)
            | Q(contact_id__in=Visitor.objects.filter(pk=visitor_id).values("contact_id")))
    request._leadscore_segments = frozenset(
        memberships.values_list("segment__slug", flat=True))
    return request._leadscore_segments
