"""The blocks of an email's body: what renders well in every mail client (text, headings,
buttons), nothing that needs scripts or a web font."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks

RICH_TEXT_FEATURES = ["bold", "italic", "link", "ol", "ul"]


class ButtonBlock(blocks.StructBlock):
    text = blocks.CharBlock(max_length=80, label=_("text"))
    url = blocks.CharBlock(max_length=500, label=_("link"),
                           help_text=_("A full URL, or a path on this site such as /offer/."))

    class Meta:
        icon = "link"
        label = _("Button")
        template = "wagtail_leadscore/mail/blocks/button.html"


class LeadSummaryBlock(blocks.StaticBlock):
    """Where a sales alert shows the lead's dossier with the accept and send-back links
    (filled per message: ``sales.dossier``)."""

    class Meta:
        icon = "user"
        label = _("Lead summary (sales alerts)")
        admin_text = _("The lead's facts, score, pages, forms and emails, and the links to "
                       "accept it or send it back.")
        template = "wagtail_leadscore/mail/blocks/lead_summary.html"


class EmailBodyBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(max_length=200, label=_("heading"),
                               template="wagtail_leadscore/mail/blocks/heading.html")
    paragraph = blocks.RichTextBlock(features=RICH_TEXT_FEATURES, label=_("paragraph"))
    button = ButtonBlock()
    lead_summary = LeadSummaryBlock()
