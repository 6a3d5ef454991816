"""A strict Content-Security-Policy with a per-request nonce, as django-csp sets it
(``request.csp_nonce``): no inline script, no script but the nonce's."""

import secrets


class StrictNonceCSPMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        response["Content-Security-Policy"] = (
            f"default-src 'self'; script-src 'nonce-{request.csp_nonce}'; "
            "connect-src 'self'; style-src 'self'; img-src 'self' data:")
        return response
