"""Data subject requests from a contact's admin page: its data as a JSON download (a data
access request), and an objection to tracking (after a confirmation). Erasure is the
contact's delete view (``contacts.ContactEraseView``)."""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from ..models import Contact
from ..privacy.export import contact_export
from ..privacy.objection import object_to_tracking


def export_view(viewset):
    def view(request, pk):
        if not viewset.permission_policy.user_has_permission(request.user, "view"):
            raise PermissionDenied
        contact = get_object_or_404(Contact, pk=pk)
        response = HttpResponse(
            json.dumps(contact_export(contact, user=request.user, via="admin"),
                       cls=DjangoJSONEncoder, indent=2,
                       ensure_ascii=False),
            content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.json"'
        return response

    return view


def objection_view(viewset):
    def view(request, pk):
        if not viewset.permission_policy.user_has_permission(request.user, "change"):
            raise PermissionDenied
        contact = get_object_or_404(Contact, pk=pk)
        if request.method == "POST":
            object_to_tracking(contact, user=request.user, via="admin")
            messages.success(request, _("%(contact)s is no longer tracked.") % {
                "contact": contact})
            return redirect(viewset.get_url_name("inspect"), contact.pk)
        return TemplateResponse(request, "wagtail_leadscore/admin/contact_objection.html", {
            "contact": contact,
            "page_title": _("Stop tracking %(contact)s") % {"contact": contact}})

    return view
