"""``GatedContentBlock``: content an editor makes free, free with a "notify me" form,
teased (the first blocks, or a teaser text, before the form) or gated (the form first).
An unlock belongs to the contact: any browser of a contact who sent the gate's form sees
the content."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from ..profiling.gates import ACCESS_CHOICES, TEASER, open_gate
from .progressive_form import ProgressiveFormBlock


class GatedContentBlock(blocks.StructBlock):
    """``GatedContentBlock(content_blocks)``: ``content_blocks`` are the child blocks the
    gated content may hold, as for a StreamBlock (e.g. a site's paragraph and image)."""

    def __init__(self, content_blocks=None, **kwargs):
        content_blocks = content_blocks or [("paragraph", blocks.RichTextBlock())]
        super().__init__([
            ("access", blocks.ChoiceBlock(choices=ACCESS_CHOICES, default=TEASER,
                                          label=_("access"))),
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
        return {**context, **open_gate(
            context.get("request"), context.get("page"), access=value["access"],
            content=list(value["content"]), form_value=value["form"],
            teaser_blocks=value["teaser_blocks"], teaser_text=value["teaser_text"])}
