"""Wagtail registrations: server-side page views and the admin viewsets."""

from wagtail import hooks

from .tracking.pageviews import record_page_view


# A high order puts this innermost in the on_serve_page chain: Wagtail's own view
# restriction check (password, login, groups) runs first, so a visitor who is shown a
# password form instead of the page has not viewed it.
@hooks.register("on_serve_page", order=100)
def track_page_view(serve_page):
    def track_and_serve(page, request, serve_args, serve_kwargs):
        record_page_view(request, page)
        return serve_page(page, request, serve_args, serve_kwargs)

    return track_and_serve


@hooks.register("register_admin_viewset")
def register_viewsets():
    from .admin.viewsets import LeadscoreViewSetGroup

    return LeadscoreViewSetGroup()
