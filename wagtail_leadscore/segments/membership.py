"""Stored segment membership, kept up to date for one person at a time, and read per
request for personalisation (whole segments are rebuilt by ``rebuild.py``).

An event re-tests only the segments whose conditions it can change (``changed_by``), for
its person only: nothing for a member whom a new event cannot take out (``only_grows``),
else one query whatever their number. A change of membership writes the membership and
records a ``segment_entered`` / ``segment_left`` event.
"""

import json
import logging
from contextlib import contextmanager
from functools import lru_cache

from django.db import transaction
from django.db.models import BooleanField, Case, Q, Value, When
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from ..caching import ProcessCache
from ..db import savepoint_if_in_transaction
from ..events import insert_companion, record_event
from ..scoring.store import connection_for
from .candidates import CandidateIndex
from .compiler import (
    only_grows,
    reads_contact,
    referenced_segments,
    remember_compiled,
    segment_q,
)
from .conditions import Scope
from .models import Segment, SegmentMembership

logger = logging.getLogger(__name__)

ENTERED, LEFT = "segment_entered", "segment_left"


class ActiveSegments:
    """The active segments, loaded once per process and again after an edit (or after
    SCORING_CACHE_SECONDS, for edits made by another process), with the index that tells
    which of them an event can change."""

    def __init__(self):
        self._loaded = ProcessCache(load_active_segments)

    def all(self):
        return self._loaded.get()[0]

    def _index(self):
        return self._loaded.get()[1]

    def changed_by(self, event):
        """The active segments recording ``event`` can change for its person, once it is
        scored. What it can change by what it is was asked once, before its INSERT."""
        segments, index = self._loaded.get()
        if event.type == "identify":  # the contact's memberships meet the visitor's
            return segments
        return index.after_scoring(event, self.changed_before_scoring(event))

    def changed_before_scoring(self, event):
        """The segments ``event`` can change by what it is (URL, type, name): what the
        event's INSERT must know before it scores the event. Kept on the event, so the
        update after scoring does not ask again."""
        known = getattr(event, "leadscore_segment_candidates", None)
        if known is None:
            known = event.leadscore_segment_candidates = self._index().before_scoring(
                event, page_path_of)
        return known

    @property
    def reads_scores(self):
        """Whether some active segment can only be judged once an event is scored."""
        return self._index().reads_scores

    def clear(self, **kwargs):
        self._loaded.clear()


def load_active_segments():
    """(the active segments, compiled, in order; their CandidateIndex)."""
    segments = list(Segment.objects.filter(is_active=True).order_by("pk"))
    for segment in segments:
        remember_compiled(segment)
    return segments, CandidateIndex(segments)


active_segments = ActiveSegments()


def person_of(event):
    """(kind, id) of whom ``event`` is about: its contact, else its anonymous visitor."""
    if event.contact_id is not None:
        return "contact", event.contact_id
    if event.visitor_id is not None:
        return "visitor", event.visitor_id
    return None, None


class MembershipRead:
    """An :class:`~..db.InsertCompanion` (PostgreSQL): the INSERT of a visitor's event that
    segments may be changed by also reads its person's memberships, so a member's page
    view costs no query of its own."""

    ctes = ()

    def __init__(self):
        self.joined = None
        self.result = _membership_read_sql(SegmentMembership._meta.db_table)

    def params(self):
        return []

    def read(self, value):
        self.joined = set(json.loads(value))


@lru_cache(maxsize=1)
def _membership_read_sql(table):
    table = connection_for(SegmentMembership).ops.quote_name(table)
    return ("COALESCE((SELECT CAST(json_agg(segment_id) AS text) FROM ("
            f"SELECT m.segment_id FROM {table} m, leadscore_event e "
            "WHERE m.contact_id = e.contact_id UNION ALL "
            f"SELECT m.segment_id FROM {table} m, leadscore_event e "
            "WHERE e.contact_id IS NULL AND m.visitor_id = e.visitor_id) AS joined), '[]')")


def membership_read(event):
    """The companion of a visitor's event that can change segments, on PostgreSQL."""
    if connection_for(SegmentMembership).vendor != "postgresql":
        return None
    if event.type == "identify" or active_segments.changed_before_scoring(event) or (
            active_segments.reads_scores):
        return MembershipRead()
    return None


def page_path_of(event):
    """The tree path of ``event``'s page: from the page the event carries (a tracked view),
    else from scoring's per-process cache; no query per view."""
    from ..scoring.engine import cached_page
    from ..scoring.sources import sources

    page = cached_page(event)
    if page is not None:
        return page.path
    return sources.page_path(event.page_id) if event.page_id is not None else None


def update_on_event(sender, event, **kwargs):
    """``event_recorded`` receiver (after scoring): re-test the segments ``event`` can
    change, for its person. A failure is logged: the scheduled rebuild repairs it."""
    if event.type in (ENTERED, LEFT):
        return
    kind, person_id = person_of(event)
    if kind is None:
        return
    read = insert_companion(event, MembershipRead)
    candidates = active_segments.changed_by(event)
    if not candidates:
        return
    identified = event.type == "identify"
    with refresh_guard(kind, person_id):
        if identified and event.visitor_id is not None and kind == "contact":
            adopt_visitor_memberships(event.visitor_id, person_id)
        refresh_person(kind, person_id, candidates, event_only=not identified,
                       joined=read.joined if read is not None else None)


