"""``GatedContentBlock``: content an editor makes free, free with a "notify me" form,
teased (the first blocks, or a teaser text, before the form) or gated (the form first).
An unlock belongs to the contact: any browser of a contact who sent the gate's form sees
the content."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from ..profiling.models import ProfileSubmission
from ..profiling.visitors import known_contact, mark_personalised
from .progressive_form import ProgressiveFormBlock

FREE, NOTIFY, TEASER, GATED = "free", "free_notify", "teaser", "gated"


def is_unlocked(request, page, form_value):
    """Whether the contact of this browser sent the progressive form ``form_value`` of
    ``page`` (a form not on the page unlocks nothing). The answer depends on who asks:
    the response is marked private."""
    return form_sent(request, form_id_on(page, form_value))


def form_id_on(page, form_value):
    from ..profiling.submit import find_form_block_id

    return find_form_block_id(page, form_value) if page is not None else None


def form_sent(request, form_id):
    """Whether the contact of this browser sent the form ``form_id`` (see is_unlocked)."""
    if request is None or form_id is None:
        return False
    mark_personalised(request)
    contact = known_contact(request)
    return contact is not None and ProfileSubmission.objects.filter(
        contact=contact, block_id=form_id).exists()


class GatedContentBlock(blocks.StructBlock):
    """``GatedContentBlock(content_blocks)``: ``content_blocks`` are the child blocks the
    gated content may hold, as for a StreamBlock (e.g. a site's paragraph and image)."""

    def __init__(self, content_blocks=None, **kwargs):
        content_blocks = content_blocks or [("paragraph", blocks.RichTextBlock())]
        super().__init__([
            ("access", blocks.ChoiceBlock(choices=[
                (FREE, _("Free")), (NOTIFY, _("Free, with a “notify me” form")),
                (TEASER, _("Teaser, the rest after the form")),
                (GATED, _("Gated: the form first"))], default=TEASER, label=_("access"))),
            ("teaser_blocks", blocks.IntegerBlock(
                default=1, min_value=0, max_value=20, label=_("blocks shown as the teaser"))),
            ("teaser_text", blocks.TextBlock(required=False, label=_("teaser text"),
                                             help_text=_("Shown instead of the first blocks."))),
            ("content", blocks.StreamBlock(content_blocks, label=_("content"))),
            ("form", ProgressiveFormBlock(label=_("form"))),
        ], **kwargs)

    class Meta:
        icon = "lock"
        label = _("Gated content")
        template = "wagtail_leadscore/blocks/gated_content.html"

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        access = value["access"]
        form_id = form_id_on(context.get("page"), value["form"]) if access != FREE else None
        unlocked = access == FREE or form_sent(context.get("request"), form_id)
        content = list(value["content"])
        shown = content if unlocked or access == NOTIFY else (
            content[:value["teaser_blocks"]] if access == TEASER and not value["teaser_text"]
            else [])
        return {**context, "unlocked": unlocked, "shown": shown,
                # For GatedDocumentBlock: open content links documents plainly; unlocked
                # gated content through signed links that check the unlock.
                "gate_open": access in (FREE, NOTIFY),
                "gate_form_id": form_id if unlocked else None,
                "teaser_text": value["teaser_text"] if access == TEASER and not unlocked
                else "",
                "show_form": access == NOTIFY or not unlocked}
