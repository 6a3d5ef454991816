"""Contacts in the admin: the list with filters by stage, owner, segment, company, score
and activity, sortable by score; the contact's page (facts, scores and their ledger, the
score over time, the timeline in visits, segments, sequences and emails); the stage, a
note or an offline event added on pages of their own."""

import django_filters
from django.urls import path
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import DeleteView, IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet

from ..lifecycle.stages import CONTACT_STAGES, Engagement
from ..models import Company, Contact, Score, Segment, Topic
from ..privacy.erase import erase_contact
from ..scoring.engine import global_score_column
from .contact_privacy import export_view, objection_view
from .contact_scores import TOPIC_PREFIX, scoring_context
from .contact_stage import stage_view
from .contact_timeline import score_chart, timeline_entry_view, timeline_with_visits
from .spreadsheets import spreadsheet_safe


class ContactFilterSet(WagtailFilterSet):
    stage = django_filters.MultipleChoiceFilter(label=_("Stage"), choices=CONTACT_STAGES)
    engagement = django_filters.ChoiceFilter(label=_("Activity"), choices=Engagement.choices)
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"), field_name="owner",
        queryset=lambda request: Contact._meta.get_field("owner").related_model.objects
        .filter(leadscore_contacts__isnull=False).distinct().order_by("username"))
    segment = django_filters.ModelChoiceFilter(
        label=_("Segment"), field_name="segment_memberships__segment",
        queryset=Segment.objects.order_by("name"))
    score = django_filters.RangeFilter(label=_("Score"), field_name="score")
    topic = django_filters.ModelChoiceFilter(
        label=_("Interested in (topic score above 0)"), queryset=Topic.objects.order_by("name"),
        method="filter_topic")
    account = django_filters.ModelChoiceFilter(
        label=_("Company account"), field_name="account", queryset=Company.objects.all())
    company = django_filters.CharFilter(label=_("Company (as typed)"), lookup_expr="icontains")

    class Meta:
        model = Contact
        fields = []

    def filter_topic(self, queryset, name, topic):
        scored = Score.objects.filter(dimension=f"{TOPIC_PREFIX}{topic.pk}", value__gt=0,
                                      contact__isnull=False)
        return queryset.filter(pk__in=scored.values("contact_id"))


class ContactIndexView(IndexView):
    def preprocess_field_value(self, field, value, export_format):
        value = super().preprocess_field_value(field, value, export_format)
        if export_format == self.FORMAT_CSV and isinstance(value, str):
            return spreadsheet_safe(value)
        return value

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("owner", "account").annotate(
            score=global_score_column())


TIMELINE_LENGTH = 100


class ContactInspectView(InspectView):
    """A contact's facts and scores with the ledger behind them, then what they did."""

    template_name = "wagtail_leadscore/admin/contact_inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contact = self.object
        context["timeline"] = timeline_with_visits(contact.events.select_related("page")
                                                   .order_by("-occurred_at", "-pk")
                                                   [:TIMELINE_LENGTH])
        context["event_count"] = contact.events.count()
        context["visitors"] = visitors = list(contact.visitors.order_by("-last_seen"))
        # Browsers linked by a typed email only: their events are marked in the timeline.
        context["unverified_visitors"] = {visitor.pk for visitor in visitors
                                          if not visitor.verified}
        context["submissions"] = contact.profile_submissions.select_related("page")[
            :TIMELINE_LENGTH]
        context["score_chart"] = score_chart(contact)
        context["consents"] = contact.consents.order_by("-given_at")
        context["memberships"] = contact.segment_memberships.select_related(
            "segment").order_by("segment__name")
        context["enrolments"] = contact.enrolments.select_related("sequence").order_by(
            "-enrolled_at")
        context["messages_sent"] = contact.outbox_messages.select_related("email").order_by(
            "-created_at")[:TIMELINE_LENGTH]
        context.update(scoring_context(contact, self.request))
        return context


class ContactEraseView(DeleteView):
    """Deleting a contact erases it (``privacy.erase``): its personal data goes from every
    table, its anonymous traces stay, and the privacy log records it."""

    def delete_action(self):
        erase_contact(self.object, user=self.request.user, via="admin")


class ContactViewSet(ModelViewSet):
    model = Contact
    icon = "user"
    menu_label = _("Contacts")
    add_to_admin_menu = False
    index_view_class = ContactIndexView
    delete_view_class = ContactEraseView
    filterset_class = ContactFilterSet
    list_display = ["email", "first_name", "last_name", "company", "stage",
                    Column("score", label=_("Score"), sort_key="score"),
                    Column("owner", label=_("Owner")), "created_at"]
    search_fields = ["email", "first_name", "last_name", "company"]
    # CSV cells are escaped (ContactIndexView); XLSX cells are strings, never formulas.
    list_export = ["email", "first_name", "last_name", "company", "job_title", "phone",
                   "country", "stage", "score", "owner", "created_at"]
    export_filename = "contacts"
    search_backend_name = None  # plain database search: no index to keep up to date
    # The stage is derived (lifecycle rules, sales feedback): changed on its own page, as
    # an event with who and why, never as a plain field.
    form_fields = ["email", *Contact.PROFILE_FIELDS, "account", "owner", "tags"]
    inspect_view_enabled = True
    inspect_view_class = ContactInspectView
    # The stage is shown with the scores.
    inspect_view_fields = ["email", *Contact.PROFILE_FIELDS, "account", "owner", "facts",
                           "unsubscribed_at", "bounced_at"]

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(),
                path("stage/<int:pk>/", stage_view(self), name="stage"),
                path("timeline/<int:pk>/", timeline_entry_view(self), name="timeline_entry"),
                path("export/<int:pk>/", export_view(self), name="export"),
                path("object/<int:pk>/", objection_view(self), name="object")]


