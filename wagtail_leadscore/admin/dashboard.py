"""The leads panel of the Wagtail dashboard: new leads this week, the hottest open leads
and the funnel, for users who may see contacts. A fixed handful of queries."""

from datetime import datetime, time, timedelta

from django.db.models import Count
from django.utils import timezone
from wagtail.admin.ui.components import Component
from wagtail.permission_policies import ModelPermissionPolicy

from ..lifecycle.stages import CONTACT_STAGES, OPEN_LEAD_STAGES, Stage
from ..models import Contact, Event, Visitor
from ..scoring.engine import global_score_column

HOTTEST = 5


def week_start(now):
    """Monday 00:00 of this week, in the site's time zone."""
    today = timezone.localtime(now).date()
    return datetime.combine(today - timedelta(days=today.weekday()), time(),
                            timezone.get_current_timezone())


class LeadsPanel(Component):
    name = "leadscore_leads"
    template_name = "wagtail_leadscore/admin/dashboard_panel.html"
    order = 110

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        since = week_start(timezone.now())
        new_leads = (Event.objects.filter(type="lead_qualified", occurred_at__gte=since)
                     .select_related("contact").order_by("-occurred_at"))
        hottest = (Contact.objects.filter(stage__in=OPEN_LEAD_STAGES)
                   .annotate(score=global_score_column())
                   .order_by("-score", "pk")[:HOTTEST])
        per_stage = dict(Contact.objects.values_list("stage").annotate(count=Count("pk")))
        context.update({
            "since": since,
            "new_leads": list(new_leads[:HOTTEST]),
            "new_lead_count": new_leads.count(),
            "hottest": hottest,
            "funnel": [(Stage.ANONYMOUS.label, Visitor.objects.filter(
                contact__isnull=True).count())] + [
                (label, per_stage.get(stage, 0)) for stage, label in CONTACT_STAGES],
        })
        return context


def add_leads_panel(request, panels):
    """``construct_homepage_panels`` hook."""
    if ModelPermissionPolicy(Contact).user_has_any_permission(request.user, ["view",
                                                                             "change"]):
        panels.append(LeadsPanel())
