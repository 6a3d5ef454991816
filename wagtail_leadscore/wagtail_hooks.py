"""Wagtail registrations: server-side page views, the "Lead scoring" admin menu (snippets
included) and the tagged pages report."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.snippets.models import register_snippet

from .admin import funnel_reports, insights, mail, privacy, reports
from .admin.dashboard import add_leads_panel
from .admin.viewsets import LeadscoreViewSetGroup
from .profiling.submit import receive_form
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


# A progressive form posts to its page's own URL; Wagtail's view restriction check, a
# before_serve_page hook too, runs first (lower order).
hooks.register("before_serve_page", receive_form, order=100)


# register_snippet (not register_admin_viewset): the group holds snippets, which Wagtail
# must know as such (snippet listing, choosers, group permissions).
register_snippet(LeadscoreViewSetGroup)


@hooks.register("register_admin_urls")
def register_report_urls():
    return [*reports.urlpatterns, *mail.urlpatterns, *funnel_reports.urlpatterns,
            *insights.urlpatterns, *privacy.urlpatterns]


@hooks.register("register_reports_menu_item")
def register_insights_menu_item():
    return reports.ScoringReportMenuItem(
        _("Lead scoring: insights"), reverse("leadscore_insights"),
        name="leadscore-insights", icon_name="crosshairs", order=1305,
    )


@hooks.register("register_reports_menu_item")
def register_tagged_pages_menu_item():
    return reports.ScoringReportMenuItem(
        _("Lead scoring: tagged pages"), reverse("leadscore_tagged_pages"),
        name="leadscore-tagged-pages", icon_name="sliders", order=1300,
    )


@hooks.register("register_reports_menu_item")
def register_outbox_menu_item():
    return mail.OutboxMenuItem(
        _("Lead scoring: outbox"), reverse("leadscore_outbox"),
        name="leadscore-outbox", icon_name="mail", order=1310,
    )


@hooks.register("register_reports_menu_item")
def register_privacy_log_menu_item():
    return privacy.PrivacyLogMenuItem(
        _("Lead scoring: privacy log"), reverse("leadscore_privacy_log"),
        name="leadscore-privacy-log", icon_name="lock", order=1315,
    )


hooks.register("construct_homepage_panels", add_leads_panel)


def register_contact_report(view, slug, label, order):
    @hooks.register("register_reports_menu_item")
    def menu_item():
        return funnel_reports.ContactReportMenuItem(
            label, reverse(view.index_url_name), name=f"leadscore-{slug}", icon_name="table",
            order=order)


for number, (view, slug, label) in enumerate(funnel_reports.REPORTS):
    register_contact_report(view, slug, label, 1320 + number)
