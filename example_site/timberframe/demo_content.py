"""The demo content: a B2B builder of timber-frame passive houses from Greater Poland.

Plain data, read by the ``load_demo_content`` command. Pages are keyed by slug, which is
what makes loading idempotent. Rich text is Wagtail's stored HTML; StreamField bodies are
built with :func:`body`.
"""

import datetime
from decimal import Decimal


def body(*parts):
    """StreamField data from text parts: "## Title" is a heading, anything else a paragraph."""
    return [
        {"type": "heading", "value": part[3:]}
        if part.startswith("## ")
        else {"type": "paragraph", "value": f"<p>{part}</p>"}
        for part in parts
    ]


HOME = {
    "slug": "home",
    "title": "Timber & Sun",
    "hero_title": "Passive houses built from timber, in weeks rather than years",
    "hero_text": (
        "We design, prefabricate and assemble certified passive houses for families and "
        "companies across Poland. Heating bills of a few hundred złoty a year, a healthy "
        "indoor climate and a fixed price agreed before we start."
    ),
    "body": body(
        "## Why timber frame",
        "A timber frame stores carbon instead of emitting it, goes up on site in days and "
        "leaves room for 30 cm of insulation without thick walls. Our walls are made in a "
        "dry hall near Poznań, so the weather never decides about quality.",
        "## From first sketch to keys",
        "Design, permits, prefabrication, assembly and the final blower-door test come from "
        "one company and one contract. Most of our clients move in within nine months of "
        "signing.",
    ),
}

# The slugs of the offers shown on the home page, in order.
FEATURED_OFFERS = ["passive-house-kasia-120", "smart-home-package", "prefab-timber-frame-shell"]

# Sections directly under the home page, shown in the main menu in this order.
SECTIONS = {
    "offer": {
        "model": "OfferIndexPage",
        "title": "Offer",
        "intro": "<p>Complete passive houses, prefabricated shells and the smart-home "
        "technology that makes them easy to live in.</p>",
    },
    "pricing": {
        "model": "PricingPage",
        "title": "Pricing",
        "intro": "<p>Transparent prices per square metre of usable floor area, net of VAT. "
        "The fixed price for your house is agreed in the contract, before we start.</p>",
        "tiers": [
            {
                "type": "tier",
                "value": {
                    "name": "Closed shell",
                    "price": "from PLN 2,900 per m²",
                    "description": "Prefabricated insulated walls, roof and passive-house "
                    "windows, assembled and airtight.",
                },
            },
            {
                "type": "tier",
                "value": {
                    "name": "Developer standard",
                    "price": "from PLN 4,400 per m²",
                    "description": "The shell plus heat-recovery ventilation, heat pump, "
                    "installations and screeds, ready for finishing.",
                },
            },
            {
                "type": "tier",
                "value": {
                    "name": "Turnkey passive house",
                    "price": "from PLN 6,200 per m²",
                    "description": "Everything ready to move in, with the passive-house "
                    "certificate and a 10-year warranty on the structure.",
                },
            },
        ],
        "body": body(
            "## What changes the price",
            "The shape of the building, the plot's access for a crane, and the finishing "
            "standard. A compact two-storey house costs less per square metre than a "
            "sprawling bungalow with the same floor area.",
        ),
    },
    "case-studies": {
        "model": "CaseStudyIndexPage",
        "title": "Case studies",
        "intro": "<p>Houses and offices we have built, and what their owners pay to run them.</p>",
    },
    "blog": {
        "model": "BlogIndexPage",
        "title": "Blog",
        "intro": "<p>Practical knowledge about passive houses, smart homes and financing.</p>",
    },
    "ebooks": {
        "model": "EbookIndexPage",
        "title": "E-books",
        "intro": "<p>Free guides written by our engineers. Tell us where to send them.</p>",
    },
    "events": {
        "model": "EventIndexPage",
        "title": "Events",
        "intro": "<p>Meet us in person at trade fairs and open-house days.</p>",
    },
    "careers": {
        "model": "CareersPage",
        "title": "Careers",
        "intro": "<p>We are a team of 48 carpenters, engineers and designers, and we are "
        "growing.</p>",
        "body": body(
            "## Timber frame carpenter (Poznań)",
            "Prefabricating wall and roof elements in our hall in Komorniki. Full-time "
            "employment contract, no travel, training in passive-house details.",
            "## Passive house designer (hybrid)",
            "Architectural and energy design of single-family and small commercial buildings "
            "in PHPP. Three years of experience with timber structures welcome.",
            "## B2B sales engineer",
            "Advising developers and companies on prefabricated timber buildings, from the "
            "first call to the contract. Driving licence category B required.",
            "Send your CV to jobs@timberandsun.example.",
        ),
    },
}

