"""Page types of the Timber & Sun demo site.

The tree mirrors the sales story of DESIGN.md: offers and pricing attract buyers, blog
articles carry a topic (points per topic), e-book landing pages turn an anonymous visitor
into a contact, and the careers page is where job seekers, not buyers, end up.
"""


from django.db import models
from modelcluster.fields import ParentalKey
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.forms.models import AbstractEmailForm, AbstractFormField
from wagtail.contrib.forms.panels import FormSubmissionsPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageBlock
from wagtail.models import Orderable, Page

from wagtail_leadscore.blocks import (
    GatedContentBlock,
    GatedDocumentBlock,
    ProgressiveFormBlock,
    SegmentContentBlock,
)
from wagtail_leadscore.profiling.pages import (
    GatedPageMixin,
    ProgressiveFormPageMixin,
    gated_page_panels,
    progressive_form_panels,
)
from wagtail_leadscore.scoring.pages import LeadScoringPageMixin, lead_scoring_edit_handler

TOPIC_CHOICES = [
    ("passive-houses", "Passive houses"),
    ("smart-home", "Smart home"),
    ("financing", "Financing"),
    ("timber-construction", "Timber construction"),
]

class BodyBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(form_classname="title", max_length=120)
    paragraph = blocks.RichTextBlock()
    image = ImageBlock()
    progressive_form = ProgressiveFormBlock()
    gated = GatedContentBlock([("paragraph", blocks.RichTextBlock()), ("image", ImageBlock()),
                               ("document", GatedDocumentBlock())])
    for_segment = SegmentContentBlock([("paragraph", blocks.RichTextBlock()),
                                       ("image", ImageBlock())])


class PriceTierBlock(blocks.StructBlock):
    name = blocks.CharBlock(max_length=80)
    price = blocks.CharBlock(max_length=80, help_text="e.g. “from PLN 4,900 per m²”")
    description = blocks.TextBlock()

    class Meta:
        icon = "tag"
        template = "timberframe/blocks/price_tier.html"


class IndexPage(LeadScoringPageMixin, Page):
    """A section page listing its live, public children, newest first."""

    intro = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    edit_handler = lead_scoring_edit_handler(content_panels)

    def get_listing(self):
        return self.get_children().live().public().specific().order_by("-first_published_at")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["children"] = self.get_listing()
        return context

    class Meta:
        abstract = True


class HomePage(LeadScoringPageMixin, Page):
    hero_title = models.CharField(max_length=160)
    hero_text = models.TextField(blank=True)
    body = StreamField(BodyBlock(), blank=True)

    content_panels = Page.content_panels + [
        MultiFieldPanel([FieldPanel("hero_title"), FieldPanel("hero_text")], heading="Hero"),
        InlinePanel("featured_offers", label="Featured offer", max_num=3),
        FieldPanel("body"),
    ]
    edit_handler = lead_scoring_edit_handler(content_panels)

    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["latest_articles"] = (
            ArticlePage.objects.live().public().descendant_of(self).order_by("-date")[:3]
        )
        return context


class HomeFeaturedOffer(Orderable):
    page = ParentalKey(HomePage, on_delete=models.CASCADE, related_name="featured_offers")
    offer = models.ForeignKey("timberframe.OfferPage", on_delete=models.CASCADE, related_name="+")

    panels = [FieldPanel("offer")]


class OfferIndexPage(IndexPage):
    parent_page_types = ["timberframe.HomePage"]
    subpage_types = ["timberframe.OfferPage"]


class OfferPage(LeadScoringPageMixin, Page):
    intro = RichTextField(blank=True)
    price_from = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="PLN, net"
    )
    area_m2 = models.DecimalField(
        "area (m²)", max_digits=7, decimal_places=1, null=True, blank=True
    )
    topic = models.CharField(max_length=32, choices=TOPIC_CHOICES)
    body = StreamField(BodyBlock(), blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        FieldRowPanel([FieldPanel("price_from"), FieldPanel("area_m2"), FieldPanel("topic")]),
        FieldPanel("body"),
    ]
    edit_handler = lead_scoring_edit_handler(content_panels)

    parent_page_types = ["timberframe.OfferIndexPage"]
    subpage_types = []


class PricingPage(LeadScoringPageMixin, Page):
    intro = RichTextField(blank=True)
    tiers = StreamField([("tier", PriceTierBlock())], blank=True)
    body = StreamField(BodyBlock(), blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        FieldPanel("tiers"),
        FieldPanel("body"),
    ]
    edit_handler = lead_scoring_edit_handler(content_panels)

    parent_page_types = ["timberframe.HomePage"]
    subpage_types = []


