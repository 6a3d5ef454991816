"""A contact's data as a JSON download, from its admin page (a data access request)."""

import json

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from ..models import Contact
from ..privacy.export import contact_export


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
