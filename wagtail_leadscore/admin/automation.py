"""Automation rules as snippets: a trigger, conditions (the segments' condition types) and
actions, edited as data; bad input (a trigger without its value, a broken regular
expression) is a form error."""

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.admin.ui.tables import Column
from wagtail.snippets.views.snippets import IndexView, SnippetViewSet

from ..automation.models import AutomationRule, RunStatus
from .choosers import PermittedChooserViewSet


class AutomationRuleIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().annotate(
            run_total=Count("runs", filter=Q(runs__status=RunStatus.DONE)),
            failed_total=Count("runs", filter=Q(runs__status=RunStatus.FAILED)))


class AutomationRuleViewSet(SnippetViewSet):
    chooser_viewset_class = PermittedChooserViewSet
    model = AutomationRule
    icon = "cogs"
    index_view_class = AutomationRuleIndexView
    list_display = ["name", "trigger", "is_active", Column("run_total", label=_("Runs")),
                    Column("failed_total", label=_("Failed")), "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    search_backend_name = None
    panels = [
        FieldPanel("name"),
        FieldPanel("is_active"),
        MultiFieldPanel([FieldPanel("trigger"), FieldPanel("value"), FieldPanel("answer"),
                         FieldPanel("repeat")], heading=_("When")),
        MultiFieldPanel([FieldPanel("match"), FieldPanel("conditions")],
                        heading=_("If the contact")),
        FieldPanel("actions", heading=_("Then")),
    ]
