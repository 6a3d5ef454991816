"""Reports -> "Lead scoring: privacy log": every export and erasure, who did it and when.
For users with the privacy log's view permission (admins)."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.reports import ReportView
from wagtail.permission_policies import ModelPermissionPolicy

from ..models import PrivacyLogEntry

privacy_permission_policy = ModelPermissionPolicy(PrivacyLogEntry)


class PrivacyLogView(ReportView):
    page_title = _("Lead scoring: privacy log")
    header_icon = "lock"
    index_url_name = "leadscore_privacy_log"
    index_results_url_name = "leadscore_privacy_log_results"
    permission_policy = privacy_permission_policy
    permission_required = "view"
    columns = [
        Column("at", label=_("When")),
        Column("action", label=_("Action"), accessor="get_action_display"),
        Column("contact_id", label=_("Contact id")),
        Column("user", label=_("By")),
        Column("via", label=_("Via")),
        Column("details", label=_("Details"), accessor=lambda entry: ", ".join(
            f"{key}: {value}" for key, value in entry.details.items())),
    ]

    def get_queryset(self):
        return PrivacyLogEntry.objects.select_related("user").order_by("-at", "-pk")


class PrivacyLogMenuItem(MenuItem):
    def is_shown(self, request):
        return privacy_permission_policy.user_has_permission(request.user, "view")


urlpatterns = [
    path("reports/leadscore-privacy-log/", PrivacyLogView.as_view(),
         name="leadscore_privacy_log"),
    path("reports/leadscore-privacy-log/results/", PrivacyLogView.as_view(results_only=True),
         name="leadscore_privacy_log_results"),
]
