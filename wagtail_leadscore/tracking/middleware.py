"""Gives every request a lazy ``request.leadscore`` and sets the visitor cookie it needs."""

from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.utils.cache import add_never_cache_headers
from django.utils.encoding import escape_uri_path
from django.utils.http import escape_leading_slashes
from django.utils.translation import gettext as _

from ..conf import get_setting
from .context import TrackingContext
from .health import note_tracking_failure
from .pageviews import stored_query


class TrackingMiddleware:
    """Place after AuthenticationMiddleware. Costs nothing until something tracks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not has_readable_length(request):
            return HttpResponseBadRequest(_("Invalid Content-Length header."),
                                          content_type="text/plain; charset=utf-8")
        request.leadscore = context = TrackingContext(request)
        token = request.GET.get(get_setting("IDENTITY_TOKEN_PARAM"))
        if token is not None and request.method == "GET":
            response = self.identify_and_redirect(request, token)
        else:
            response = self.get_response(request)
        context.update_cookie(response)
        context.defer_writes(response)
        return response

    def identify_and_redirect(self, request, token):
        """An email link with an identity token: identify, then drop the token from the URL
        (a credential in no history, bookmark, shared link, referrer or cache key)."""
        if request.leadscore.allowed:
            self.identify_from_token(request, token)
        # Quoted as Django's APPEND_SLASH redirect is: GET /%2Fevil.com/ has the path
        # //evil.com/, which a Location header would send to evil.com.
        path = escape_leading_slashes(escape_uri_path(request.path))
        clean_query = stored_query(request.GET)
        response = HttpResponseRedirect(path + (f"?{clean_query}" if clean_query else ""))
        add_never_cache_headers(response)
        return response

    def identify_from_token(self, request, token):
        from ..identity import identify_with_token

        try:
            identify_with_token(request, token)
        except Exception as error:  # noqa: BLE001 - a page is always served
            note_tracking_failure(error)


def has_readable_length(request):
    """Whether Django can read the body: with a Content-Length that is no number,
    ``request.body`` and ``request.POST`` (read by every form and the CSRF check) raise
    ValueError, a 500. gunicorn refuses such requests; runserver passes them on."""
    try:
        int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return True
