"""Gates: how much of some content a visitor sees before and after sending a progressive
form. One rule for ``GatedContentBlock`` and ``GatedPageMixin``: content is unlocked in the
browser that sent its form (a signed cookie naming the forms sent, so it works for a
browser that is not tracked, too) and on every verified browser of the contact who sent it.
"""

from django.utils.translation import gettext_lazy as _

from ..conf import get_setting
from .models import ProfileSubmission
from .visitors import known_contact, mark_personalised

FREE, NOTIFY, TEASER, GATED = "free", "free_notify", "teaser", "gated"
ACCESS_CHOICES = [(FREE, _("Free")), (NOTIFY, _("Free, with a “notify me” form")),
                  (TEASER, _("Teaser, the rest after the form")),
                  (GATED, _("Gated: the form first"))]

UNLOCK_COOKIE_SALT = "wagtail_leadscore.unlocked"
# The unlock cookie names at most this many forms, the latest sent.
MAX_UNLOCKS = 50


def form_id_on(page, form_value):
    from .submit import find_form_block_id

    return find_form_block_id(page, form_value) if page is not None else None


def unlock_key(page_id, form_id):
    return f"{page_id}:{form_id}"


def unlocked_in_browser(request):
    """The forms this browser sent (``page id:form id``), from its signed unlock cookie."""
    value = request.get_signed_cookie(get_setting("UNLOCK_COOKIE_NAME"), default="",
                                      salt=UNLOCK_COOKIE_SALT)
    return value.split() if value else []


def remember_unlock(request, response, page, form_id):
    """Have the browser that sent the form ``form_id`` of ``page`` keep it unlocked. The
    cookie holds only what was unlocked, nothing about the person: it is set even where
    tracking is not allowed, as the unlock is a service the visitor asked for."""
    key = unlock_key(page.pk, form_id)
    keys = [*(known for known in unlocked_in_browser(request) if known != key), key]
    secure = get_setting("COOKIE_SECURE")
    response.set_signed_cookie(
        get_setting("UNLOCK_COOKIE_NAME"), " ".join(keys[-MAX_UNLOCKS:]),
        salt=UNLOCK_COOKIE_SALT, max_age=int(get_setting("COOKIE_AGE").total_seconds()),
        domain=get_setting("COOKIE_DOMAIN"), httponly=True,
        secure=request.is_secure() if secure is None else secure,
        samesite=get_setting("COOKIE_SAMESITE"))


def form_sent(request, page_id, form_id):
    """Whether this browser unlocked the form ``form_id`` of the page ``page_id``: it sent
    the form, or it is verified and its contact sent it. The answer depends on who asks:
    the response is marked private."""
    if request is None or form_id is None:
        return False
    mark_personalised(request)
    return (unlock_key(page_id, form_id) in unlocked_in_browser(request)
            or contact_sent(known_contact(request), form_id, page_id=page_id))


def contact_sent(contact, form_id, **where):
    """Whether ``contact`` (None: nobody) sent the form ``form_id`` (and ``where``, e.g.
    on a given page)."""
    return contact is not None and ProfileSubmission.objects.filter(
        contact=contact, block_id=form_id, **where).exists()


def is_unlocked(request, page, form_value):
    """Whether this browser unlocked the progressive form ``form_value`` of ``page`` (a
    form not on the page unlocks nothing)."""
    return page is not None and form_sent(request, page.pk, form_id_on(page, form_value))


def open_gate(request, page, *, access, content, form_value, teaser_blocks, teaser_text=""):
    """What to show of ``content`` (a list of blocks): a dict of ``unlocked``, ``shown``
    (the blocks), ``teaser_text``, ``show_form``, and for ``GatedDocumentBlock``
    ``gate_open`` (documents linked plainly) and ``gate_form_id`` (signed links)."""
    form_id = form_id_on(page, form_value) if access != FREE and form_value else None
    unlocked = access == FREE or (page is not None and form_sent(request, page.pk, form_id))
    if unlocked or access == NOTIFY:
        shown = content
    elif access == TEASER and not teaser_text:
        shown = content[:teaser_blocks]
    else:
        shown = []
    return {"unlocked": unlocked, "shown": shown,
            "teaser_text": teaser_text if access == TEASER and not unlocked else "",
            "show_form": access == NOTIFY or not unlocked,
            "gate_open": access in (FREE, NOTIFY),
            "gate_form_id": form_id if unlocked else None}
