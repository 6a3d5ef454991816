"""Turning a visitor into a known contact, and the rule for a browser two people share.

The identity rule, in three cases, when a browser identifies as the contact C:
- the browser's visitor is anonymous: it joins C, and every event it recorded so far
  becomes C's (so a second device merges its history into C's);
- the visitor already belongs to C: nothing changes;
- the visitor belongs to another contact D (a shared browser): the browser gets a new
  visitor that belongs to C; everything recorded before stays with D. Histories of two
  people are never merged.

Typing an email proves nothing: a browser linked that way is **unverified** for C. Its
events count for C (marked unverified in the admin), but it is shown only what it sent
itself, and its answers fill only what C has not said (a differing answer is kept on its
submission as unconfirmed). A signed email link opened in the browser (an identity token,
a tracked click) proves it is C's: it is then **verified**.
"""

import logging

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, transaction

from .conf import get_setting
from .db import select_for_update
from .events import record_event_or_defer
from .lifecycle.transitions import qualify
from .models import Contact, Event, Visitor, normalize_email
from .scoring.engine import carry_over
from .scoring.fit import update_fit

IDENTITY_TOKEN_SALT = "wagtail_leadscore.identity"
logger = logging.getLogger(__name__)


def identify(request, email, *, verified=False, **facts):
    """Find or create the contact with ``email``, store ``facts``, link this browser to it.

    ``request`` may be None (imports, the API): then no browser is linked, and the facts
    are trusted. With a request, the browser is unverified unless ``verified`` says the
    site has proof it is this person's (e.g. they just logged in): see the module's
    docstring. Facts named like a Contact profile field fill that field; any other fact
    goes to ``Contact.facts``. Empty values never erase what is known. Raises ValueError
    for an invalid email.
    """
    return identify_contact(request, email, facts, via="identify", verified=verified)


def identify_contact(request, email, facts, *, via, verified=False):
    """``identify`` with the source (form, api, import, ...) logged on the identify event.

    The contact and its facts are stored whatever happens to the event log: should linking
    the browser fail there, the person is kept and the failure logged."""
    email = normalize_email(email)
    try:
        validate_email(email)
    except ValidationError as error:
        raise ValueError(f"Invalid email address: {email!r}") from error
    with transaction.atomic():
        contact, created = Contact.objects.get_or_create(email=email)
        if not created:  # concurrent identifies of one contact must not undo each other
            contact = select_for_update(Contact.objects, no_key=True).get(pk=contact.pk)
        trusted = request is None or verified or browser_is_verified(request, contact)
        changed = update_facts(contact, facts, overwrite=trusted)
        if changed:
            contact.save(update_fields=[*changed, "updated_at"])
        if changed or created:
            update_fit(contact)
        try:
            with transaction.atomic():
                link_browser(request, contact, created=created, via=via, verified=verified)
                qualify(contact)  # new facts, fit or carried-over points may make it a lead
        except DatabaseError as error:
            logger.error("Linking a browser to contact %s failed; the contact is stored.",
                         contact.pk, exc_info=error)
    return contact


def browser_is_verified(request, contact):
    """Whether the browser of ``request`` is proven to be ``contact``'s."""
    context = getattr(request, "leadscore", None)
    visitor = context.visitor if context is not None else None
    return visitor is not None and visitor.contact_id == contact.pk and visitor.verified


def fact_value(key, value):
    """``value`` as the contact would store it under ``key``."""
    if key in Contact.PROFILE_FIELDS:
        return str(value)[: Contact._meta.get_field(key).max_length]
    return value


def stored_fact(contact, key):
    return getattr(contact, key) if key in Contact.PROFILE_FIELDS else contact.facts.get(key)


