"""Page views, recorded when Wagtail serves a page or when the beacon reports one."""

import hashlib
import secrets
import time
from functools import partial

from django.core import signing

from ..conf import get_setting
from ..db import savepoint_if_in_transaction
from .health import note_tracking_failure

UTM_PARAMETERS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
VIEW_TOKEN_SALT = "wagtail_leadscore.view"


def utm_properties(query_dict):
    """The UTM values, cut to 200 characters, without NULs (PostgreSQL's jsonb refuses them)."""
    return {key: query_dict[key].replace("\x00", "")[:200] for key in UTM_PARAMETERS
            if query_dict.get(key)}


def stored_query(query_dict):
    """The query string to log, without the identity token (a credential)."""
    token_param = get_setting("IDENTITY_TOKEN_PARAM")
    if token_param not in query_dict:  # the usual case: no copy (a deep copy) needed
        return query_dict.urlencode()
    query = query_dict.copy()
    query.pop(token_param)
    return query.urlencode()


def record_page_view(request, page):
    """The server-side half: called by the ``on_serve_page`` hook; never raises.

    Only GET is a view: a form POST is recorded as what it is (form_submit), and HEAD
    requests come from link checkers. A returning visitor's view is written once the
    response is sent (``RECORD_VIEWS_AFTER_RESPONSE``); this page is then rendered with
    the scores and segments of the views before it.
    """
    context = getattr(request, "leadscore", None)
    if request.method != "GET" or context is None or not get_setting("SERVER_SIDE_TRACKING"):
        return
    if not context.allowed:
        return
    fields = {
        "page": page,
        "path": request.path,
        "query": stored_query(request.GET),
        "referrer": request.META.get("HTTP_REFERER", ""),
        "properties": utm_properties(request.GET),
    }
    visitor_id = context.known_visitor_id
    if visitor_id is not None and get_setting("RECORD_VIEWS_AFTER_RESPONSE"):
        context.after_response(partial(context.record_late, visitor_id, "page_view", **fields))
        context.recorded_view = (secrets.token_urlsafe(12), visitor_id)
        return
    try:
        with savepoint_if_in_transaction():
            event = context.record("page_view", **fields)
        if event is not None:  # None: the person objected to tracking
            context.recorded_view = (secrets.token_urlsafe(12), event.visitor_id)
    except Exception as error:  # noqa: BLE001 - the page is always served
        note_tracking_failure(error)


def view_fingerprint(visitor_id, nonce):
    """Ties a rendered view to its visitor without putting the visitor's id in the HTML."""
    return hashlib.sha256(f"{visitor_id}:{nonce}".encode()).hexdigest()[:20]


def make_view_token(page_id, recorded_view=None):
    """What the tracker tag embeds: the page, and the server-side view (nonce, visitor id)
    that the beacon of the same browser would otherwise count a second time."""
    claims = {"p": page_id, "t": int(time.time())}
    if recorded_view is not None:
        nonce, visitor_id = recorded_view
        claims.update(n=nonce, h=view_fingerprint(visitor_id, nonce))
    return signing.dumps(claims, salt=VIEW_TOKEN_SALT)


def read_view_token(token):
    """The claims of a view token, or None if it was tampered with."""
    try:
        claims = signing.loads(token, salt=VIEW_TOKEN_SALT)
    except signing.BadSignature:
        return None
    return claims if isinstance(claims, dict) else None


def repeats_server_view(claims, visitor_id):
    """True if the server recorded this view for this very visitor just now. A copy from a
    cache (another visitor's HTML, or an old one) is a view of its own."""
    if not claims or not claims.get("n") or visitor_id is None:
        return False
    fresh = time.time() - claims.get("t", 0) <= get_setting("BEACON_DEDUPE_SECONDS")
    return fresh and claims.get("h") == view_fingerprint(visitor_id, claims["n"])