@contextmanager
def refresh_guard(kind, person_id):
    """A failed update is logged, never raised: the scheduled rebuild repairs it."""
    try:
        with savepoint_if_in_transaction():
            yield
    except Exception:
        logger.exception("Updating the segments of %s %s failed.", kind, person_id)


def refresh_contact(contact_id):
    """A contact's own row or tags changed: re-test the segments that read them (events
    re-test the others)."""
    candidates = [segment for segment in active_segments.all() if reads_contact(segment)]
    if candidates:
        with refresh_guard("contact", contact_id):
            refresh_person("contact", contact_id, candidates)


def refresh_saved_contact(sender, instance, raw=False, **kwargs):
    if not raw:  # not while loading fixtures
        refresh_contact(instance.pk)


def refresh_company_contacts(company):
    """A company saved (its facts, or contacts joining it by domain): its contacts'
    memberships, for conditions on account facts. A company has few contacts."""
    for contact_id in company.contacts.values_list("pk", flat=True):
        refresh_contact(contact_id)


def refresh_tagged_contact(sender, instance, action, reverse, **kwargs):
    if action in ("post_add", "post_remove", "post_clear") and not reverse:
        refresh_contact(instance.pk)


def adopt_visitor_memberships(visitor_id, contact_id):
    """The anonymous visitor's memberships become the contact's, like its events (their
    ``segment_entered`` events included), so that identifying enters nothing twice."""
    adopted = SegmentMembership.objects.filter(visitor_id=visitor_id)
    adopted.filter(segment__memberships__contact_id=contact_id).delete()
    adopted.update(contact_id=contact_id, visitor_id=None)


def refresh_person(kind, person_id, candidates, segments=None, now=None, event_only=False,
                   joined=None):
    """Re-test ``candidates`` for one person in one query; then the segments that use a
    segment whose membership changed ("member of"), round after round.

    ``event_only``: what changed is one new event. A segment the person is in already and
    that a new event can only keep them in (``only_grows``) is then not re-tested: the
    usual page view of a member costs no more than reading the person's memberships
    (``joined``, their segment ids, when the caller has them already)."""
    segments = active_segments.all() if segments is None else segments
    scope = Scope(kind, now or timezone.now(), person_id)
    if kind == "visitor":
        candidates = [segment for segment in candidates if segment.include_visitors]
    if not candidates:
        return
    if joined is None:
        joined = set(SegmentMembership.objects.filter(
            **{scope.column: person_id}).values_list("segment_id", flat=True))
    if event_only:
        candidates = [segment for segment in candidates
                      if segment.pk not in joined or not only_grows(segment)]
    while candidates:
        changed = _apply(scope, candidates, joined)
        candidates = [segment for segment in segments
                      if any(used in changed for used in referenced_segments(segment))]


def _apply(scope, segments, joined):
    """Test ``segments`` for the person of ``scope`` (one query) and write what changed;
    ``joined``, the ids of the person's segments, is kept up to date."""
    row = scope.people().values(**{
        f"holds_{segment.pk}": Case(When(segment_q(segment, scope), then=Value(True)),
                                    default=Value(False), output_field=BooleanField())
        for segment in segments}).first()
    if row is None:
        return []
    changed = []
    for segment in segments:
        holds = bool(row[f"holds_{segment.pk}"])
        if holds == (segment.pk in joined):
            continue
        person = {scope.column: scope.owner_id}
        if holds:
            SegmentMembership.objects.create(segment=segment, entered_at=scope.now, **person)
            joined.add(segment.pk)
        else:
            SegmentMembership.objects.filter(segment=segment, **person).delete()
            joined.discard(segment.pk)
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


def queue_rebuild(sender, instance, **kwargs):
    """A segment saved: its members are rebuilt by a worker once the change commits."""
    from django_q.tasks import async_task

    active_segments.clear()
    transaction.on_commit(lambda: async_task("wagtail_leadscore.tasks.rebuild_segment",
                                             instance.pk))


def connect_signals():
    from ..models import Contact

    post_save.connect(queue_rebuild, sender=Segment, dispatch_uid="leadscore_segment_saved")
    post_save.connect(refresh_saved_contact, sender=Contact,
                      dispatch_uid="leadscore_contact_saved")
    m2m_changed.connect(refresh_tagged_contact, sender=Contact.tags.through,
                        dispatch_uid="leadscore_contact_tagged")
    post_delete.connect(active_segments.clear, sender=Segment,
                        dispatch_uid="leadscore_segment_deleted")


def member_segments(request):
    """The slugs of the segments this browser's person is in (its contact's if the browser
    is verified, or its own visitor's): one query per request, made only when a template
    asks."""
    cached = getattr(request, "_leadscore_segments", None)
    if cached is not None:
        return cached
    from ..models import Visitor

    context = getattr(request, "leadscore", None)
    visitor_id = context.cookie_visitor_id if context is not None and context.allowed else None
    memberships = SegmentMembership.objects.none()
    if visitor_id is not None:
        # The visitor's contact's memberships (for a browser verified as theirs: what the
        # contact did is not shown to whoever typed their email), or the visitor's own.
        memberships = SegmentMembership.objects.filter(segment__is_active=True).filter(
            Q(visitor_id=visitor_id)
            | Q(contact_id__in=Visitor.objects.filter(pk=visitor_id, verified=True)
                .values("contact_id")))
    request._leadscore_segments = frozenset(
        memberships.values_list("segment__slug", flat=True))
    return request._leadscore_segments
