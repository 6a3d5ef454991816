"""The event type registry and ``record_event``, the one way into the event log.

Other apps add event types with the ``register_leadscore_event_types`` hook, returning an
iterable of :class:`EventType`. Every event recorded sends ``event_recorded``, which
scoring, segments and automation listen to.
"""

import logging
from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from .conf import get_setting
from .db import (
    JoinedCompanions,
    can_insert_for_visitor,
    insert_for_visitor,
    savepoint_if_in_transaction,
)
from .models import DeferredEvent, Event, Visitor

logger = logging.getLogger(__name__)

event_recorded = Signal()  # sender=Event, event=<Event>


@dataclass(frozen=True)
class EventType:
    name: str
    label: str
    description: str = ""


BUILTIN_EVENT_TYPES = (
    EventType("page_view", _("Page view"), _("A page was viewed (server-side or beacon).")),
    EventType("engagement", _("Engagement"), _("Time on page and scroll depth of a view.")),
    EventType("custom", _("Custom event"), _("A named event from leadscore.track() in JS.")),
    EventType("identify", _("Identified"), _("A visitor was linked to a contact.")),
    EventType("form_submit", _("Form submitted"), _("A form was submitted.")),
    EventType("download", _("Download"), _("A document was downloaded.")),
    EventType("email_open", _("Email opened"), _("An email's open pixel was loaded.")),
    EventType("email_click", _("Email clicked"), _("A tracked link in an email was clicked.")),
    EventType("email_sent", _("Email sent"), _("The mail server accepted an email.")),
    EventType("email_scan", _("Email link scanned"),
              _("A mail scanner fetched a link: recorded, but earns nothing.")),
    EventType("email_machine_open", _("Email opened by a machine"),
              _("An image proxy, privacy feature or mail scanner loaded the open pixel: "
                "recorded, but earns nothing and counts as no open.")),
    EventType("unsubscribed", _("Unsubscribed"), _("No more marketing email.")),
    EventType("tag_added", _("Tag added"), _("Named by the tag.")),
    EventType("points_awarded", _("Points awarded"),
              _("Points given or taken by an automation rule (properties: points, reason).")),
    EventType("purchase", _("Purchase"),
              _("A purchase reported by a CRM or shop (properties: amount, currency).")),
    EventType("owner_assigned", _("Owner assigned"),
              _("The contact got an owner in sales (named by the username).")),
    EventType("offline", _("Offline event"), _("Something that happened offline, e.g. a fair.")),
    EventType("note", _("Note"), _("A note added in the admin (properties: text, by).")),
    EventType("stage_change", _("Stage changed"), _("The contact moved to another stage.")),
    EventType("lead_qualified", _("Became a lead"), _("The contact met the lead definition.")),
    EventType("segment_entered", _("Entered a segment"), _("Named by the segment's slug.")),
    EventType("segment_left", _("Left a segment"), _("Named by the segment's slug.")),
)


class EventTypeRegistry:
    """The built-in types plus those of the hook, collected again when the hooks change."""

    def __init__(self, builtins):
        self._builtins = builtins
        self._hooks = None
        self._types = {}

    @property
    def types(self):
        from wagtail import hooks

        registered = tuple(hooks.get_hooks("register_leadscore_event_types"))
        if registered != self._hooks:
            collected = list(self._builtins)
            for hook in registered:
                collected.extend(hook())
            self._types = {event_type.name: event_type for event_type in collected}
            self._hooks = registered
        return self._types

    def __contains__(self, name):
        return name in self.types

    def __iter__(self):
        return iter(self.types.values())

    def get(self, name):
        return self.types.get(name)


event_types = EventTypeRegistry(BUILTIN_EVENT_TYPES)


# Paths are indexed: a PostgreSQL btree entry must stay under about 2.7 kB.
MAX_PATH_BYTES = 2000


def truncate_utf8(value, max_bytes):
    encoded = value.encode()
    return value if len(encoded) <= max_bytes else encoded[:max_bytes].decode(errors="ignore")


def build_event(
    type,
    *,
    visitor=None,
    contact=None,
    page=None,
    page_id=None,
    name="",
    path="",
    query="",
    referrer="",
    properties=None,
    occurred_at=None,
    dedupe_key=None,
):
    """An unsaved Event, validated and trimmed to its columns."""
    if type not in event_types:
        raise ValueError(f"Unknown leadscore event type {type!r}.")
    return Event(
        type=type,
        name=name[:200],
        visitor=visitor,
        contact_id=contact.pk if contact else getattr(visitor, "contact_id", None),
        # The page object itself, when given, stays cached on the event for scoring.
        **({"page": page} if page is not None else {"page_id": page_id}),
        path=truncate_utf8(path, MAX_PATH_BYTES),
        query=query,
        referrer=referrer[:2048],
        properties=properties or {},
        occurred_at=occurred_at or timezone.now(),
        dedupe_key=dedupe_key,
    )


# What watching a person records: nothing of it once they object to tracking.
OBSERVED_TYPES = frozenset({"page_view", "engagement", "custom", "download", "email_open",
                            "email_click", "email_machine_open", "email_scan"})


def objected_to_tracking(type, visitor, contact):
    return type in OBSERVED_TYPES and (
        getattr(visitor, "tracking_objected", False)
        or getattr(contact, "tracking_objected_at", None) is not None)


