"""The "Lead scoring" menu: contacts (with their scores and timeline), the scoring, segment,
email, sequence and automation snippets, and API keys."""

from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from wagtail.admin.views.generic import CreateView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.snippets.views.snippets import SnippetViewSetGroup

from ..models import ApiKey, Contact, DigestRecipient
from .automation import AutomationRuleViewSet
from .contact_scores import scoring_context
from .contact_stage import stage_view
from .mail import EmailViewSet
from .nurture import SequenceViewSet
from .scoring import FitRuleViewSet, ScoringRuleViewSet, TopicViewSet
from .segments import SegmentViewSet
from .webhooks import WebhookViewSet

TIMELINE_LENGTH = 100


class ContactInspectView(InspectView):
    """A contact's facts and scores with the ledger behind them, then what they did."""

    template_name = "wagtail_leadscore/admin/contact_inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["events"] = self.object.events.select_related("page").order_by(
            "-occurred_at", "-pk"
        )[:TIMELINE_LENGTH]
        context["event_count"] = self.object.events.count()
        context["visitors"] = self.object.visitors.order_by("-last_seen")
        context["submissions"] = self.object.profile_submissions.select_related("page")[
            :TIMELINE_LENGTH]
        context.update(scoring_context(self.object, self.request))
        return context


class ContactViewSet(ModelViewSet):
    model = Contact
    icon = "user"
    menu_label = _("Contacts")
    add_to_admin_menu = False
    list_display = ["email", "first_name", "last_name", "company", "stage", "created_at"]
    list_filter = ["stage"]
    search_fields = ["email", "first_name", "last_name", "company"]
    search_backend_name = None  # plain database search: no index to keep up to date
    # The stage is derived (lifecycle rules, sales feedback): changed on its own page, as
    # an event with who and why, never as a plain field.
    form_fields = ["email", *Contact.PROFILE_FIELDS, "owner", "tags"]
    inspect_view_enabled = True
    inspect_view_class = ContactInspectView
    # The stage is shown with the scores.
    inspect_view_fields = ["email", *Contact.PROFILE_FIELDS, "owner", "facts"]

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(),
                path("stage/<int:pk>/", stage_view(self), name="stage")]


class ApiKeyCreateView(CreateView):
    """Shows the new key on the response itself, once, instead of redirecting."""

    def form_valid(self, form):
        raw_key = form.instance.set_new_key()
        self.form = form
        instance = self.save_instance()
        return TemplateResponse(
            self.request,
            "wagtail_leadscore/admin/api_key_created.html",
            {"api_key": instance, "raw_key": raw_key, "index_url": self.get_success_url(),
             "page_title": _("API key created")},
        )  # the admin answers with never_cache: the key is kept by no cache


class ApiKeyViewSet(ModelViewSet):
    model = ApiKey
    icon = "key"
    menu_label = _("API keys")
    add_to_admin_menu = False
    list_display = ["name", "prefix", "is_active", "created_at", "last_used_at"]
    form_fields = ["name", "is_active"]
    add_view_class = ApiKeyCreateView


class DigestRecipientViewSet(ModelViewSet):
    model = DigestRecipient
    icon = "mail"
    menu_label = _("Digest recipients")
    add_to_admin_menu = False
    list_display = ["email", "name", "frequency", "is_active"]
    form_fields = ["email", "name", "frequency", "is_active"]


class LeadscoreViewSetGroup(SnippetViewSetGroup):
    """A snippet group, registered with ``register_snippet``: its scoring rules, fit rules
    and topics are snippets (listed, chosen and permitted as such) in this menu."""

    menu_label = _("Lead scoring")
    menu_icon = "group"
    menu_order = 250
    items = (
        ContactViewSet("leadscore_contacts"),
        ScoringRuleViewSet,
        FitRuleViewSet,
        SegmentViewSet,
        EmailViewSet,
        SequenceViewSet,
        AutomationRuleViewSet,
        WebhookViewSet,
        TopicViewSet,
        DigestRecipientViewSet("leadscore_digest_recipients"),
        ApiKeyViewSet("leadscore_api_keys"),
    )
