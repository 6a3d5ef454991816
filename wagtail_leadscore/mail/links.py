"""Signed links of a sent message: a click redirect per link, the open pixel and the
unsubscribe page. Each token signs the message id (and the link's position): the
destination comes from the outbox row, so a token can only ever lead where the email did,
and nothing is appended to the destination (no tracking data leaks to other sites).

A link's lifetime counts from when its message was sent (the outbox row's ``sent_at``), so
the tokens carry no date: every email ever sent gets the same lifetime, old ones included.
Tokens are signed with SECRET_KEY and still read with SECRET_KEY_FALLBACKS, so a key
rotation keeps the links of sent emails working while the old key is a fallback."""

from urllib.parse import urljoin

from django.conf import settings
from django.core import signing
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from ..conf import get_setting

CLICK_SALT = "wagtail_leadscore.mail.click"
OPEN_SALT = "wagtail_leadscore.mail.open"
UNSUBSCRIBE_SALT = "wagtail_leadscore.mail.unsubscribe"


def sign(salt, *parts):
    return signing.Signer(salt=salt).sign(".".join(str(part) for part in parts))


def unsign(salt, token, count):
    """The ``count`` integers a token signs, or None if it was tampered with."""
    try:
        parts = signing.Signer(salt=salt).unsign(token).split(".")
    except signing.BadSignature:
        return None
    if len(parts) != count or not all(part.isascii() and part.isdigit() for part in parts):
        return None
    return [int(part) for part in parts]


def outlived(message, lifetime_setting):
    """Whether the links of a sent ``message`` are older than the setting's lifetime."""
    lifetime = get_setting(lifetime_setting)
    return lifetime is not None and message.sent_at + lifetime < timezone.now()


def expired_page(request, advice):
    """410 Gone for a link past its lifetime; names nobody (an old link, forwarded or
    leaked, reveals nothing) and says what to do instead."""
    response = render(request, "wagtail_leadscore/mail/expired_link.html",
                      {"advice": advice}, status=410)
    add_never_cache_headers(response)
    return response


def site_url():
    """Where links in emails point: MAIL_BASE_URL, else WAGTAILADMIN_BASE_URL, else the
    default Wagtail site's root URL."""
    base = get_setting("MAIL_BASE_URL") or getattr(settings, "WAGTAILADMIN_BASE_URL", "")
    if not base:
        from wagtail.models import Site

        site = Site.objects.filter(is_default_site=True).first()
        base = site.root_url if site is not None else ""
    return base.rstrip("/") + "/"


def absolute(url):
    return urljoin(site_url(), url)


def link_template(name):
    """The absolute URL of the view ``name`` with ``TOKEN`` where its token goes."""
    return absolute(reverse(f"wagtail_leadscore:{name}", args=["TOKEN"]))
