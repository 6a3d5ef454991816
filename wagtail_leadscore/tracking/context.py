"""``request.leadscore``: the tracking state of one request, loaded only when used."""

import uuid
from datetime import timedelta

from django.db.models import F
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.functional import cached_property

from ..conf import get_setting
from ..db import savepoint_if_in_transaction, tracking_transaction
from ..events import UnknownVisitor, record_visitor_event
from ..models import Contact, Visitor
from .filters import (
    describe_user_agent,
    is_ignored_request,
    is_preview,
    is_untracked_user,
    privacy_allows_tracking,
)
from .health import note_tracking_failure

COOKIE_SALT = "wagtail_leadscore.visitor"
# last_seen is refreshed at most this often per visitor and process, sparing an UPDATE on
# nearly every page view; the dict remembers when this process last refreshed whom.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
_last_touched = {}
_LAST_TOUCHED_MAX = 10_000


class TrackingContext:
    def __init__(self, request):
        self.request = request
        self.cookie_needs_update = False
        # (nonce, visitor id) of the page view this request recorded, for the tracker tag.
        self.recorded_view = None
        # Set when the response depends on who asks (a form, gated content).
        self.personalised = False
        # Writes that wait until the response is sent (see after_response).
        self.pending_writes = []

    @cached_property
    def privacy_allows(self):
        """What the tracking mode allows; a failing consent check means no tracking."""
        try:
            return privacy_allows_tracking(self.request)
        except Exception as error:  # noqa: BLE001 - e.g. a broken CONSENT_CHECK callable
            note_tracking_failure(error)
            return False

    @cached_property
    def is_excluded(self):
        """Never tracked whatever the mode: previews, editors, ignored paths, bots."""
        return not self.renders_tracker or is_ignored_request(self.request)

    @cached_property
    def renders_tracker(self):
        """The tracker tag is in every page but previews and untracked users' pages. Bots
        get it too: a shared cache filled by a crawler's request must still carry it."""
        return not (is_preview(self.request) or is_untracked_user(self.request))

    @property
    def allowed(self):
        return self.privacy_allows and not self.is_excluded

    @cached_property
    def cookie_visitor_id(self):
        """The visitor id from the signed cookie; a tampered or foreign cookie gives None."""
        value = self.request.get_signed_cookie(
            get_setting("COOKIE_NAME"), default=None, salt=COOKIE_SALT
        )
        try:
            return uuid.UUID(value) if value else None
        except ValueError:
            return None

    @cached_property
    def visitor(self):
        """The known visitor of this browser, or None (no cookie, or not tracked)."""
        if not self.allowed or self.cookie_visitor_id is None:
            return None
        return Visitor.objects.filter(pk=self.cookie_visitor_id).first()

    @cached_property
    def contact(self):
        """The contact this browser is linked to, or None: one query, on first use. Its
        ``browser_verified`` says whether this browser is proven to be theirs."""
        if not self.allowed or self.cookie_visitor_id is None:
            return None
        return (Contact.objects.filter(visitors__pk=self.cookie_visitor_id)
                .annotate(browser_verified=F("visitors__verified")).first())

    def forget_contact(self):
        """The browser's link changed: load its contact again when next asked."""
        self.__dict__.pop("contact", None)

    def ensure_visitor(self):
        """The visitor of this browser, created (and its cookie set) on first use."""
        if self.visitor is None:
            self.use_visitor(self.new_visitor())
        return self.visitor

    def new_visitor(self, contact=None, verified=False):
        visitor = Visitor.objects.create(contact=contact, verified=verified,
                                         **self.browser_fields())
        remember_touch(visitor.pk, visitor.last_seen)
        return visitor

    def browser_fields(self):
        """A new visitor row's user agent and what it tells (device, browser, OS)."""
        user_agent = self.request.META.get("HTTP_USER_AGENT", "")[:512]
        return {"user_agent": user_agent, **describe_user_agent(user_agent)}

    def record(self, type, **fields):
        """Append an event of this browser's visitor (created if need be); None if a
        duplicate. One statement for a known visitor, which is never loaded."""
        visitor = self.__dict__.get("visitor")
        visitor_id = visitor.pk if visitor is not None else self.cookie_visitor_id
        if visitor_id is not None:
            try:
                event = record_visitor_event(visitor_id, type, **fields)
            except UnknownVisitor:  # pruned or erased since: this browser starts afresh
                self.visitor = None
            else:
                if event is not None:
                    touch(visitor_id)
                return event
        # A new visitor and its first event: one commit. A visitor row lost in a database
        # crash is harmless: its cookie is then unknown, and the browser gets a new one.
        with tracking_transaction(Visitor, get_setting("TRACKING_ASYNC_COMMIT")):
            return record_visitor_event(self.ensure_visitor().pk, type, **fields)

    @property
    def known_visitor_id(self):
        """The id of this browser's visitor, without a query: the loaded visitor's, else the
        cookie's (whose row may be gone since: see :meth:`record_late`)."""
        visitor = self.__dict__.get("visitor")
        return visitor.pk if visitor is not None else self.cookie_visitor_id

    def record_late(self, visitor_id, type, **fields):
        """:meth:`record` for ``visitor_id`` once the response is sent, where the cookie can
        no longer change: a visitor row gone since the cookie was set (pruned, erased)
        starts afresh under the cookie's id."""
        try:
            event = record_visitor_event(visitor_id, type, **fields)
        except UnknownVisitor:
            with tracking_transaction(Visitor, get_setting("TRACKING_ASYNC_COMMIT")):
                Visitor.objects.get_or_create(pk=visitor_id, defaults=self.browser_fields())
                event = record_visitor_event(visitor_id, type, **fields)
        if event is not None:  # not for a person who objected to tracking
            touch(visitor_id)

    def after_response(self, write):
        """Run ``write()`` when the response has been sent (the WSGI or ASGI server closes
        it), before Django's ``request_finished`` releases the database connection."""
        self.pending_writes.append(write)

    def defer_writes(self, response):
        """Have ``response.close()`` run the pending writes first; each failure is noted,
        none reaches the server."""
        if not self.pending_writes:
            return
        close = response.close

        def write_then_close():
            writes, self.pending_writes = self.pending_writes, []
            for write in writes:
                try:
                    with savepoint_if_in_transaction():
                        write()
                except Exception as error:  # noqa: BLE001 - the page was served already
                    note_tracking_failure(error)
            close()

        response.close = write_then_close

    def use_visitor(self, visitor):
        """Make ``visitor`` the one of this browser from now on."""
        self.visitor = visitor
        self.cookie_needs_update = True
        self.forget_contact()

    def update_cookie(self, response):
        """Set (or delete) the visitor cookie; such a response is for this browser only,
        as is a personalised one."""
        if self.personalised:
            patch_cache_control(response, private=True)
            patch_vary_headers(response, ("Cookie",))
        name = get_setting("COOKIE_NAME")
        if self.cookie_needs_update and self.visitor is not None:
            patch_cache_control(response, private=True)
            secure = get_setting("COOKIE_SECURE")
            response.set_signed_cookie(
                name,
                str(self.visitor.pk),
                salt=COOKIE_SALT,
                max_age=int(get_setting("COOKIE_AGE").total_seconds()),
                domain=get_setting("COOKIE_DOMAIN"),
                secure=self.request.is_secure() if secure is None else secure,
                httponly=True,
                samesite=get_setting("COOKIE_SAMESITE"),
            )
        elif name in self.request.COOKIES and not self.privacy_allows:
            # Consent withdrawn or DNT switched on: forget this browser.
            patch_cache_control(response, private=True)
            response.delete_cookie(
                name, domain=get_setting("COOKIE_DOMAIN"), samesite=get_setting("COOKIE_SAMESITE")
            )


def touch(visitor_id):
    """Refresh a visitor's last_seen, at most once per LAST_SEEN_RESOLUTION per process."""
    now = timezone.now()
    last = _last_touched.get(visitor_id)
    if last is not None and now - last < LAST_SEEN_RESOLUTION:
        return
    remember_touch(visitor_id, now)
    Visitor.objects.filter(pk=visitor_id, last_seen__lt=now - LAST_SEEN_RESOLUTION).update(
        last_seen=now
    )


def remember_touch(visitor_id, when):
    if len(_last_touched) >= _LAST_TOUCHED_MAX:
        _last_touched.clear()
    _last_touched[visitor_id] = when
