"""The public ends of a sent message's links. Tampered or unsigned tokens answer 404 and
never redirect: a click redirect leads only to the destination stored for that link."""

import base64

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from ..events import record_event
from ..identity import link_browser
from ..ratelimit import rate_limited
from .links import CLICK_SALT, OPEN_SALT, UNSUBSCRIBE_SALT, expired_page, outlived, unsign
from .models import EmailKind, OutboxMessage, Status
from .scanners import is_machine, is_scanner

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def sent_message(salt, token, count):
    """(message, the token's other numbers) for a valid token of a sent message, else 404."""
    numbers = unsign(salt, token, count)
    if numbers is None:
        raise Http404("Unknown link.")
    message = (OutboxMessage.objects.select_related("email", "contact")
               .filter(pk=numbers[0], status=Status.SENT).first())
    if message is None:
        raise Http404("Unknown link.")
    return message, numbers[1:]


@rate_limited("mail", "MAIL_LINK_RATE_LIMIT")
@require_safe
def click(request, token):
    """Record the click (a strong signal, and it identifies this browser as the contact),
    then redirect to the link's destination. Scanners' clicks are recorded as scans."""
    message, (index,) = sent_message(CLICK_SALT, token, 2)
    if index >= len(message.links):
        raise Http404("Unknown link.")
    destination = message.links[index]
    if request.method == "GET" and not outlived(message, "MAIL_LINK_MAX_AGE"):
        properties = {"message": message.pk, "link": index, "url": destination[:500]}
        if is_scanner(request, message):
            record_event("email_scan", contact=message.contact, name=message.email.slug,
                         properties=properties)
        else:
            link_browser(request, message.contact, via="email_click", verified=True)
            record_event("email_click", request=request, contact=message.contact,
                         name=message.email.slug, properties=properties)
    response = HttpResponseRedirect(destination)
    add_never_cache_headers(response)
    return response


@rate_limited("mail", "MAIL_LINK_RATE_LIMIT")
@require_safe
def open_pixel(request, token):
    """The open pixel: a weak signal (blocked images hide real reads). Image proxies, privacy
    features and scanners load it without a person reading: their loads are recorded as
    ``email_machine_open``, which counts as no open."""
    message, _ = sent_message(OPEN_SALT, token, 1)
    if request.method == "GET" and not outlived(message, "MAIL_LINK_MAX_AGE"):
        opened = "email_machine_open" if is_machine(request, message) else "email_open"
        record_event(opened, contact=message.contact, name=message.email.slug,
                     properties={"message": message.pk})
    response = HttpResponse(PIXEL, content_type="image/gif")
    add_never_cache_headers(response)
    return response


# No CSRF token: the signed, per-recipient token in the URL is what authorises the POST, and
# RFC 8058's one-click POST comes from the mail provider, which has no session here.
@csrf_exempt
@rate_limited("mail", "MAIL_LINK_RATE_LIMIT")
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    """GET shows a page with one button (what mail scanners fetch changes nothing); the
    POST, from that button or a mail client's one-click unsubscribe, unsubscribes."""
    message, _ = sent_message(UNSUBSCRIBE_SALT, token, 1)
    if outlived(message, "MAIL_UNSUBSCRIBE_MAX_AGE"):
        return expired_page(request, gettext(
            "Use the unsubscribe link of a more recent email from us, or write to us."))
    contact = message.contact
    done = False
    if request.method == "POST":
        unsubscribe_contact(contact, message, one_click="List-Unsubscribe" in request.POST)
        done = True
    response = render(request, "wagtail_leadscore/mail/unsubscribe.html", {
        "contact": contact, "email": message.email, "done": done or bool(contact.unsubscribed_at)})
    add_never_cache_headers(response)
    return response


def unsubscribe_contact(contact, message=None, *, one_click=False):
    """No more marketing email for ``contact`` (transactional email still goes); its queued
    marketing messages are suppressed. Recorded once, as an ``unsubscribed`` event."""
    if contact.unsubscribed_at:
        return False
    contact.unsubscribed_at = timezone.now()
    contact.save(update_fields=["unsubscribed_at", "updated_at"])
    OutboxMessage.objects.filter(contact=contact, status=Status.QUEUED,
                                 email__kind=EmailKind.MARKETING).update(
        status=Status.SUPPRESSED)
    record_event("unsubscribed", contact=contact,
                 name=message.email.slug if message is not None else "",
                 properties={"message": message.pk if message is not None else None,
                             "via": "one-click" if one_click else "page"})
    return True
