"""Gated documents: served through a signed, expiring link that checks the unlock and
records a ``download`` event, never through the document's public URL."""

from django.core import signing
from django.http import FileResponse, Http404, HttpResponseForbidden
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from wagtail.documents import get_document_model

from ..conf import get_setting
from ..events import record_event
from .gates import form_sent

DOCUMENT_LINK_SALT = "wagtail_leadscore.document"


def gated_document_url(document, page, form_id):
    """A link to ``document`` for whoever sent the form ``form_id`` of ``page``; it
    expires after DOCUMENT_LINK_MAX_AGE."""
    token = signing.dumps({"d": document.pk, "p": page.pk, "f": form_id},
                          salt=DOCUMENT_LINK_SALT, compress=True)
    return reverse("wagtail_leadscore:gated_document", args=[token])


@require_safe
def gated_document(request, token):
    """GET: the file, as an attachment, for a contact who unlocked it (403 otherwise).
    Only a GET is a download; HEAD answers the same headers and records nothing."""
    max_age = get_setting("DOCUMENT_LINK_MAX_AGE")
    try:
        claims = signing.loads(token, salt=DOCUMENT_LINK_SALT, max_age=max_age)
    except signing.SignatureExpired:
        return HttpResponseForbidden(_("This link has expired. Reload the page for a new one."))
    except signing.BadSignature:
        raise Http404 from None
    document = get_document_model().objects.filter(pk=claims.get("d")).first()
    if document is None:
        raise Http404
    if not form_sent(request, claims.get("p"), claims.get("f")):
        return HttpResponseForbidden(_("Send the form on the page first."))
    if request.method == "GET":  # HEAD: a link checker, or a browser asking before a GET
        record_event("download", request=request, page_id=claims["p"],
                     name=document.title, properties={"document": document.filename})
    response = FileResponse(document.file.open("rb"), as_attachment=True,
                            filename=document.filename)
    add_never_cache_headers(response)
    patch_cache_control(response, private=True)
    return response
