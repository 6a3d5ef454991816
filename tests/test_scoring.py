"""Scoring through HTTP: the seed 000 story, topics, caps, rules, anonymous carry-over, time."""

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from timberframe.models import ArticlePage, CareersPage, EbookPage, OfferPage
from wagtail_leadscore import record_event, scores_for
from wagtail_leadscore.lifecycle.stages import Stage
from wagtail_leadscore.models import (
    Contact,
    Event,
    LeadDefinition,
    Score,
    ScoreCounter,
    ScoreEntry,
    ScoringRule,
    Topic,
    Visitor,
)
from wagtail_leadscore.scoring.rebuild import rebuild_scores
from wagtail_leadscore.tasks import age_scores

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def view(client, page, times=1):
    for _ in range(times):
        assert client.get(page.url).status_code == 200


def download_ebook(client, email="horacy@example.com", company="Horacy Builders"):
    """Identify through the e-book form, as a visitor does."""
    ebook = EbookPage.objects.get(slug="smart-home-costs-ebook")
    view(client, ebook)
    response = client.post(ebook.url, {"email": email, "company": company,
                                       "company_size": "50-249"})
    assert response.status_code == 200
    return Contact.objects.get(email=email)


def global_score(contact):
    return scores_for(contact)["global"]


@pytest.fixture
def offer():
    return OfferPage.objects.get(slug="passive-house-kasia-120")


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


