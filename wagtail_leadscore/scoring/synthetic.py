"""A synthetic population for the demo and the tests of scoring insights: contacts who read
pages and fill forms at random, and among them buyers (SAL, SQL, customers) who show a few
planted behaviours much more often than the others. Insights should find those."""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ..lifecycle.stages import CONFIRMED_STAGES, Stage
from ..models import Contact, Event

EMAIL_DOMAIN = "synthetic.example.invalid"
FORMS = ("newsletter", "quote-request", "webinar", "brochure", "callback")
INDUSTRIES = ("construction", "architecture", "real estate", "retail", "education",
              "public sector", "energy", "finance")
SIZES = ("1-9", "10-49", "50-249", "250+")
PLANTED_RATE, BACKGROUND_RATE = 0.6, 0.06
PAGES_READ = (2, 8)  # pages each contact reads at random (inclusive range)


def generate_population(contacts=10_000, buyers=200, seed=1, planted=5):
    """Create ``contacts`` contacts (``buyers`` of them confirmed by sales) and their
    events; returns the insight keys of the ``planted`` buyer behaviours (pages, a form, an
    industry). Contacts have addresses at ``EMAIL_DOMAIN``: :func:`remove_population`."""
    from wagtail.models import Page

    from .pages import LeadScoringPageMixin

    rng = random.Random(seed)
    pages = [page.pk for page in Page.objects.live().specific()
             if isinstance(page, LeadScoringPageMixin)]
    planted_pages = rng.sample(pages, min(planted - 2, len(pages)))
    planted_form, planted_industry = "quote-request", "construction"
    keys = [*(f"page:{pk}" for pk in planted_pages), f"event:form_submit:{planted_form}",
            f"fact:industry={planted_industry}"]
    now = timezone.now()
    with transaction.atomic():
        people = Contact.objects.bulk_create([
            Contact(email=f"person{number}@{EMAIL_DOMAIN}",
                    stage=rng.choice(CONFIRMED_STAGES) if number < buyers else Stage.PROSPECT,
                    company_size=rng.choice(SIZES), industry=rng.choice(INDUSTRIES))
            for number in range(contacts)], batch_size=2000)
        events = []
        for number, person in enumerate(people):
            rate = PLANTED_RATE if number < buyers else BACKGROUND_RATE

            def when():
                return now - timedelta(days=rng.randint(0, 80), minutes=rng.randint(0, 1440))

            chosen = set(rng.sample(pages, rng.randint(*PAGES_READ)))
            chosen -= set(planted_pages)  # the planted pages: at their own rates only
            chosen |= {pk for pk in planted_pages if rng.random() < rate}
            events += [Event(type="page_view", contact=person, page_id=pk, occurred_at=when())
                       for pk in chosen]
            for form in FORMS:
                if form == planted_form and rng.random() < rate or (
                        form != planted_form and rng.random() < 0.15):
                    events.append(Event(type="form_submit", contact=person, name=form,
                                        occurred_at=when()))
            if rng.random() < rate:
                person.industry = planted_industry
            elif person.industry == planted_industry:
                person.industry = rng.choice(INDUSTRIES[1:])
        Contact.objects.bulk_update(people, ["industry"], batch_size=2000)
        Event.objects.bulk_create(events, batch_size=5000)
    return keys


def remove_population():
    """Delete the synthetic contacts (and with them their events)."""
    return Contact.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").delete()[0]