OFFERS = {
    "passive-house-kasia-120": {
        "title": "Passive house Kasia 120 m²",
        "topic": "passive-houses",
        "price_from": Decimal("890000"),
        "area_m2": Decimal("120"),
        "intro": "<p>Our best-selling two-storey family house: four bedrooms, an open "
        "kitchen and a heating demand below 15 kWh/m² a year.</p>",
        "body": body(
            "## What is included",
            "Design adapted to your plot, building permit, prefabricated timber frame, "
            "triple-glazed windows, heat-recovery ventilation, an air-to-water heat pump and "
            "a blower-door test with the certificate.",
            "## Running costs",
            "Owners of the Kasia pay on average PLN 1,400 a year for heating and hot water.",
        ),
    },
    "smart-home-package": {
        "title": "Smart-home package",
        "topic": "smart-home",
        "price_from": Decimal("38000"),
        "area_m2": None,
        "intro": "<p>Ventilation, heating, blinds and lighting controlled from one app, "
        "designed together with the house instead of added afterwards.</p>",
        "body": body(
            "## Built for passive houses",
            "Automatic external blinds keep a passive house cool in summer; CO₂ sensors "
            "drive the ventilation; the heat pump runs when electricity is cheapest.",
        ),
    },
    "prefab-timber-frame-shell": {
        "title": "Prefab timber frame shell",
        "topic": "timber-construction",
        "price_from": Decimal("290000"),
        "area_m2": Decimal("100"),
        "intro": "<p>For developers and self-builders: an airtight, insulated shell "
        "assembled on your foundation in five working days.</p>",
        "body": body(
            "## For developers",
            "Repeatable house types, a fixed schedule and one invoice per building. We "
            "deliver series of 5 to 40 houses a year to developers in western Poland.",
        ),
    },
}

CASE_STUDIES = {
    "family-passive-house-puszczykowo": {
        "title": "A family passive house in Puszczykowo",
        "client": "The Nowak family",
        "location": "Puszczykowo, Greater Poland",
        "intro": "<p>A Kasia 120 adapted to a narrow forest plot, built in 2025.</p>",
        "body": body(
            "## The challenge",
            "A 16-metre-wide plot among protected pines, with room for a crane on one side "
            "only.",
            "## The result",
            "The shell stood in four days. The first winter's heating cost was PLN 1,180.",
        ),
    },
    "office-pavilion-wroclaw": {
        "title": "An office pavilion for a software house",
        "client": "Brightloop Software",
        "location": "Wrocław",
        "intro": "<p>A 600 m² two-storey timber office with smart controls and no gas "
        "connection.</p>",
        "body": body(
            "## The brief",
            "Forty desks, meeting rooms that do not overheat, and a building the company can "
            "show in its sustainability report.",
            "## The result",
            "Operational energy 70% below the previous rented office, with a CO₂-controlled "
            "ventilation system the team can check in the smart-home app.",
        ),
    },
}

# A progressive form: each submission asks the next two facts the visitor has not given.
FINANCING_CHECKLIST_FORM = {"type": "progressive_form", "value": {
    "heading": "Get our green-mortgage checklist",
    "questions": [
        {"type": "question", "value": {"question": question, "required": True}}
        for question in ("first_name", "company", "company_size", "purchase_timeframe",
                         "phone")
    ],
    "questions_per_submission": 2,
    "known_answers": "skip",
    "consent_text": "",
    "button_text": "Send me the checklist",
    "success_message": "Thank you! The checklist is on its way to your inbox.",
    "redirect_to": None,
}}

