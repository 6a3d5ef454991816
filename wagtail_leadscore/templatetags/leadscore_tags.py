"""``{% leadscore_tracker %}``, the JS beacon for pages served from a cache or CDN;
``{% leadscore_contact %}``, ``{% leadscore_unlocked %}`` and ``{% leadscore_in_segment %}``
for templates that adapt to who is looking."""

from functools import lru_cache

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html, json_script
from wagtail.models import Page

from ..conf import get_setting
from ..profiling.gates import is_unlocked
from ..profiling.visitors import known_contact, mark_personalised
from ..segments.membership import member_segments
from ..tracking.pageviews import make_view_token

register = template.Library()


@register.simple_tag(takes_context=True)
def leadscore_tracker(context):
    """The tracker's parameters as JSON (no inline JS) and tracker.js; nothing in previews
    and for editors. Built without a template: it is on every page.

    The beacon reports a page view only for a GET of a Wagtail page, as the server does:
    not for a form's thank-you page (a POST) nor for error pages.
    """
    request = context.get("request")
    tracking = getattr(request, "leadscore", None)
    if tracking is None or not tracking.renders_tracker:
        return ""
    page = context.get("page") or context.get("self")
    page_id = page.pk if isinstance(page, Page) else None
    endpoint, script = tracker_assets(get_urlconf(), get_script_prefix())
    config = {
        "endpoint": endpoint,
        "view": make_view_token(page_id, tracking.recorded_view),
        "pageView": page_id is not None and request.method == "GET",
        "timeOnPage": get_setting("TRACK_TIME_ON_PAGE"),
        "scrollDepth": get_setting("TRACK_SCROLL_DEPTH"),
    }
    # Under a strict Content-Security-Policy, the nonce of the request (django-csp's
    # request.csp_nonce) lets the script run; the JSON block is data, never run.
    nonce = getattr(request, "csp_nonce", None)
    if nonce:
        script = tracker_script(nonce)
    return format_html("{}\n{}", json_script(config, "leadscore-config"), script)


@lru_cache(maxsize=16)
def tracker_assets(urlconf, script_prefix):
    """The beacon's URL and the tracker's script tag, the same on every page: built once
    per process, URLconf and script prefix (and again after a settings change)."""
    return reverse("wagtail_leadscore:beacon", urlconf=urlconf), tracker_script()


def tracker_script(nonce=None):
    src = static("wagtail_leadscore/js/tracker.js")
    if nonce:
        return format_html('<script src="{}" defer nonce="{}"></script>', src, nonce)
    return format_html('<script src="{}" defer></script>', src)


@receiver(setting_changed)
def _forget_tracker_assets(**kwargs):
    tracker_assets.cache_clear()


@register.simple_tag(takes_context=True)
def leadscore_contact(context):
    """``{% leadscore_contact as contact %}``: the contact this browser belongs to, or None.
    The response is then marked private (it depends on who asks)."""
    request = context.get("request")
    if request is None:
        return None
    mark_personalised(request)
    return known_contact(request)


@register.simple_tag(takes_context=True)
def leadscore_unlocked(context, form_value):
    """``{% leadscore_unlocked gate.form as unlocked %}``: whether this browser's contact
    sent that progressive form (of a ``GatedContentBlock``, or any on the page)."""
    return is_unlocked(context.get("request"), context.get("page"), form_value)


@register.simple_tag(takes_context=True)
def leadscore_in_segment(context, slug):
    """``{% leadscore_in_segment "passive-house-fans" as fan %}``: whether this browser's
    contact (or anonymous visitor) is in the segment with that slug. Stored membership:
    one query per request. The response is then marked private."""
    request = context.get("request")
    if request is None:
        return False
    mark_personalised(request)
    return slug in member_segments(request)