def record_event(type, *, request=None, visitor=None, **fields):
    """Append one event to the log and return it, or ``None`` if ``dedupe_key`` was seen.

    Keyword arguments: ``visitor``, ``contact``, ``page`` (or ``page_id``), ``name``,
    ``path``, ``query``, ``referrer``, ``properties``, ``occurred_at``, ``dedupe_key``.
    With ``request``, the visitor (and its contact) come from the tracking cookie. An event
    of a visitor linked to a contact belongs to that contact too. What watches a person
    (``OBSERVED_TYPES``) is not recorded (``None``) once they objected to tracking.
    """
    if request is not None and visitor is None:
        visitor = request.leadscore.visitor if hasattr(request, "leadscore") else None
    if objected_to_tracking(type, visitor, fields.get("contact")):
        return None
    event = build_event(type, visitor=visitor, **fields)
    if event.dedupe_key is None:
        event.save(force_insert=True)
    else:
        try:
            with savepoint_if_in_transaction():
                event.save(force_insert=True)
        except IntegrityError:
            if Event.objects.filter(dedupe_key=event.dedupe_key).exists():
                return None
            raise
    event_recorded.send(sender=Event, event=event)
    return event


def record_event_or_defer(type, *, request=None, visitor=None, contact=None, page=None,
                          occurred_at=None, **fields):
    """``record_event`` for an event that must outlive a failing event log: what a person
    sent (a form, an API record). Should recording it fail, the event is kept as a
    ``DeferredEvent`` (replayed by :func:`replay_deferred_events`), which is returned in
    its place; the caller's own writes (the contact, the submission) stand."""
    if request is not None and visitor is None:
        visitor = request.leadscore.visitor if hasattr(request, "leadscore") else None
    occurred_at = occurred_at or timezone.now()
    try:
        with transaction.atomic():
            return record_event(type, visitor=visitor, contact=contact, page=page,
                                occurred_at=occurred_at, **fields)
    except DatabaseError as error:
        logger.error("Recording a %s event failed; it is kept to be recorded later.", type,
                     exc_info=error)
        if page is not None:
            fields["page_id"] = page.pk
        return DeferredEvent.objects.create(
            type=type, visitor=visitor, contact=contact, error=repr(error)[:2000],
            fields={**fields, "occurred_at": occurred_at.isoformat()})


def replay_deferred_events(limit=500):
    """Record the deferred events, oldest first; one that fails again stays (its attempts
    counted) for the next run. Returns how many were recorded."""
    recorded = 0
    for deferred in DeferredEvent.objects.select_related("visitor", "contact")[:limit]:
        fields = dict(deferred.fields)
        fields["occurred_at"] = parse_datetime(fields["occurred_at"])
        try:
            with transaction.atomic():
                record_event(deferred.type, visitor=deferred.visitor,
                             contact=deferred.contact, **fields)
                deferred.delete()
        except DatabaseError as error:
            logger.warning("A deferred %s event could not be recorded yet: %r",
                           deferred.type, error)
            DeferredEvent.objects.filter(pk=deferred.pk).update(
                attempts=deferred.attempts + 1, error=repr(error)[:2000])
        else:
            recorded += 1
    return recorded


# Added with join_visitor_event_inserts: event -> an InsertCompanion, or None.
_insert_companion_factories = []


def join_visitor_event_inserts(companion_for):
    """Have ``companion_for(event)``, an :class:`~.db.InsertCompanion` or None, run its SQL
    in the statement that inserts a visitor's event (scoring and segments do, on
    PostgreSQL). The ``event_recorded`` receivers find it with :func:`insert_companion`.
    Should that statement fail, the event is recorded alone, as if there were none."""
    if companion_for not in _insert_companion_factories:
        _insert_companion_factories.append(companion_for)


def insert_companion(event, kind):
    """The companion of class ``kind`` that ran in ``event``'s INSERT, or None."""
    joined = getattr(event, "insert_companion", None)
    return next((companion for companion in getattr(joined, "companions", ())
                 if isinstance(companion, kind)), None)


class UnknownVisitor(Exception):
    """No visitor has this id (any more): the browser needs a new one."""


def record_visitor_event(visitor_id, type, **fields):
    """``record_event`` for the visitor with this id, in one statement when the database
    can: the tracking hot path, which never loads the visitor. Raises UnknownVisitor;
    returns None for a duplicate, or a visitor who objected to tracking."""
    if not can_insert_for_visitor(Event):
        visitor = Visitor.objects.filter(pk=visitor_id).first()
        if visitor is None:
            raise UnknownVisitor(visitor_id)
        return record_event(type, visitor=visitor, **fields)
    event = build_event(type, **fields)
    if not _insert_with_companion(event, visitor_id):
        if event.dedupe_key and Event.objects.filter(dedupe_key=event.dedupe_key).exists():
            return None
        # The statement skips a visitor who objected (rare: this query only then).
        if Visitor.objects.filter(pk=visitor_id, tracking_objected=True).exists():
            return None
        raise UnknownVisitor(visitor_id)
    event_recorded.send(sender=Event, event=event)
    return event


def _insert_with_companion(event, visitor_id):
    async_commit = get_setting("TRACKING_ASYNC_COMMIT")
    companions = [companion for companion in (
        companion_for(event) for companion_for in _insert_companion_factories)
        if companion is not None]
    companion = JoinedCompanions(companions) if companions else None
    if companion is None:
        return insert_for_visitor(event, visitor_id, async_commit)
    try:
        with savepoint_if_in_transaction():
            inserted = insert_for_visitor(event, visitor_id, async_commit, companion)
    except DatabaseError:
        logger.exception("Recording a %s event with its companion failed; recording it"
                         " alone.", event.type)
        return insert_for_visitor(event, visitor_id, async_commit)
    event.insert_companion = companion
    return inserted