ARTICLES = {
    "what-makes-a-house-passive": {
        "title": "What makes a house passive? Five principles",
        "topic": "passive-houses",
        "date": datetime.date(2026, 1, 12),
        "intro": "<p>Insulation, airtightness, windows, no thermal bridges and heat "
        "recovery: how they work together.</p>",
        "body": body(
            "## One system, not five products",
            "A passive house is not a list of components but a balance: every principle "
            "only pays off when the other four are in place.",
        ),
    },
    "heating-bills-in-a-passive-house": {
        "title": "Heating bills in a passive house: a year of real data",
        "topic": "passive-houses",
        "date": datetime.date(2026, 3, 2),
        "intro": "<p>We measured twelve houses we built. Here is what their owners paid.</p>",
        "body": body(
            "## The numbers",
            "The median was PLN 1,350 a year for heating and hot water for 120 m², about a "
            "quarter of a new house built to the minimum standard.",
        ),
    },
    "smart-home-what-to-automate": {
        "title": "Smart home in a passive house: what is worth automating",
        "topic": "smart-home",
        "date": datetime.date(2026, 2, 5),
        "intro": "<p>Blinds and ventilation, yes; a talking fridge, probably not.</p>",
        "body": body(
            "## Start with comfort",
            "The automations that pay off control sun, air and heat. Everything else is "
            "a matter of taste.",
        ),
    },
    "smart-home-energy-management": {
        "title": "Running a heat pump on cheap electricity",
        "topic": "smart-home",
        "date": datetime.date(2026, 4, 14),
        "intro": "<p>Dynamic tariffs and a well-insulated house make a good pair.</p>",
        "body": body(
            "## Heat is storage",
            "A passive house loses less than half a degree overnight, so the heat pump can "
            "run when electricity is cheapest without anyone noticing.",
        ),
    },
    "financing-a-passive-house-2026": {
        "title": "Financing a passive house: green mortgages and subsidies in 2026",
        "topic": "financing",
        "date": datetime.date(2026, 2, 20),
        "intro": "<p>Lower margins for energy-efficient houses and the programmes that "
        "co-fund heat pumps and ventilation.</p>",
        "body": [*body(
            "## Green mortgages",
            "Several Polish banks lower the margin for houses with a primary energy demand "
            "below 55 kWh/m² a year. A passive house qualifies with room to spare.",
        ), FINANCING_CHECKLIST_FORM],
    },
    "total-cost-of-ownership": {
        "title": "Passive or standard? Thirty years of total cost",
        "topic": "financing",
        "date": datetime.date(2026, 5, 7),
        "intro": "<p>A higher price at the start, a lower cost over the life of the "
        "mortgage.</p>",
        "body": body(
            "## The calculation",
            "We compared the Kasia 120 with a house built to the legal minimum: the extra "
            "cost is repaid by lower bills in eleven to fourteen years.",
            "## Year by year",
            "Heating, hot water and ventilation for both houses, with energy prices rising "
            "4% a year, and the mortgage instalments side by side.",
        ),
        # Teased: the first two blocks for everyone, the rest after the form (GatedPageMixin).
        "leadscore_access": "teaser",
        "leadscore_teaser_blocks": 2,
        "leadscore_gate_form": [{"type": "form", "value": {
            **FINANCING_CHECKLIST_FORM["value"],
            "heading": "Read the year-by-year comparison",
            "button_text": "Show me the figures",
            "success_message": "",
        }}],
    },
}

EBOOKS = {
    "passive-house-guide": {
        "title": "Passive house guide",
        "topic": "passive-houses",
        "intro": "<p>42 pages on planning a passive house: plot, design, budget and the "
        "mistakes we see most often.</p>",
        "thank_you_text": "<p>Thank you! Your guide is ready to download below.</p>",
        "fields": [
            {"label": "Email", "field_type": "email", "required": True},
            {"label": "First name", "field_type": "singleline", "required": False},
        ],
        "document": {
            "title": "Passive house guide (PDF)",
            "filename": "passive-house-guide.pdf",
            "lines": [
                "Timber & Sun: Passive house guide",
                "1. Choose a plot with a south-facing garden.",
                "2. Keep the shape compact.",
                "3. Plan airtightness before the first sketch.",
            ],
        },
    },
    "smart-home-costs-ebook": {
        "title": "Smart home costs e-book",
        "topic": "smart-home",
        "intro": "<p>What a smart home really costs, in a house and in an office: "
        "components, installation and running costs.</p>",
        "thank_you_text": "<p>Thank you! Your e-book is ready to download below.</p>",
        "fields": [
            {"label": "Email", "field_type": "email", "required": True},
            {"label": "Company", "field_type": "singleline", "required": True},
            {
                "label": "Company size",
                "field_type": "dropdown",
                "required": True,
                "choices": "1-9\n10-49\n50-249\n250+",
            },
        ],
        "document": {
            "title": "Smart home costs (PDF)",
            "filename": "smart-home-costs.pdf",
            "lines": [
                "Timber & Sun: Smart home costs",
                "Basic package (blinds, ventilation, heating): from PLN 38,000.",
                "Office package per 100 m2: from PLN 21,000.",
            ],
        },
    },
}

