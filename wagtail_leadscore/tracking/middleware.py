"""Gives every request a lazy ``request.leadscore`` and sets the visitor cookie it needs."""

import logging

from ..conf import get_setting
from .context import TrackingContext
from .health import note_tracking_failure

logger = logging.getLogger("wagtail_leadscore")


class TrackingMiddleware:
    """Place after AuthenticationMiddleware. Costs nothing until something tracks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.leadscore = context = TrackingContext(request)
        token = request.GET.get(get_setting("IDENTITY_TOKEN_PARAM"))
        if token and context.allowed:
            self.identify_from_token(request, token)
        response = self.get_response(request)
        context.update_cookie(response)
        return response

    def identify_from_token(self, request, token):
        from ..identity import identify_with_token

        try:
            identify_with_token(request, token)
        except Exception as error:  # noqa: BLE001 - a page is always served
            note_tracking_failure(error)
