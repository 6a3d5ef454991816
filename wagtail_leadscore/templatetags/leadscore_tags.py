"""``{% leadscore_tracker %}``: the JS beacon, for pages served from a cache or CDN."""

from django import template
from django.templatetags.static import static
from django.urls import reverse

from ..conf import get_setting
from ..tracking.pageviews import make_view_token

register = template.Library()


@register.inclusion_tag("wagtail_leadscore/tracker.html", takes_context=True)
def leadscore_tracker(context):
    """Renders nothing for requests never tracked (previews, staff, bots)."""
    request = context.get("request")
    tracking = getattr(request, "leadscore", None)
    if tracking is None or tracking.is_excluded:
        return {"config": None}
    page = context.get("page") or context.get("self")
    return {
        "config": {
            "endpoint": reverse("wagtail_leadscore:beacon"),
            "view": make_view_token(getattr(page, "pk", None), tracking.view_nonce),
            "timeOnPage": get_setting("TRACK_TIME_ON_PAGE"),
            "scrollDepth": get_setting("TRACK_SCROLL_DEPTH"),
        },
        "script_url": static("wagtail_leadscore/js/tracker.js"),
    }
