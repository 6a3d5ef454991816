"""``{% leadscore_tracker %}``: the JS beacon, for pages served from a cache or CDN."""

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html, json_script

from ..conf import get_setting
from ..tracking.pageviews import make_view_token

register = template.Library()


@register.simple_tag(takes_context=True)
def leadscore_tracker(context):
    """The tracker's parameters as JSON (no inline JS) and tracker.js; nothing for requests
    never tracked (previews, staff, bots). Built without a template: it is on every page."""
    tracking = getattr(context.get("request"), "leadscore", None)
    if tracking is None or tracking.is_excluded:
        return ""
    page = context.get("page") or context.get("self")
    config = {
        "endpoint": reverse("wagtail_leadscore:beacon"),
        "view": make_view_token(getattr(page, "pk", None), tracking.recorded_view),
        "timeOnPage": get_setting("TRACK_TIME_ON_PAGE"),
        "scrollDepth": get_setting("TRACK_SCROLL_DEPTH"),
    }
    return format_html(
        '{}\n<script src="{}" defer></script>',
        json_script(config, "leadscore-config"),
        static("wagtail_leadscore/js/tracker.js"),
    )
