"""Webhooks as snippets, each with its delivery log (status, response code, error) and a
replay button."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.menus import MenuItem
from wagtail.snippets.views.snippets import IndexView, SnippetViewSet

from ..webhooks.delivery import replay
from ..webhooks.models import Webhook, WebhookDelivery
from .choosers import PermittedChooserViewSet

DELIVERY_LOG_LENGTH = 100


def event_type_choices():
    from ..events import event_types

    return [(event_type.name, event_type.label) for event_type in event_types]


class WebhookForm(WagtailAdminModelForm):
    events = forms.MultipleChoiceField(
        choices=event_type_choices, required=False, widget=forms.CheckboxSelectMultiple,
        label=_("Events"), help_text=_("Called for every event of these types; automation "
                                       "rules can call it too."))


class WebhookIndexView(IndexView):
    def get_list_more_buttons(self, instance):
        return [*super().get_list_more_buttons(instance), MenuItem(
            _("Deliveries"), url=reverse("wagtailsnippets_wagtail_leadscore_webhook:deliveries",
                                         args=[instance.pk]), icon_name="list-ul", priority=15)]


class WebhookViewSet(SnippetViewSet):
    chooser_viewset_class = PermittedChooserViewSet
    model = Webhook
    icon = "link-external"
    index_view_class = WebhookIndexView
    list_display = ["name", "url", "is_active", "consecutive_failures"]
    list_filter = ["is_active"]
    edit_handler = ObjectList([FieldPanel("name"), FieldPanel("url"), FieldPanel("events"),
                               FieldPanel("secret"), FieldPanel("is_active")],
                              base_form_class=WebhookForm)

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(),
                path("deliveries/<int:pk>/", self.deliveries_view, name="deliveries"),
                path("replay/<int:pk>/", self.replay_view, name="replay")]

    def check_change_permission(self, request):
        if not self.permission_policy.user_has_permission(request.user, "change"):
            raise PermissionDenied

    @property
    def deliveries_view(self):
        def view(request, pk):
            self.check_change_permission(request)
            webhook = get_object_or_404(Webhook, pk=pk)
            return TemplateResponse(request, "wagtail_leadscore/admin/webhook_deliveries.html", {
                "webhook": webhook,
                "deliveries": webhook.deliveries.order_by("-created_at", "-pk")[
                    :DELIVERY_LOG_LENGTH],
                "replay_url_name": self.get_url_name("replay"),
                "edit_url": reverse(self.get_url_name("edit"), args=[webhook.pk]),
                "page_title": _("Deliveries of %(webhook)s") % {"webhook": webhook},
            })

        return view

    @property
    def replay_view(self):
        @require_POST
        def view(request, pk):
            self.check_change_permission(request)
            delivery = get_object_or_404(WebhookDelivery, pk=pk)
            replay(delivery)
            messages.success(request, _("The call is queued again."))
            return redirect(self.get_url_name("deliveries"), delivery.webhook_id)

        return view

