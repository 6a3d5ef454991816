"""``SegmentContentBlock``: content shown to the members of a segment, and other content
(or nothing) to everyone else. Membership is stored, so this costs one query per
request whatever the number of such blocks; the response is marked private."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.snippets.blocks import SnippetChooserBlock

from ..profiling.visitors import mark_personalised
from ..segments.membership import member_segments


class SegmentContentBlock(blocks.StructBlock):
    """``SegmentContentBlock(content_blocks)``: ``content_blocks`` as for a StreamBlock."""

    def __init__(self, content_blocks=None, **kwargs):
        content_blocks = content_blocks or [("paragraph", blocks.RichTextBlock())]
        super().__init__([
            ("segment", SnippetChooserBlock("wagtail_leadscore.Segment", label=_("segment"))),
            ("content", blocks.StreamBlock(content_blocks, label=_("for its members"))),
            ("otherwise", blocks.StreamBlock(content_blocks, required=False,
                                             label=_("for everyone else"))),
        ], **kwargs)

    class Meta:
        icon = "group"
        label = _("Content per segment")
        template = "wagtail_leadscore/blocks/segment_content.html"

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        request, segment = context.get("request"), value["segment"]
        is_member = False
        if request is not None and segment is not None:
            mark_personalised(request)
            is_member = segment.slug in member_segments(request)
        context["shown"] = value["content"] if is_member else value["otherwise"]
        return context
