"""Segments as snippets: a live member count while editing, the member list and its CSV
export (cells a spreadsheet would run as a formula are escaped)."""

import csv

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, F
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, Panel
from wagtail.admin.ui.tables import Column
from wagtail.snippets.views.snippets import IndexView, SnippetViewSet

from ..segments.models import Segment, SegmentMembership
from ..segments.rebuild import count_members
from .choosers import PageEditorChooserViewSet
from .spreadsheets import spreadsheet_safe

MEMBERS_PER_PAGE = 50
CSV_COLUMNS = ("email", "first_name", "last_name", "company", "job_title", "country", "stage")


class MemberCountPanel(Panel):
    """"N contacts and M anonymous visitors", counted again as the conditions change."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_leadscore/admin/segment_member_count.html"

        class Media:
            js = ["wagtail_leadscore/js/segment_count.js"]

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            instance = self.instance
            context["count_url"] = reverse(
                "wagtailsnippets_wagtail_leadscore_segment:member_count",
                args=[instance.pk] if instance.pk else [])
            if instance.pk:
                context["members_url"] = reverse(
                    "wagtailsnippets_wagtail_leadscore_segment:members", args=[instance.pk])
            return context


class SegmentIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().annotate(member_total=Count("memberships"))


class SegmentViewSet(SnippetViewSet):
    chooser_viewset_class = PageEditorChooserViewSet
    model = Segment
    icon = "group"
    index_view_class = SegmentIndexView
    list_display = ["name", "slug", Column("member_total", label=gettext_lazy("Members")),
                    "is_active", "rebuilt_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    search_backend_name = None
    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("description"),
        FieldPanel("is_active"),
        FieldPanel("include_visitors"),
        MultiFieldPanel([FieldPanel("match"), FieldPanel("conditions")],
                        heading=gettext_lazy("Conditions")),
        MemberCountPanel(heading=gettext_lazy("Members")),
    ]

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("member-count/", self.member_count_view, name="member_count"),
            path("member-count/<int:pk>/", self.member_count_view, name="member_count"),
            path("members/<int:pk>/", self.members_view, name="members"),
            path("members/<int:pk>/csv/", self.members_csv_view, name="members_csv"),
        ]

    def require_permission(self, request, *actions):
        if not self.permission_policy.user_has_any_permission(request.user, actions):
            raise PermissionDenied

    @property
    def member_count_view(self):
        @require_POST
        def view(request, pk=None):
            """The members the conditions being edited would have (nothing is saved)."""
            self.require_permission(request, "add", "change")
            instance = get_object_or_404(Segment, pk=pk) if pk else Segment()
            form_class = self.get_form_class(for_update=pk is not None)
            form = form_class(request.POST, instance=instance, for_user=request.user)
            if not form.is_valid():
                return JsonResponse({"error": _("Correct the errors to see the members.")},
                                    status=400)
            return JsonResponse(count_members(form.save(commit=False), timezone.now()))

        return view

    @property
    def members_view(self):
        def view(request, pk):
            self.require_permission(request, "view", "change")
            segment = get_object_or_404(Segment, pk=pk)
            contacts = member_contacts(segment)
            page = Paginator(contacts, MEMBERS_PER_PAGE).get_page(request.GET.get("p"))
            return TemplateResponse(request, "wagtail_leadscore/admin/segment_members.html", {
                "segment": segment,
                "page_obj": page,
                "visitor_count": SegmentMembership.objects.filter(
                    segment=segment, visitor__isnull=False).count(),
                "edit_url": reverse(self.get_url_name("edit"), args=[segment.pk]),
                "csv_url": reverse(self.get_url_name("members_csv"), args=[segment.pk]),
                "page_title": _("Members of %(segment)s") % {"segment": segment},
            })

        return view

    @property
    def members_csv_view(self):
        def view(request, pk):
            self.require_permission(request, "view", "change")
            segment = get_object_or_404(Segment, pk=pk)
            writer = csv.writer(Echo())
            rows = member_contacts(segment).values_list(*CSV_COLUMNS, "entered_at").iterator()
            lines = (writer.writerow([spreadsheet_safe(cell) for cell in row])
                     for row in [(*CSV_COLUMNS, "member_since"), *rows])
            response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{segment.slug}.csv"'
            return response

        return view


class Echo:
    """A file-like object that hands each written CSV line back to the generator."""

    def write(self, value):
        return value


def member_contacts(segment):
    return segment.contacts().annotate(
        entered_at=F("segment_memberships__entered_at")).order_by("-entered_at", "pk")
