"""Wagtail registrations: the page-serve hook that records server-side page views."""

from wagtail import hooks

from .tracking.pageviews import record_page_view


@hooks.register("before_serve_page")
def track_page_view(page, request, serve_args, serve_kwargs):
    record_page_view(request, page)


@hooks.register("register_admin_viewset")
def register_viewsets():
    from .admin.viewsets import LeadscoreViewSetGroup

    return LeadscoreViewSetGroup()
