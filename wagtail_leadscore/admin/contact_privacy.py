"""Data subject requests from a contact's admin page: its data as a JSON download (a data
access request), and an objection to tracking (after a confirmation). Erasure is the
contact's delete view (``contacts.ContactEraseView``)."""

import json

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from ..privacy.export import contact_export
from ..privacy.objection import object_to_tracking
from .contact_actions import contact_action


def export_view(viewset):
    @contact_action(viewset, "view")
    def view(request, contact):
        response = HttpResponse(
            json.dumps(contact_export(contact, user=request.user, via="admin"),
                       cls=DjangoJSONEncoder, indent=2,
                       ensure_ascii=False),
            content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.json"'
        return response

    return view


def objection_view(viewset):
    @contact_action(viewset, "change")
    def view(request, contact):
        if request.method == "POST":
            object_to_tracking(contact, user=request.user, via="admin")
            messages.success(request, _("%(contact)s is no longer tracked.") % {
                "contact": contact})
            return redirect(viewset.get_url_name("inspect"), contact.pk)
        return TemplateResponse(request, "wagtail_leadscore/admin/contact_objection.html", {
            "contact": contact,
            "page_title": _("Stop tracking %(contact)s") % {"contact": contact}})

    return view
