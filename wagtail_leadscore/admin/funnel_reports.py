"""Reports on what turns contacts into customers: the funnel by week, the pages read by
contacts who became leads against the rest, each form's conversion, and each nurture
step's emails. Aggregates in a fixed handful of queries, for users who may see contacts."""

from collections import Counter, defaultdict
from datetime import timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncWeek
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.reports import ReportView
from wagtail.permission_policies import ModelPermissionPolicy

from ..lifecycle.stages import CONFIRMED_STAGES, Stage
from ..mail.models import OutboxMessage, Status
from ..models import Contact, Event, ProfileSubmission, Visitor
from ..nurture.models import SequenceStep
from .charts import line_chart

contact_permission_policy = ModelPermissionPolicy(Contact)
CONTACT_PERMISSIONS = ["view", "change"]
FUNNEL_WEEKS = 12
TOP_PAGES = 30


def rate(part, whole):
    return f"{part / whole:.0%}" if whole else "–"


class ContactReportView(ReportView):
    """A report computed into rows (dicts), readable by whoever may see contacts."""

    permission_policy = contact_permission_policy
    any_permission_required = CONTACT_PERMISSIONS
    header_icon = "table"
    paginate_by = 100


class FunnelReportView(ContactReportView):
    page_title = _("Lead scoring: funnel by week")
    index_url_name = "leadscore_funnel"
    index_results_url_name = "leadscore_funnel_results"
    results_template_name = "wagtail_leadscore/admin/funnel_results.html"
    columns = [Column("week", label=_("Week from")),
               Column("visitors", label=_("New visitors")),
               Column("contacts", label=_("New contacts")),
               Column("leads", label=_("Became leads")),
               Column("lead_rate", label=_("Leads / contacts")),
               Column("sal", label=_("Accepted (SAL)")),
               Column("sql", label=_("Qualified (SQL)")),
               Column("customers", label=_("Customers")),
               Column("customer_rate", label=_("Customers / leads"))]

    def get_queryset(self):
        since = timezone.now() - timedelta(weeks=FUNNEL_WEEKS)
        weekly = defaultdict(Counter)
        for key, queryset, date_field in (
                ("visitors", Visitor.objects.filter(is_bot=False), "first_seen"),
                ("contacts", Contact.objects.all(), "created_at")):
            rows = (queryset.filter(**{f"{date_field}__gte": since})
                    .annotate(week=TruncWeek(date_field)).values("week")
                    .annotate(count=Count("pk")).order_by())
            for row in rows:
                weekly[row["week"].date()][key] += row["count"]
        changes = (Event.objects.filter(occurred_at__gte=since).filter(
            Q(type="lead_qualified") | Q(type="stage_change", name__in=CONFIRMED_STAGES))
            .annotate(week=TruncWeek("occurred_at")).values("week", "type", "name")
            .annotate(count=Count("contact", distinct=True)).order_by())
        for row in changes:
            key = "leads" if row["type"] == "lead_qualified" else {
                Stage.SAL: "sal", Stage.SQL: "sql", Stage.CUSTOMER: "customers"}[row["name"]]
            weekly[row["week"].date()][key] += row["count"]
        return [{"week": week, **counts, "lead_rate": rate(counts["leads"], counts["contacts"]),
                 "customer_rate": rate(counts["customers"], counts["leads"])}
                for week, counts in sorted(weekly.items(), reverse=True)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        weeks = sorted(context["object_list"], key=lambda row: row["week"])
        context["leads_chart"] = line_chart(
            [(row["week"].isoformat(), row.get("leads", 0)) for row in weeks],
            _("New leads per week"))
        return context


def converted_contacts():
    """Contacts who became leads (or were made SAL, SQL or customer directly)."""
    return Contact.objects.filter(Q(events__type="lead_qualified") | Q(stage__in=CONFIRMED_STAGES)
                                  ).values("pk")


class PageInfluenceReportView(ContactReportView):
    page_title = _("Lead scoring: page influence")
    index_url_name = "leadscore_page_influence"
    index_results_url_name = "leadscore_page_influence_results"
    columns = [Column("title", label=_("Page")),
               Column("converted_share", label=_("Read by leads")),
               Column("others_share", label=_("Read by the others")),
               Column("lift", label=_("Lift")),
               Column("converted", label=_("Leads who read it")),
               Column("others", label=_("Others who read it"))]

    def get_queryset(self):
        converted = converted_contacts()
        total_converted = Contact.objects.filter(pk__in=converted).count()
        total_others = Contact.objects.exclude(pk__in=converted).count()
        rows = (Event.objects.filter(type="page_view", contact__isnull=False,
                                     page__isnull=False)
                .values("page", "page__title").order_by()
                .annotate(converted=Count("contact", distinct=True,
                                          filter=Q(contact__in=converted)),
                          others=Count("contact", distinct=True,
                                       filter=~Q(contact__in=converted))))
        result = []
        for row in rows:
            converted_share = row["converted"] / total_converted if total_converted else 0
            others_share = row["others"] / total_others if total_others else 0
            lift = converted_share / others_share if others_share else None
            result.append({
                "title": row["page__title"], "converted": row["converted"],
                "others": row["others"], "converted_share": f"{converted_share:.0%}",
                "others_share": f"{others_share:.0%}",
                "lift": f"{lift:.1f}×" if lift is not None else ("∞" if converted_share
                                                                 else "–"),
                "sort": (lift if lift is not None else float("inf") if converted_share
                         else 0, row["converted"])})
        result.sort(key=lambda row: row["sort"], reverse=True)
        return result[:TOP_PAGES]


class FormConversionReportView(ContactReportView):
    page_title = _("Lead scoring: form conversion")
    index_url_name = "leadscore_form_conversion"
    index_results_url_name = "leadscore_form_conversion_results"
    columns = [Column("title", label=_("Page")), Column("block", label=_("Form block")),
               Column("viewers", label=_("Visitors who saw the page")),
               Column("submissions", label=_("Submissions")),
               Column("rate", label=_("Conversion"))]

    def get_queryset(self):
        forms = (ProfileSubmission.objects.filter(page__isnull=False)
                 .values("page", "page__title", "block_id").order_by()
                 .annotate(submissions=Count("pk")))
        forms = list(forms)
        viewers = dict(Event.objects.filter(type="page_view",
                                            page__in={row["page"] for row in forms})
                       .values("page").order_by()
                       .annotate(viewers=Count("visitor", distinct=True))
                       .values_list("page", "viewers"))
        return sorted(({"title": row["page__title"], "block": row["block_id"][:8],
                        "viewers": viewers.get(row["page"], 0),
                        "submissions": row["submissions"],
                        "rate": rate(row["submissions"], viewers.get(row["page"], 0))}
                       for row in forms), key=lambda row: -row["submissions"])


class SequenceEmailReportView(ContactReportView):
    page_title = _("Lead scoring: emails per sequence step")
    index_url_name = "leadscore_sequence_emails"
    index_results_url_name = "leadscore_sequence_emails_results"
    columns = [Column("sequence", label=_("Sequence")), Column("step", label=_("Step")),
               Column("email", label=_("Email")), Column("sent", label=_("Sent")),
               Column("opened", label=_("Opened")), Column("clicked", label=_("Clicked")),
               Column("click_rate", label=_("Clicked / sent"))]

    def get_queryset(self):
        steps = list(SequenceStep.objects.select_related("sequence", "email")
                     .order_by("sequence__name", "sort_order"))
        step_of = {}  # message id -> step id: the outbox key is nurture:<enrolment>:<step>
        for pk, key in OutboxMessage.objects.filter(
                key__startswith="nurture:", status=Status.SENT).values_list("pk", "key"):
            step_of[pk] = int(key.rsplit(":", 1)[1])
        reactions = set(Event.objects.filter(
            type__in=("email_open", "email_click"), properties__message__in=list(step_of))
            .values_list("type", "properties__message")) if step_of else set()
        sent, opened, clicked = Counter(step_of.values()), Counter(), Counter()
        for kind, message in reactions:
            (clicked if kind == "email_click" else opened)[step_of[message]] += 1
        for message in {message for kind, message in reactions if kind == "email_click"} - {
                message for kind, message in reactions if kind == "email_open"}:
            opened[step_of[message]] += 1  # a click is an open the pixel missed
        return [{"sequence": step.sequence.name, "step": step.sort_order + 1,
                 "email": step.email.name, "sent": sent[step.pk], "opened": opened[step.pk],
                 "clicked": clicked[step.pk], "click_rate": rate(clicked[step.pk],
                                                                 sent[step.pk])}
                for step in steps]


REPORTS = ((FunnelReportView, "funnel", _("Lead scoring: funnel by week")),
           (PageInfluenceReportView, "page-influence", _("Lead scoring: page influence")),
           (FormConversionReportView, "form-conversion", _("Lead scoring: form conversion")),
           (SequenceEmailReportView, "sequence-emails",
            _("Lead scoring: emails per sequence step")))


class ContactReportMenuItem(MenuItem):
    def is_shown(self, request):
        return contact_permission_policy.user_has_any_permission(request.user,
                                                                 CONTACT_PERMISSIONS)


urlpatterns = [
    url for view, slug, _label in REPORTS for url in (
        path(f"reports/leadscore-{slug}/", view.as_view(), name=view.index_url_name),
        path(f"reports/leadscore-{slug}/results/", view.as_view(results_only=True),
             name=view.index_results_url_name))]
