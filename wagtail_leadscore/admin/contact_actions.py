"""What the pages of one contact's actions share (the stage, a timeline entry, the export,
the objection): the permission check, and the page of a small form."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from ..models import Contact


def contact_action(viewset, permission):
    """A view decorator: refuses users without the contact's ``permission`` (Wagtail then
    redirects to the dashboard), and calls the view with the contact of the URL's pk."""
    def decorator(view):
        @wraps(view)
        def checked(request, pk):
            if not viewset.permission_policy.user_has_permission(request.user, permission):
                raise PermissionDenied
            return view(request, get_object_or_404(Contact, pk=pk))
        return checked
    return decorator


def contact_form_page(request, contact, form, page_title, submit_label):
    return TemplateResponse(request, "wagtail_leadscore/admin/contact_form.html", {
        "contact": contact, "form": form, "page_title": page_title,
        "submit_label": submit_label})
