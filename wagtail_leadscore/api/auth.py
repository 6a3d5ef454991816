"""API key authentication: ``Authorization: Bearer <key>``."""

from functools import wraps

from django.utils import timezone

from ..http import error_response
from ..models import ApiKey


def api_key_required(view):
    """401 without a key, 403 with a wrong or revoked one; else ``request.api_key``."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        scheme, _, raw_key = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not raw_key.strip():
            response = error_response(
                {"authorization": ["Send an API key as 'Authorization: Bearer <key>'."]},
                status=401,
            )
            response["WWW-Authenticate"] = 'Bearer realm="wagtail-leadscore"'
            return response
        api_key = ApiKey.objects.filter(hashed_key=ApiKey.hash(raw_key.strip())).first()
        if api_key is None or not api_key.is_active:
            return error_response({"authorization": ["Unknown or revoked API key."]}, status=403)
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
        request.api_key = api_key
        return view(request, *args, **kwargs)

    return wrapper
