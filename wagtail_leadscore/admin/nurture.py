"""Nurture sequences as snippets: their steps inline, the window, exits and re-enrolment;
the listing counts who is in each one."""

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.admin.ui.tables import Column
from wagtail.snippets.views.snippets import IndexView, SnippetViewSet

from ..nurture.models import EnrolmentStatus, Sequence
from .choosers import PermittedChooserViewSet


class SequenceIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().annotate(
            active_total=Count("enrolments",
                               filter=Q(enrolments__status=EnrolmentStatus.ACTIVE)))


class SequenceViewSet(SnippetViewSet):
    chooser_viewset_class = PermittedChooserViewSet
    model = Sequence
    icon = "list-ol"
    index_view_class = SequenceIndexView
    list_display = ["name", "is_active", Column("active_total", label=_("Enrolled now")),
                    "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    search_backend_name = None
    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("is_active"),
        InlinePanel("steps", label=_("Step"), heading=_("Steps")),
        MultiFieldPanel([FieldRowPanel([FieldPanel("send_from_hour"),
                                        FieldPanel("send_until_hour")]),
                         FieldPanel("weekdays_only"), FieldPanel("frequency_cap_days")],
                        heading=_("When emails go (in each contact's time zone)")),
        MultiFieldPanel([FieldPanel("exit_on_lead"), FieldPanel("exit_segment"),
                         FieldPanel("reenrolment")], heading=_("Leaving and coming back")),
    ]
