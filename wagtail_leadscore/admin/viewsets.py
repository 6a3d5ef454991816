"""The "Lead scoring" menu: contacts (with their scores and timeline), companies, the
scoring, segment, email, sequence and automation snippets, and API keys."""

from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.views.generic import CreateView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.snippets.views.snippets import SnippetViewSetGroup

from ..models import ApiKey, DigestRecipient
from .automation import AutomationRuleViewSet
from .companies import CompanyViewSet
from .contacts import ContactViewSet
from .mail import EmailViewSet
from .nurture import SequenceViewSet
from .scoring import FitRuleViewSet, ScoringRuleViewSet, TopicViewSet
from .segments import SegmentViewSet
from .webhooks import WebhookViewSet


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
        CompanyViewSet("leadscore_companies"),
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
