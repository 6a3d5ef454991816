"""Companies (accounts) in the admin: the list with each account score and contact count,
and a company's page with its facts and its contacts, hottest first."""

from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet

from ..companies import account_score_column
from ..models import Company
from ..scoring.engine import global_score_column

COMPANY_CONTACTS_SHOWN = 100


class CompanyIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().annotate(
            account_score=account_score_column(), contact_count=Count("contacts"))


class CompanyInspectView(InspectView):
    template_name = "wagtail_leadscore/admin/company_inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contacts = self.object.contacts.annotate(score=global_score_column())
        context["account_score"] = Company.objects.filter(pk=self.object.pk).annotate(
            score=account_score_column()).values_list("score", flat=True).get()
        context["contact_count"] = contacts.count()
        context["contacts"] = contacts.order_by("-score", "email")[:COMPANY_CONTACTS_SHOWN]
        return context


class CompanyViewSet(ModelViewSet):
    model = Company
    icon = "site"
    menu_label = _("Companies")
    add_to_admin_menu = False
    index_view_class = CompanyIndexView
    list_display = ["name", "domain",
                    Column("contact_count", label=_("Contacts"), sort_key="contact_count"),
                    Column("account_score", label=_("Account score"),
                           sort_key="account_score")]
    search_fields = ["name", "domain"]
    search_backend_name = None
    form_fields = ["name", "domain", "facts"]
    inspect_view_enabled = True
    inspect_view_class = CompanyInspectView
    inspect_view_fields = ["name", "domain", "facts"]
