"""Reports → Lead scoring: insights. The behaviours that set the contacts sales confirmed
apart, with a suggested point value; one click applies a suggestion."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _

from ..scoring.insights import CONFIRMED_STAGES, apply_suggestion, find, insights
from .reports import can_see_scoring, scoring_permission_policy


def can_apply(user, behaviour):
    if behaviour.kind == "page":
        from wagtail.models import Page

        page = Page.objects.get(pk=int(behaviour.key.split(":")[1]))
        return page.permissions_for_user(user).can_publish()
    if behaviour.kind == "fact":
        from wagtail.permission_policies import ModelPermissionPolicy

        from ..scoring.models import FitRule

        return ModelPermissionPolicy(FitRule).user_has_permission(user, "change")
    return scoring_permission_policy.user_has_permission(user, "change")


def insights_view(request):
    if not can_see_scoring(request.user):
        raise PermissionDenied
    if request.method == "POST":
        behaviour = find(request.POST.get("key", ""))
        if behaviour is None or not behaviour.can_apply:
            messages.error(request, _("That suggestion is no longer among the insights."))
        elif not can_apply(request.user, behaviour):
            raise PermissionDenied
        else:
            try:
                messages.success(request, apply_suggestion(behaviour, request.user) + " " + _(
                    "It counts from now on; rebuild the scores to apply it to the past."))
            except (ValueError, ValidationError) as error:
                messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect("leadscore_insights")
    return TemplateResponse(request, "wagtail_leadscore/admin/insights.html", {
        "page_title": _("Lead scoring: insights"), "header_icon": "crosshairs",
        "insights": insights(), "confirmed_stages": CONFIRMED_STAGES})


urlpatterns = [path("reports/leadscore-insights/", insights_view, name="leadscore_insights")]
