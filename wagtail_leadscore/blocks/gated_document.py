"""``GatedDocumentBlock``: a document inside a ``GatedContentBlock``, linked through a
signed, expiring URL that records the download (``profiling.documents``)."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock


class GatedDocumentBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label=_("document"))
    link_text = blocks.CharBlock(max_length=120, required=False, label=_("link text"))

    class Meta:
        icon = "doc-full"
        label = _("Gated document")
        template = "wagtail_leadscore/blocks/gated_document.html"

    def get_context(self, value, parent_context=None):
        from ..profiling.documents import gated_document_url

        context = super().get_context(value, parent_context)
        form_id, page = context.get("gate_form_id"), context.get("page")
        document = value["document"]
        if document is None:
            url = None
        elif context.get("gate_open"):
            url = document.url
        elif form_id and page is not None:
            url = gated_document_url(document, page, form_id)
        else:  # locked, or outside a gate: no link
            url = None
        return {**context, "url": url}