def test_seed_story_offer_points_bonus_careers_and_lead(browser_client, offer, frozen):
    """Seed 000: +10 per offer view, +50 on the 5th, careers -200, 1000 in 3 months: a lead."""
    view(browser_client, offer, 4)
    visitor = Visitor.objects.get()
    assert Score.objects.get(visitor=visitor, dimension="global").value == 40

    contact = download_ebook(browser_client)  # anonymous points carry over
    # The e-book page view (+5), the demo's "smart home" URL rule (+5) and its "Downloaded
    # an e-book" rule (+30).
    ebook_points = 5 + 5 + 30
    assert global_score(contact) == 40 + ebook_points
    assert not Score.objects.filter(visitor=visitor).exists()

    view(browser_client, offer)  # the 5th view: +10 and the +50 bonus
    assert global_score(contact) == 40 + ebook_points + 60
    bonus = ScoreEntry.objects.get(contact=contact, dimension="global", points=50)
    assert "bonus" in bonus.label and bonus.page_id == offer.pk

    careers = CareersPage.objects.get()
    view(browser_client, careers, 2)  # a job seeker's signal, taken once
    assert global_score(contact) == 40 + ebook_points + 60 - 200
    assert contact.stage == Stage.PROSPECT

    # Daily offer views over the next weeks: the 1000 mark makes the contact a lead.
    day = 0
    while global_score(contact) < 1000:
        day += 1
        frozen.move_to(START + datetime.timedelta(days=day // 10), tick=False)
        view(browser_client, offer)
    contact.refresh_from_db()
    assert contact.stage == Stage.LEAD
    qualified = Event.objects.get(contact=contact, type="lead_qualified")
    assert qualified.properties["score"] >= 1000
    change = Event.objects.get(contact=contact, type="stage_change")
    assert change.properties["from"] == "prospect" and change.properties["to"] == "lead"
    assert change.properties["via"] == "lead_definition"
    view(browser_client, offer)
    assert Event.objects.filter(contact=contact, type="lead_qualified").count() == 1


def test_points_older_than_the_window_stop_counting(browser_client, offer, frozen):
    view(browser_client, offer, 4)  # 40 points on day 0
    frozen.move_to(START + datetime.timedelta(days=60), tick=False)
    view(browser_client, offer, 1)  # the 5th view: 60 points on day 60
    visitor = Visitor.objects.get()
    assert Score.objects.get(visitor=visitor, dimension="global").value == 100
    frozen.move_to(START + datetime.timedelta(days=89), tick=False)
    age_scores()
    assert Score.objects.get(visitor=visitor, dimension="global").value == 100
    frozen.move_to(START + datetime.timedelta(days=90), tick=False)
    age_scores()  # day 0 is now 90 days back: out of the 90-day window
    assert Score.objects.get(visitor=visitor, dimension="global").value == 60
    assert ScoreEntry.objects.filter(counted=False).count() == 4 * 2  # global and topic lines
    age_scores()  # a second run the same day changes nothing
    assert Score.objects.get(visitor=visitor, dimension="global").value == 60


def test_1000_points_spread_over_more_than_the_window_is_no_lead(browser_client, offer, frozen):
    contact = download_ebook(browser_client)
    LeadDefinition.objects.update(min_score=200)
    view(browser_client, offer, 10)  # 150 points
    frozen.move_to(START + datetime.timedelta(days=100), tick=False)
    age_scores()
    view(browser_client, offer, 9)  # 90 more; the first 150 left the window
    contact.refresh_from_db()
    assert global_score(contact) == 90 and contact.stage == Stage.PROSPECT


def test_decay_halves_points_every_half_life(browser_client, offer, frozen, settings_leadscore):
    settings_leadscore(SCORE_WINDOW_DAYS=None, SCORE_HALF_LIFE_DAYS=30)
    view(browser_client, offer, 5)  # 100 points
    visitor = Visitor.objects.get()
    frozen.move_to(START + datetime.timedelta(days=30), tick=False)
    age_scores()
    assert Score.objects.get(visitor=visitor, dimension="global").value == 50
    frozen.move_to(START + datetime.timedelta(days=60), tick=False)
    age_scores()
    assert Score.objects.get(visitor=visitor, dimension="global").value == 25


def test_topic_scores_rise_with_their_pages_only(browser_client, offer):
    view(browser_client, offer, 2)  # passive houses, 10 each
    article = ArticlePage.objects.filter(topic="smart-home").first()
    view(browser_client, article, 3)  # smart home, 3 points, once a day
    contact = download_ebook(browser_client)
    topics = {topic.slug: points for topic, points in scores_for(contact)["topics"].items()}
    # The smart-home e-book page adds 5 to smart home too.
    assert topics == {"passive-houses": 20, "smart-home": 3 + 5}
    assert not Score.objects.filter(
        contact=contact, dimension=f"topic:{Topic.objects.get(slug='financing').pk}").exists()


def test_url_rules_match_exact_words_and_strings(browser_client, offer):
    passive = Topic.objects.get(slug="passive-houses")
    exact = ScoringRule.objects.create(name="Kasia exactly", trigger="url_exact",
                                       value=offer.url.rstrip("/"), points=7)
    ScoringRule.objects.create(name="Kasia words", trigger="url_words",
                               value="kasia passive", points=3)
    ScoringRule.objects.create(name="Houses string", trigger="url_contains",
                               value="HOUSE-KASIA", points=2, feeds_global=False)
    subtree = ScoringRule.objects.create(name="Offer section", trigger="page_subtree",
                                         page=offer.get_parent(), points=1)
    subtree.topics.set([passive])
    ScoringRule.objects.create(name="Never", trigger="url_regex", value=r"^/careers/",
                               points=100)
    view(browser_client, offer)
    visitor = Visitor.objects.get()
    lines = set(ScoreEntry.objects.filter(visitor=visitor).values_list("label", "points"))
    assert {("Rule “Kasia exactly”", 7), ("Rule “Kasia words”", 3),
            ("Rule “Offer section”", 1)} <= lines
    assert Score.objects.get(visitor=visitor, dimension="global").value == 10 + 7 + 3 + 1
    assert not ScoreEntry.objects.filter(label__contains="Houses string").exists()
    assert ScoreEntry.objects.filter(rule=exact).count() == 1


def test_rules_on_forms_answers_custom_and_offline_events(browser_client, offer):
    ScoringRule.objects.create(name="Big company", trigger="form_answer",
                               value="company_size", answer="50-249", points=40)
    ScoringRule.objects.create(name="Calculator", trigger="custom_event",
                               value="calculator_used", points=15, cap="per_period",
                               cap_count=1, cap_period_days=7, feeds_global=True)
    contact = download_ebook(browser_client)
    labels = dict(ScoreEntry.objects.filter(contact=contact, dimension="global")
                  .values_list("label", "points"))
    assert labels["Rule “Big company”"] == 40
    assert labels["Rule “Downloaded an e-book”"] == 30
    for _ in range(2):  # capped: once per 7 days (the demo has the same rule: both count)
        record_event("custom", contact=contact, name="calculator_used")
    assert ScoreEntry.objects.filter(contact=contact, label="Rule “Calculator”",
                                     dimension="global").count() == 1
    record_event("offline", contact=contact, name="Trade fair business card")
    assert ScoreEntry.objects.filter(
        contact=contact, label="Rule “Left a business card at a trade fair”").exists()

    ScoringRule.objects.create(name="Cost guide", trigger="download", value="costs",
                               points=20)
    ScoringRule.objects.create(name="Any click", trigger="email_click", points=8)
    ScoringRule.objects.create(name="Welcome opened", trigger="email_open",
                               value="Welcome", points=1)
    record_event("download", contact=contact, name="Smart home costs (PDF)")
    record_event("download", contact=contact, name="Price list (PDF)")
    record_event("email_click", contact=contact, name="Nurture 3")
    record_event("email_open", contact=contact, name="welcome")
    record_event("email_open", contact=contact, name="Nurture 3")
    earned = dict(ScoreEntry.objects.filter(contact=contact, dimension="global",
                                            rule__name__in=["Cost guide", "Any click",
                                                            "Welcome opened"])
                  .values_list("label", "points"))
    assert earned == {"Rule “Cost guide”": 20, "Rule “Any click”": 8,
                      "Rule “Welcome opened”": 1}
    assert ScoreEntry.objects.filter(contact=contact, label="Rule “Cost guide”",
                                     dimension="global").count() == 1


def snapshot():
    """Every score and ledger line, without row ids (a rebuild renumbers them)."""
    return tuple(sorted(rows, key=str) for rows in (
        Score.objects.values_list("contact_id", "visitor_id", "dimension", "value"),
        ScoreEntry.objects.values_list("contact_id", "visitor_id", "event_id", "source",
                                       "dimension", "points", "counted"),
        ScoreCounter.objects.values_list("contact_id", "visitor_id", "key", "count"),
    ))


def test_rebuild_gives_exactly_the_incremental_scores(browser_client, another_browser,
                                                      offer, frozen):
    careers = CareersPage.objects.get()
    articles = list(ArticlePage.objects.live())
    for day in range(0, 120, 7):
        frozen.move_to(START + datetime.timedelta(days=day), tick=False)
        view(browser_client, offer)
        view(another_browser, articles[day % len(articles)], 2)
        if day == 35:
            download_ebook(browser_client)
            view(another_browser, careers)
        if day == 70:
            contact = download_ebook(another_browser, "second@example.com")
            record_event("custom", contact=contact, name="calculator_used")
        age_scores()
    incremental = snapshot()
    assert incremental[0]
    call_command("leadscore_rebuild_scores", verbosity=0)
    assert snapshot() == incremental


def test_rebuild_removes_the_lines_of_people_whose_events_are_gone(
        browser_client, another_browser, offer, settings_leadscore):
    """The rebuild replaces ranges of owners: those with no events left lose their lines."""
    settings_leadscore(REBUILD_BATCH_EVENTS=1)  # a batch per owner: ranges between them
    view(browser_client, offer, 2)
    first = download_ebook(browser_client, "first@example.com")
    view(another_browser, offer, 3)
    second = download_ebook(another_browser, "second@example.com")
    third_browser = Client(HTTP_USER_AGENT=another_browser.defaults["HTTP_USER_AGENT"])
    view(third_browser, offer)
    anonymous = Visitor.objects.get(contact__isnull=True)
    kept = {contact: global_score(contact) for contact in (first, second)}
    assert Score.objects.filter(visitor=anonymous, value=10).exists()

    Event.objects.filter(contact=first).delete()
    Event.objects.filter(visitor=anonymous).delete()
    call_command("leadscore_rebuild_scores", verbosity=0)

    assert not ScoreEntry.objects.filter(contact=first).exists()
    assert not Score.objects.filter(contact=first).exists()
    assert not Score.objects.filter(visitor=anonymous).exists()
    assert global_score(second) == kept[second]


def test_people_first_seen_during_a_rebuild_keep_their_scores(
        browser_client, another_browser, offer, settings_leadscore):
    """The rebuild replays the log as it was when it started; a contact identified and
    scored while it runs (here: after its first batch) is not wiped by a later batch."""
    settings_leadscore(REBUILD_BATCH_EVENTS=1)
    view(browser_client, offer)
    download_ebook(browser_client, "first@example.com")
    view(another_browser, offer)
    download_ebook(another_browser, "second@example.com")
    newcomer = []

    def arrives_meanwhile(owners, events, lines):
        if not newcomer:
            third_browser = Client(HTTP_USER_AGENT=another_browser.defaults["HTTP_USER_AGENT"])
            view(third_browser, offer, 2)
            newcomer.append(download_ebook(third_browser, "third@example.com"))

    rebuild_scores(arrives_meanwhile)
    assert global_score(newcomer[0]) == 2 * 10 + 5 + 5 + 30  # offer twice, the e-book


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rebuild_outside_a_transaction_keeps_the_schema_and_live_scoring(
        browser_client, another_browser, offer):
    """Outside a transaction PostgreSQL rebuilds into shadow tables and swaps them in: the
    same rows, the same index and constraint names, and live scoring goes on."""
    view(browser_client, offer, 4)
    contact = download_ebook(browser_client)
    view(another_browser, offer, 2)

    def schema():
        with connection.cursor() as cursor:
            return [connection.introspection.get_constraints(cursor, model._meta.db_table)
                    for model in (ScoreEntry, Score, ScoreCounter)]

    def ledger_table_id():
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::regclass::oid", [ScoreEntry._meta.db_table])
            return cursor.fetchone()[0]

    before, tables_before = (snapshot(), schema()), connection.introspection.table_names()
    score, ledger_before = global_score(contact), ledger_table_id()
    call_command("leadscore_rebuild_scores", verbosity=0)
    assert (snapshot(), schema()) == before
    assert connection.introspection.table_names() == tables_before
    if connection.vendor == "postgresql":
        assert ledger_table_id() != ledger_before  # a new table, swapped in
    view(browser_client, offer)  # the 5th view: +10 and the +50 bonus, in the new tables
    assert global_score(contact) == score + 60


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_views_recorded_while_a_rebuild_runs_count(browser_client, another_browser, offer,
                                                   settings_leadscore):
    """On PostgreSQL such a view is scored in the tables about to be replaced: the swap
    replays its owner again."""
    settings_leadscore(REBUILD_BATCH_EVENTS=1)
    view(browser_client, offer, 2)
    contact = download_ebook(browser_client)
    view(another_browser, offer)
    score = global_score(contact)

    def meanwhile(owners, events, lines):
        if owners == 1:
            view(browser_client, offer)

    rebuild_scores(meanwhile)
    assert global_score(contact) == score + 10


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_contact_erased_while_a_rebuild_runs_leaves_no_scores(
        browser_client, another_browser, offer, settings_leadscore):
    settings_leadscore(REBUILD_BATCH_EVENTS=1)
    view(browser_client, offer)
    erased = download_ebook(browser_client, "erased@example.com")
    view(another_browser, offer)
    kept = download_ebook(another_browser, "kept@example.com")

    def meanwhile(owners, events, lines):
        if owners == 1:  # the first contact's lines are written by now
            Contact.objects.filter(pk=erased.pk).delete()

    rebuild_scores(meanwhile)
    assert not ScoreEntry.objects.filter(contact_id=erased.pk).exists()
    assert not Score.objects.filter(contact_id=erased.pk).exists()
    assert global_score(kept) > 0


def test_deleting_a_contact_deletes_its_scores(browser_client, offer):
    view(browser_client, offer)
    contact = download_ebook(browser_client)
    assert ScoreEntry.objects.filter(contact=contact).exists()
    contact.delete()
    assert not ScoreEntry.objects.exists()
    assert not Score.objects.exists()


def test_a_broken_rule_never_breaks_a_page(browser_client, offer):
    ScoringRule.objects.create(name="Saved by code", trigger="url_regex", value="(", points=5)
    view(browser_client, offer)
    assert Score.objects.get(dimension="global").value == 10


def test_a_view_whose_scoring_fails_is_still_recorded(browser_client, offer, caplog):
    """On PostgreSQL the event and its points are one statement: when the points cannot be
    written (here a score at the integer limit), the event is recorded alone, the page
    served, and the failure logged for a rebuild to repair."""
    view(browser_client, offer)
    visitor = Visitor.objects.get()
    limit = 2**31 - 1
    Score.objects.filter(visitor=visitor, dimension="global").update(value=limit)
    lines = ScoreEntry.objects.filter(visitor=visitor).count()

    view(browser_client, offer)

    assert Event.objects.filter(type="page_view", page=offer).count() == 2
    if connection.vendor == "postgresql":  # SQLite's integers do not overflow here
        assert Score.objects.get(visitor=visitor, dimension="global").value == limit
        assert ScoreEntry.objects.filter(visitor=visitor).count() == lines
        assert "rebuild the scores to repair" in caplog.text
