"""Gates: how much of some content a visitor sees before and after sending a progressive
form. One rule for ``GatedContentBlock`` and ``GatedPageMixin``; an unlock belongs to the
contact who sent the form, on whichever of their browsers."""

from django.utils.translation import gettext_lazy as _

from .models import ProfileSubmission
from .visitors import known_contact, mark_personalised

FREE, NOTIFY, TEASER, GATED = "free", "free_notify", "teaser", "gated"
ACCESS_CHOICES = [(FREE, _("Free")), (NOTIFY, _("Free, with a “notify me” form")),
                  (TEASER, _("Teaser, the rest after the form")),
                  (GATED, _("Gated: the form first"))]


def form_id_on(page, form_value):
    from .submit import find_form_block_id

    return find_form_block_id(page, form_value) if page is not None else None


def form_sent(request, form_id):
    """Whether the contact of this browser sent the form ``form_id``. The answer depends on
    who asks: the response is marked private."""
    if request is None or form_id is None:
        return False
    mark_personalised(request)
    return contact_sent(known_contact(request), form_id)


def contact_sent(contact, form_id, **where):
    """Whether ``contact`` (None: nobody) sent the form ``form_id`` (and ``where``, e.g.
    on a given page): the unlock."""
    return contact is not None and ProfileSubmission.objects.filter(
        contact=contact, block_id=form_id, **where).exists()


def is_unlocked(request, page, form_value):
    """Whether this browser's contact sent the progressive form ``form_value`` of ``page``
    (a form not on the page unlocks nothing)."""
    return form_sent(request, form_id_on(page, form_value))


def open_gate(request, page, *, access, content, form_value, teaser_blocks, teaser_text=""):
    """What to show of ``content`` (a list of blocks): a dict of ``unlocked``, ``shown``
    (the blocks), ``teaser_text``, ``show_form``, and for ``GatedDocumentBlock``
    ``gate_open`` (documents linked plainly) and ``gate_form_id`` (signed links)."""
    form_id = form_id_on(page, form_value) if access != FREE and form_value else None
    unlocked = access == FREE or form_sent(request, form_id)
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
