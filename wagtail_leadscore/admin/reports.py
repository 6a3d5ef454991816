"""The "Lead scoring: tagged pages" report: which pages score, how, and for which topics,
visible at a glance instead of page by page in the editor."""

from django.db.models import Q, prefetch_related_objects
from django.urls import path
from django.utils.translation import gettext_lazy as _
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.reports import ReportView
from wagtail.models import Page, get_page_models
from wagtail.permission_policies import ModelPermissionPolicy

from ..scoring.models import ScoringRule
from ..scoring.pages import LeadScoringPageMixin

# How pages score is part of the scoring: who may see the scoring rules may see it.
scoring_permission_policy = ModelPermissionPolicy(ScoringRule)
SCORING_PERMISSIONS = ["view", "add", "change"]


def can_see_scoring(user):
    return scoring_permission_policy.user_has_any_permission(user, SCORING_PERMISSIONS)


def tagged_pages():
    """Pages that score: points per view, an N-th view bonus, or interest topics."""
    tagged = Q(pk__in=[])
    for model in get_page_models():
        if issubclass(model, LeadScoringPageMixin):
            tagged |= Q(pk__in=model.objects.filter(
                ~Q(leadscore_points=0)
                | Q(leadscore_bonus_visit__isnull=False) & ~Q(leadscore_bonus_points=0)
                | Q(leadscore_topics__isnull=False)
            ).values("pk"))
    return Page.objects.filter(tagged).specific().order_by("path")


def with_topics(pages):
    """``pages`` with their topics fetched in one query per page type."""
    pages = list(pages)
    for page_class in {type(page) for page in pages}:
        prefetch_related_objects([page for page in pages if type(page) is page_class],
                                 "leadscore_topics")
    return pages


def bonus_text(page):
    if page.leadscore_bonus_visit and page.leadscore_bonus_points:
        return _("%(points)+d on view %(number)s") % {
            "points": page.leadscore_bonus_points, "number": page.leadscore_bonus_visit}
    return ""


class TaggedPagesReportView(ReportView):
    page_title = _("Lead scoring: tagged pages")
    header_icon = "sliders"
    index_url_name = "leadscore_tagged_pages"
    index_results_url_name = "leadscore_tagged_pages_results"
    permission_policy = scoring_permission_policy
    any_permission_required = SCORING_PERMISSIONS
    columns = [
        TitleColumn("title", label=_("Page"), url_name="wagtailadmin_pages:edit"),
        Column("type", label=_("Type"), accessor="page_type_display_name"),
        Column("points", label=_("Points per view"),
               accessor=lambda page: f"{page.leadscore_points:+d}"),
        Column("bonus", label=_("Bonus"), accessor=bonus_text),
        Column("cap", label=_("Counts"), accessor="get_leadscore_cap_display"),
        Column("topics", label=_("Topics"), accessor=lambda page: ", ".join(
            topic.name for topic in page.leadscore_topics.all())),
    ]

    def get_queryset(self):
        return tagged_pages()

    def get_table(self, object_list):
        return super().get_table(with_topics(object_list))


class ScoringReportMenuItem(MenuItem):
    def is_shown(self, request):
        return can_see_scoring(request.user)


urlpatterns = [
    path("reports/leadscore-tagged-pages/", TaggedPagesReportView.as_view(),
         name="leadscore_tagged_pages"),
    path("reports/leadscore-tagged-pages/results/",
         TaggedPagesReportView.as_view(results_only=True),
         name="leadscore_tagged_pages_results"),
]