def update_facts(contact, facts, *, overwrite=True):
    """Store the non-empty facts (without ``overwrite``, only where nothing is known yet);
    the names of the fields that changed."""
    changed = set()
    for key, value in facts.items():
        if value in (None, "", [], {}):
            continue
        value, known = fact_value(key, value), stored_fact(contact, key)
        if known == value or (known not in (None, "") and not overwrite):
            continue
        if key in Contact.PROFILE_FIELDS:
            setattr(contact, key, value)
            changed.add(key)
        else:
            contact.facts[key] = value
            changed.add("facts")
    return sorted(changed)


def differing_facts(contact, facts):
    """The non-empty ``facts`` that differ from what ``contact`` holds: after an unverified
    browser's identify, the answers that were not taken."""
    return {key: value for key, value in facts.items()
            if value not in (None, "", [], {})
            and stored_fact(contact, key) != fact_value(key, value)}


def link_browser(request, contact, *, via, created=False, verified=False):
    """Apply the identity rule to the browser of ``request`` (``verified``: with proof it
    is ``contact``'s); log an identify event when a browser was linked or verified, or the
    contact is new."""
    context = getattr(request, "leadscore", None)
    visitor = context.ensure_visitor() if context is not None and context.allowed else None
    linked = False
    if visitor is not None and visitor.contact_id != contact.pk:
        # Compare-and-set: a visitor claimed meanwhile (another tab) counts as another's.
        claimed = visitor.contact_id is None and Visitor.objects.filter(
            pk=visitor.pk, contact__isnull=True
        ).update(contact=contact, verified=verified)
        if claimed:
            visitor.contact, visitor.verified = contact, verified
            adopt_anonymous_history(visitor, contact)
        else:
            visitor = context.new_visitor(contact=contact, verified=verified)
            context.use_visitor(visitor)
        linked = True
    elif visitor is not None and verified and not visitor.verified:
        Visitor.objects.filter(pk=visitor.pk).update(verified=True)
        visitor.verified = linked = True
        context.forget_contact()
    if visitor is not None and contact.tracking_objected_at and not visitor.tracking_objected:
        Visitor.objects.filter(pk=visitor.pk).update(tracking_objected=True)  # this browser too
        visitor.tracking_objected = True
    if linked or created:
        record_event_or_defer(
            "identify",
            visitor=visitor,
            contact=contact,
            properties={"created": created, "via": via,
                        "verified": bool(visitor is not None and visitor.verified)},
        )


def adopt_anonymous_history(visitor, contact):
    """The visitor's anonymous events and points become the contact's: now, and again
    once this transaction commits, for events (e.g. a beacon) that committed in between."""

    def adopt():
        with transaction.atomic():
            Event.objects.filter(visitor=visitor, contact__isnull=True).update(contact=contact)
            carry_over(visitor.pk, contact)

    def adopt_late_arrivals():
        adopt()
        qualify(contact)

    adopt()
    transaction.on_commit(adopt_late_arrivals)


def make_identity_token(contact):
    """A signed token for links in emails: it identifies the browser that opens the link.

    Anyone the email is forwarded to is identified as ``contact`` too, so keep it to
    links meant for that person; it expires after IDENTITY_TOKEN_MAX_AGE.
    """
    return signing.dumps({"c": contact.pk}, salt=IDENTITY_TOKEN_SALT, compress=True)


def contact_for_token(token):
    """The contact a token names, or None if it is tampered, expired or the contact gone."""
    try:
        claims = signing.loads(
            token,
            salt=IDENTITY_TOKEN_SALT,
            max_age=get_setting("IDENTITY_TOKEN_MAX_AGE"),
        )
    except signing.BadSignature:
        return None
    if not isinstance(claims, dict):
        return None
    return Contact.objects.filter(pk=claims.get("c")).first()


def identify_with_token(request, token):
    """Link the browser of ``request`` to the contact a valid token names; else do nothing."""
    contact = contact_for_token(token)
    if contact is not None:
        with transaction.atomic():
            link_browser(request, contact, via="token", verified=True)
    return contact