class CaseStudyIndexPage(IndexPage):
    parent_page_types = ["timberframe.HomePage"]
    subpage_types = ["timberframe.CaseStudyPage"]


class CaseStudyPage(LeadScoringPageMixin, Page):
    client = models.CharField(max_length=160)
    location = models.CharField(max_length=160)
    intro = RichTextField(blank=True)
    body = StreamField(BodyBlock(), blank=True)

    content_panels = Page.content_panels + [
        FieldRowPanel([FieldPanel("client"), FieldPanel("location")]),
        FieldPanel("intro"),
        FieldPanel("body"),
    ]
    edit_handler = lead_scoring_edit_handler(content_panels)

    parent_page_types = ["timberframe.CaseStudyIndexPage"]
    subpage_types = []


class BlogIndexPage(IndexPage):
    parent_page_types = ["timberframe.HomePage"]
    subpage_types = ["timberframe.ArticlePage"]

    def get_listing(self):
        return ArticlePage.objects.child_of(self).live().public().order_by("-date")


class ArticlePage(LeadScoringPageMixin, GatedPageMixin, Page):
    date = models.DateField("post date")
    topic = models.CharField(max_length=32, choices=TOPIC_CHOICES)
    intro = RichTextField(blank=True)
    body = StreamField(BodyBlock(), blank=True)

    content_panels = Page.content_panels + [
        FieldRowPanel([FieldPanel("date"), FieldPanel("topic")]),
        FieldPanel("intro"),
        FieldPanel("body"),
        *gated_page_panels,
    ]
    edit_handler = lead_scoring_edit_handler(content_panels)

    parent_page_types = ["timberframe.BlogIndexPage"]
    subpage_types = []


class EbookIndexPage(IndexPage):
    parent_page_types = ["timberframe.HomePage"]
    subpage_types = ["timberframe.EbookPage"]


class EbookFormField(AbstractFormField):
    page = ParentalKey("EbookPage", on_delete=models.CASCADE, related_name="form_fields")


class EbookPage(LeadScoringPageMixin, ProgressiveFormPageMixin, AbstractEmailForm):
    """An e-book landing page: the visitor trades an email (and a few facts) for a PDF.

    A valid submission is stored as a normal Wagtail form submission and, through
    ProgressiveFormPageMixin, identifies the visitor as a contact (the anonymous history
    of this browser becomes that contact's); fields a contact already answered are not
    asked again.
    """

    topic = models.CharField(max_length=32, choices=TOPIC_CHOICES)
    intro = RichTextField(blank=True)
    thank_you_text = RichTextField(blank=True)
    document = models.ForeignKey(
        "wagtaildocs.Document",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Offered for download on the thank-you page only.",
    )

    content_panels = AbstractEmailForm.content_panels + [
        FormSubmissionsPanel(),
        FieldPanel("topic"),
        FieldPanel("intro"),
        InlinePanel("form_fields", label="Form fields"),
        *progressive_form_panels,
        FieldPanel("thank_you_text"),
        FieldPanel("document"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("from_address"), FieldPanel("to_address")]),
                FieldPanel("subject"),
            ],
            heading="Notification email",
        ),
    ]
    edit_handler = lead_scoring_edit_handler(content_panels)

    parent_page_types = ["timberframe.EbookIndexPage"]
    subpage_types = []


class EventPage(LeadScoringPageMixin, Page):
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    location = models.CharField(max_length=200)
    intro = RichTextField(blank=True)
    body = StreamField(BodyBlock(), blank=True)

    content_panels = Page.content_panels + [
        FieldRowPanel([FieldPanel("start_date"), FieldPanel("end_date")]),
        FieldPanel("location"),
        FieldPanel("intro"),
        FieldPanel("body"),
    ]
    edit_handler = lead_scoring_edit_handler(content_panels)

    parent_page_types = ["timberframe.EventIndexPage"]
    subpage_types = []


class EventIndexPage(IndexPage):
    parent_page_types = ["timberframe.HomePage"]
    subpage_types = ["timberframe.EventPage"]

    def get_listing(self):
        return EventPage.objects.child_of(self).live().public().order_by("start_date")


class CareersPage(LeadScoringPageMixin, Page):
    """Job listings: the design's example of a negative signal (a job seeker, not a buyer)."""

    intro = RichTextField(blank=True)
    body = StreamField(BodyBlock(), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    edit_handler = lead_scoring_edit_handler(content_panels)

    parent_page_types = ["timberframe.HomePage"]
    subpage_types = []
