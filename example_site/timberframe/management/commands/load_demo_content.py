"""Load the Timber & Sun demo pages; safe to run again (pages are looked up by slug).

An existing page is never modified, so editors' changes survive a second run, and a
second run on loaded content creates and changes nothing.
"""

import json

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from wagtail.documents.models import Document
from wagtail.models import Page, Site

from timberframe import demo_content, models
from wagtail_leadscore.admin.groups import ensure_sales_group
from wagtail_leadscore.models import FitRule, LeadDefinition, ScoringRule, Segment, Topic


class Command(BaseCommand):
    help = "Create the demo pages (idempotent) and make the home page the default site's root."

    def handle(self, *args, **options):
        self.created = []
        with transaction.atomic():
            self.topics = self.ensure_scoring()
            home = self.ensure_home()
            self.ensure_default_site(home)
            sections = {
                slug: self.ensure_page(
                    home,
                    getattr(models, spec["model"]),
                    slug,
                    show_in_menus=True,
                    **{key: value for key, value in spec.items() if key != "model"},
                )
                for slug, spec in demo_content.SECTIONS.items()
            }
            offers = {
                slug: self.ensure_page(sections["offer"], models.OfferPage, slug, **fields)
                for slug, fields in demo_content.OFFERS.items()
            }
            for slug, fields in demo_content.CASE_STUDIES.items():
                self.ensure_page(sections["case-studies"], models.CaseStudyPage, slug, **fields)
            for slug, fields in demo_content.ARTICLES.items():
                self.ensure_page(sections["blog"], models.ArticlePage, slug, **fields)
            for slug, fields in demo_content.EVENTS.items():
                self.ensure_page(sections["events"], models.EventPage, slug, **fields)
            for slug, spec in demo_content.EBOOKS.items():
                self.ensure_ebook(sections["ebooks"], slug, spec)
            self.ensure_featured_offers(home, offers)
            self.ensure_segments(sections)
            ensure_sales_group()  # the permission preset: sales see contacts and leads
        if options["verbosity"]:
            self.print_summary()

    def ensure_scoring(self):
        """Topics, scoring and fit rules (by name) and the lead definition, if absent."""
        topics = {}
        for slug, name in demo_content.TOPICS.items():
            topics[slug], created = Topic.objects.get_or_create(slug=slug,
                                                                defaults={"name": name})
            self.created += [f"topic {name}"] if created else []
        for spec in demo_content.SCORING_RULES:
            spec = dict(spec)
            rule_topics = [topics[slug] for slug in spec.pop("topics", [])]
            if not ScoringRule.objects.filter(name=spec["name"]).exists():
                rule = ScoringRule(**spec)
                rule.full_clean()
                rule.save()
                rule.topics.set(rule_topics)
                self.created.append(f"scoring rule {rule.name}")
        for spec in demo_content.FIT_RULES:
            rule, created = FitRule.objects.get_or_create(name=spec["name"], defaults=spec)
            self.created += [f"fit rule {rule.name}"] if created else []
        if not LeadDefinition.objects.exists():
            LeadDefinition.objects.create(**demo_content.LEAD_DEFINITION)
            self.created.append("lead definition")
        return topics

    def ensure_segments(self, sections):
        """The demo segments (by slug), if absent; conditions as the admin stores them."""
        for spec in demo_content.SEGMENTS:
            if Segment.objects.filter(slug=spec["slug"]).exists():
                continue
            conditions = [
                {"type": kind, "value": {**value, **({"page": sections[value["page"]].pk}
                                                     if "page" in value else {})}}
                for kind, value in spec["conditions"]]
            segment = Segment(**{key: value for key, value in spec.items()
                                 if key != "conditions"}, conditions=json.dumps(conditions))
            segment.full_clean()
            segment.save()
            self.created.append(f"segment {segment.name}")

    def ensure_home(self):
        """The HomePage under the tree root, replacing Wagtail's "Welcome" placeholder."""
        root = Page.get_first_root_node()
        home = models.HomePage.objects.child_of(root).first()
        if home is not None:
            return home
        plain_page = ContentType.objects.get_for_model(Page)
        welcome = (
            root.get_children()
            .filter(slug=demo_content.HOME["slug"], content_type=plain_page)
            .first()
        )
        if welcome is not None:
            # Its Site goes with it (on_delete=CASCADE); ensure_default_site recreates one.
            welcome.delete()
        return self.ensure_page(root, models.HomePage, **demo_content.HOME)

    def ensure_default_site(self, home):
        site = Site.objects.filter(is_default_site=True).first() or Site(is_default_site=True)
        wanted = {
            "hostname": "localhost",
            "port": 80,
            "root_page_id": home.pk,
            "site_name": settings.WAGTAIL_SITE_NAME,
        }
        if site.pk is None or any(getattr(site, key) != value for key, value in wanted.items()):
            for key, value in wanted.items():
                setattr(site, key, value)
            site.save()
            self.created.append("default site localhost:80")

    def ensure_page(self, parent, model, slug, **fields):
        """Return the child of ``parent`` with ``slug``, creating and publishing it if absent."""
        existing = parent.get_children().filter(slug=slug).first()
        if existing is not None:
            existing = existing.specific
            if not isinstance(existing, model):
                found = type(existing).__name__
                raise CommandError(f"{existing.url_path} is a {found}, expected {model.__name__}.")
            return existing
        page = model(slug=slug, live=False,
                     **{**demo_content.PAGE_SCORING.get(model.__name__, {}), **fields})
        if "topic" in fields:
            page.leadscore_topics = [self.topics[fields["topic"]]]
        parent.add_child(instance=page)
        page.save_revision().publish()
        self.created.append(page)
        # Fresh from the database: publishing saved a copy, and children are added to this one.
        return model.objects.get(pk=page.pk)

    def ensure_ebook(self, parent, slug, spec):
        fields = {key: value for key, value in spec.items() if key not in ("fields", "document")}
        if not parent.get_children().filter(slug=slug).exists():
            fields["document"] = self.ensure_document(spec["document"])
            fields["form_fields"] = [models.EbookFormField(**field) for field in spec["fields"]]
        return self.ensure_page(parent, models.EbookPage, slug, **fields)

    def ensure_document(self, spec):
        document = Document.objects.filter(title=spec["title"]).first()
        if document is None:
            document = Document(title=spec["title"])
            # A fixed file name, reused when present: loading into a fresh database (tests,
            # a reset demo) does not pile up copies in MEDIA_ROOT.
            name = document.file.field.generate_filename(document, spec["filename"])
            if not document.file.storage.exists(name):
                document.file.storage.save(name, ContentFile(simple_pdf(spec["lines"])))
            document.file.name = name
            document._set_document_file_metadata()
            document.save()
            self.created.append(f"document {name}")
        return document

    def ensure_featured_offers(self, home, offers):
        if home.featured_offers.exists():
            return
        home.featured_offers = [
            models.HomeFeaturedOffer(offer=offers[slug]) for slug in demo_content.FEATURED_OFFERS
        ]
        home.save_revision().publish()
        self.created.append("featured offers on the home page")

    def print_summary(self):
        if not self.created:
            self.stdout.write("Demo content already loaded; nothing changed.")
            return
        self.stdout.write(self.style.SUCCESS(f"Demo content: created {len(self.created)} items."))
        for item in self.created:
            # Page URLs only resolve once the default site exists, so they are taken now.
            self.stdout.write(f"  {item.url if isinstance(item, Page) else item}")


def simple_pdf(lines):
    """A one-page PDF showing ``lines`` (ASCII): a real file to download, with no dependency."""
    escaped = [
        line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines
    ]
    text = "BT /F1 14 Tf 18 TL 72 780 Td " + " ".join(f"({line}) '" for line in escaped) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
    ]
    pdf = "%PDF-1.4\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += f"{number} 0 obj\n{obj}\nendobj\n"
    xref_at = len(pdf)
    pdf += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n"
    pdf += "".join(f"{offset:010d} 00000 n \n" for offset in offsets)
    pdf += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n"
    return pdf.encode("ascii")
