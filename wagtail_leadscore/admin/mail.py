"""Emails as snippets, with their statistics (sends, opens, clicks per link, unsubscribes),
and the outbox: what was sent, what waits, what failed and why."""

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.db.models.fields.json import KeyTextTransform
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.admin.ui.menus import MenuItem as ListingMenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.reports import ReportView
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.snippets.views.snippets import IndexView, SnippetViewSet

from ..mail.models import Email, OutboxMessage, Status
from ..models import Event
from .choosers import PermittedChooserViewSet


def email_statistics(email):
    """Sends, distinct opens and clicks (scans apart), unsubscribes, and clicks per link."""
    events = Event.objects.filter(name=email.slug)
    counts = events.aggregate(
        opened=Count(KeyTextTransform("message", "properties"), distinct=True,
                     filter=Q(type="email_open")),
        clicked=Count(KeyTextTransform("message", "properties"), distinct=True,
                      filter=Q(type="email_click")),
        clicks=Count("pk", filter=Q(type="email_click")),
        scans=Count("pk", filter=Q(type="email_scan")),
        unsubscribed=Count("pk", filter=Q(type="unsubscribed")),
    )
    counts["sent"] = email.messages.filter(status=Status.SENT).count()
    links = (events.filter(type="email_click").annotate(url=KeyTextTransform("url", "properties"))
             .values("url").annotate(clicks=Count("pk"),
                                     people=Count("contact", distinct=True))
             .order_by("-clicks", "url"))
    return counts, list(links)


class EmailIndexView(IndexView):
    def get_list_more_buttons(self, instance):
        return [*super().get_list_more_buttons(instance), ListingMenuItem(
            _("Statistics"), url=reverse("wagtailsnippets_wagtail_leadscore_email:statistics",
                                         args=[instance.pk]), icon_name="table", priority=15)]

    def get_base_queryset(self):
        return super().get_base_queryset().annotate(
            sent_total=Count("messages", filter=Q(messages__status=Status.SENT)))


class EmailViewSet(SnippetViewSet):
    chooser_viewset_class = PermittedChooserViewSet
    model = Email
    icon = "mail"
    index_view_class = EmailIndexView
    list_display = ["name", "subject", "kind", Column("sent_total", label=gettext_lazy("Sent")),
                    "updated_at"]
    list_filter = ["kind"]
    search_fields = ["name", "subject"]
    search_backend_name = None
    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("kind"),
        MultiFieldPanel([FieldPanel("subject"), FieldPanel("preheader"),
                         FieldPanel("from_email")], heading=gettext_lazy("Envelope")),
        FieldPanel("body", help_text=gettext_lazy(
            "Merge fields: {{ first_name }}, or {{ company | your company }} with what to "
            "write when the contact has no such fact.")),
    ]

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(),
                path("statistics/<int:pk>/", self.statistics_view, name="statistics")]

    @property
    def statistics_view(self):
        def view(request, pk):
            if not self.permission_policy.user_has_any_permission(
                    request.user, ["view", "change"]):
                raise PermissionDenied
            email = get_object_or_404(Email, pk=pk)
            counts, links = email_statistics(email)
            return TemplateResponse(request, "wagtail_leadscore/admin/email_statistics.html", {
                "email": email, "counts": counts, "links": links,
                "edit_url": reverse(self.get_url_name("edit"), args=[email.pk]),
                "page_title": _("Statistics of %(email)s") % {"email": email},
            })

        return view


# The outbox is read by whoever may see the emails.
email_permission_policy = ModelPermissionPolicy(Email)
EMAIL_PERMISSIONS = ["view", "add", "change"]


class OutboxFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(label=gettext_lazy("Status"), choices=Status.choices)
    email = django_filters.ModelChoiceFilter(label=gettext_lazy("Email"),
                                             queryset=Email.objects.all())

    class Meta:
        model = OutboxMessage
        fields = ["status", "email"]


class OutboxReportView(ReportView):
    """What was sent, what waits and until when, what failed and why: rows are written by
    rules, sequences and the sending worker, so this is a report, not an editor."""

    page_title = gettext_lazy("Lead scoring: outbox")
    header_icon = "mail"
    index_url_name = "leadscore_outbox"
    index_results_url_name = "leadscore_outbox_results"
    permission_policy = email_permission_policy
    any_permission_required = EMAIL_PERMISSIONS
    filterset_class = OutboxFilterSet
    columns = [
        Column("email", label=gettext_lazy("Email")),
        Column("contact", label=gettext_lazy("Contact"), accessor="contact.email"),
        Column("status", label=gettext_lazy("Status"), accessor="get_status_display"),
        Column("send_after", label=gettext_lazy("Send after")),
        Column("sent_at", label=gettext_lazy("Sent")),
        Column("attempts", label=gettext_lazy("Attempts")),
        Column("last_error", label=gettext_lazy("Last error")),
    ]

    def get_queryset(self):
        return OutboxMessage.objects.select_related("email", "contact").order_by(
            "-send_after", "-pk")


class OutboxMenuItem(MenuItem):
    def is_shown(self, request):
        return email_permission_policy.user_has_any_permission(request.user, EMAIL_PERMISSIONS)


urlpatterns = [
    path("reports/leadscore-outbox/", OutboxReportView.as_view(), name="leadscore_outbox"),
    path("reports/leadscore-outbox/results/", OutboxReportView.as_view(results_only=True),
         name="leadscore_outbox_results"),
]