EVENTS = {
    "budma-2027-poznan": {
        "title": "Budma 2027 Poznań",
        "start_date": datetime.date(2027, 2, 2),
        "end_date": datetime.date(2027, 2, 5),
        "location": "Poznań International Fair, pavilion 5, stand 12",
        "intro": "<p>Walk through a full-size wall section of the Kasia 120 and talk to "
        "our engineers.</p>",
        "body": body(
            "## Visit our stand",
            "Leave your business card at the stand and we will send you the passive house "
            "guide the same day.",
        ),
    },
}

# Lead scoring (DESIGN.md's story): interest topics are the blog's topics; page tagging per
# page type; a few rules for what is not a page view; fit rules; the lead definition.
TOPICS = {
    "passive-houses": "Passive houses",
    "smart-home": "Smart home",
    "financing": "Financing",
    "timber-construction": "Timber construction",
}

PAGE_SCORING = {
    "HomePage": {"leadscore_points": 1},
    "OfferPage": {"leadscore_points": 10, "leadscore_bonus_visit": 5,
                  "leadscore_bonus_points": 50},
    "PricingPage": {"leadscore_points": 20, "leadscore_bonus_visit": 3,
                    "leadscore_bonus_points": 30},
    "CaseStudyPage": {"leadscore_points": 5},
    "ArticlePage": {"leadscore_points": 3, "leadscore_cap": "daily"},
    "EbookPage": {"leadscore_points": 5},
    "EventPage": {"leadscore_points": 5},
    "CareersPage": {"leadscore_points": -200, "leadscore_cap": "once"},
}

SCORING_RULES = [
    {"name": "Downloaded an e-book", "trigger": "form_submitted", "points": 30},
    {"name": "Left a business card at a trade fair", "trigger": "offline_event",
     "value": "trade fair business card", "points": 50},
    {"name": "Used the financing calculator", "trigger": "custom_event",
     "value": "calculator_used", "points": 15, "topics": ["financing"],
     "cap": "per_period", "cap_count": 1, "cap_period_days": 7},
    {"name": "Read about smart-home packages", "trigger": "url_words",
     "value": "smart home", "points": 5, "topics": ["smart-home"]},
]

FIT_RULES = [
    {"name": "Builds or develops", "fact": "industry", "operator": "contains",
     "value": "construction", "points": 20},
    {"name": "Company of 50 or more", "fact": "company_size", "operator": "one_of",
     "value": "50-249, 250+", "points": 20},
    {"name": "Decides", "fact": "job_title", "operator": "contains", "value": "director",
     "points": 20},
    {"name": "Budget of PLN 500,000 or more", "fact": "budget", "operator": "at_least",
     "value": "500000", "points": 30},
    {"name": "In Poland", "fact": "country", "operator": "equals", "value": "Poland",
     "points": 10},
]

# Segments by what people read: the three URL kinds of seed 000 (exact URL, URL containing
# all the words, URL containing a string), a subtree, and two behaviours combined. All are
# conditions a new event can only fulfil: a member's page view re-tests none of them.
# "page": the slug of a section whose subtree the condition names.
SEGMENTS = [
    {"name": "Passive-house readers", "slug": "passive-house-readers",
     "description": "Read a page whose URL contains “passive”.",
     "conditions": [("visited_url", {"match": "url_contains", "url": "passive"})]},
    {"name": "Smart-home planners", "slug": "smart-home-planners",
     "description": "Read about smart homes at least twice.",
     "conditions": [("visited_url", {"match": "url_words", "url": "smart home",
                                     "at_least": 2})]},
    {"name": "Price checkers", "slug": "price-checkers",
     "description": "Opened the price list within the last 30 days.",
     "conditions": [("visited_url", {"match": "url_exact", "url": "/pricing/",
                                     "within_days": 30})]},
    {"name": "Job seekers", "slug": "job-seekers",
     "description": "Looked at the careers pages: not buyers.",
     "conditions": [("visited_url", {"match": "page_subtree", "page": "careers"})]},
    {"name": "Ready to talk", "slug": "ready-to-talk", "include_visitors": False,
     "description": "Downloaded an e-book and opened the price list, both within 30 days.",
     "conditions": [("event", {"event_type": "form_submit", "within_days": 30}),
                    ("visited_url", {"match": "url_exact", "url": "/pricing/",
                                     "within_days": 30})]},
]

# Seed 000: 1000 points within 3 months (the default 90-day window) make a lead.
LEAD_DEFINITION = {"min_score": 1000, "required_facts": "company", "min_fit_grade": ""}
