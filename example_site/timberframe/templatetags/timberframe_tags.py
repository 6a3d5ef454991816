"""Template helpers of the demo site."""

from django import template
from wagtail.models import Site

register = template.Library()


@register.inclusion_tag("timberframe/includes/main_menu.html", takes_context=True)
def main_menu(context):
    """The site root's "show in menus" children, so editors decide what the nav shows.

    An item is marked current when the page being shown is that item or lies below it.
    """
    request = context["request"]
    site = Site.find_for_request(request)
    if site is None:
        return {"request": request, "home": None, "items": []}
    current = context.get("page")
    current_path = getattr(current, "url_path", None) or ""
    items = [
        (item, current_path.startswith(item.url_path))
        for item in site.root_page.get_children().live().public().in_menu()
    ]
    return {"request": request, "home": site.root_page, "items": items}
