"""Segments through recorded events: every condition type, incremental membership, rebuilds
with frozen time, anonymous members, and the query cost of an update."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from timberframe.models import ArticlePage, OfferIndexPage, OfferPage
from wagtail_leadscore import identify, record_event
from wagtail_leadscore.lifecycle.stages import Stage
from wagtail_leadscore.models import (
    Contact,
    Event,
    Score,
    Segment,
    SegmentMembership,
    Topic,
    Visitor,
)
from wagtail_leadscore.segments.membership import active_segments
from wagtail_leadscore.segments.rebuild import rebuild_segment
from wagtail_leadscore.tasks import refresh_time_based_segments

from .test_scoring import START, download_ebook, view

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


def segment(name, *conditions, match="all", **fields):
    """A segment from raw condition data ``(type, {...})``, as the admin stores it."""
    raw = [{"type": kind, "value": value} for kind, value in conditions]
    created = Segment.objects.create(name=name, match=match, conditions=json.dumps(raw),
                                     **fields)
    active_segments.clear()
    return Segment.objects.get(pk=created.pk)


def members(segment_):
    rows = SegmentMembership.objects.filter(segment=segment_)
    return {row.contact_id or row.visitor_id for row in rows}


def offer(slug="passive-house-kasia-120"):
    return OfferPage.objects.get(slug=slug)


def visited(kind, url="", **extra):
    return ("visited_url", {"match": kind, "url": url, **extra})


def test_the_three_url_kinds_of_the_seeds_enter_on_the_view(browser_client):
    exact = segment("Pricing exact", visited("url_exact", "/offer/passive-house-kasia-120"))
    words = segment("Passive words", visited("url_words", "kasia passive"))
    contains = segment("Smart string", visited("url_contains", "smart-home"))
    contact = download_ebook(browser_client)
    assert members(exact) == members(words) == set()

    view(browser_client, offer())
    assert members(exact) == members(words) == {contact.pk}
    assert members(contains) == {contact.pk}  # the e-book "smart-home-costs" URL
    ours = [exact.slug, words.slug, contains.slug]
    entered = Event.objects.filter(contact=contact, type="segment_entered", name__in=ours)
    assert sorted(entered.values_list("name", flat=True)) == sorted(ours)
    view(browser_client, offer())  # already a member: no second event
    assert entered.count() == 3


def test_at_least_n_times_and_within_n_days(browser_client, frozen):
    repeat = segment("Came back", visited("url_contains", "kasia", at_least=3, within_days=7))
    contact = download_ebook(browser_client)
    view(browser_client, offer(), 2)
    assert members(repeat) == set()
    frozen.move_to(START + datetime.timedelta(days=6), tick=False)
    view(browser_client, offer())
    assert members(repeat) == {contact.pk}

    frozen.move_to(START + datetime.timedelta(days=7, hours=1), tick=False)
    refresh_time_based_segments()  # the first two views are now older than 7 days
    assert members(repeat) == set()
    left = Event.objects.get(contact=contact, type="segment_left")
    assert left.name == repeat.slug and left.properties == {"segment": repeat.pk}


def test_visit_count_counts_visits_of_that_url_only(browser_client):
    twice = segment("Kasia twice", visited("url_exact", "/offer/passive-house-kasia-120/",
                                           at_least=2))
    download_ebook(browser_client)
    view(browser_client, offer())
    view(browser_client, offer("smart-home-package"), 3)
    assert members(twice) == set()


def test_regex_and_subtree(browser_client):
    regex = segment("Regex", visited("url_regex", r"^/offer/[a-z-]+-\d+/$"))
    offers = OfferIndexPage.objects.get()
    subtree = segment("Offer subtree", visited("page_subtree", page=offers.pk))
    contact = download_ebook(browser_client)
    view(browser_client, offer("smart-home-package"))
    assert members(regex) == set() and members(subtree) == {contact.pk}
    view(browser_client, offer())
    assert members(regex) == {contact.pk}


def test_scores_global_and_topic(browser_client):
    topic = Topic.objects.get(slug="passive-houses")
    hot = segment("Hot", ("score", {"comparison": "gte", "points": 60}))
    passive = segment("Passive fans", ("score", {"topic": str(topic.pk), "comparison": "gte",
                                                 "points": 20}))
    cold = segment("Cold", ("score", {"comparison": "lt", "points": 60}), include_visitors=False)
    contact = download_ebook(browser_client)
    rebuild_segment(cold)  # nobody scores below 60 points before their first event either
    assert members(cold) == {contact.pk} and members(hot) == set()
    view(browser_client, offer(), 2)
    assert members(passive) == {contact.pk}
    view(browser_client, offer(), 3)
    assert members(hot) == {contact.pk} and members(cold) == set()


def test_one_view_changes_url_and_score_segments_alike(browser_client):
    """On PostgreSQL the view's INSERT scores it: the score segments are asked after it,
    even when a URL segment already made the INSERT read the memberships."""
    Segment.objects.update(is_active=False)  # the demo's "passive" segment would match too
    contact = download_ebook(browser_client)
    points = Score.objects.get(contact=contact, dimension="global").value
    kasia = segment("Kasia", visited("url_contains", "kasia"))
    scored = segment("Scored", ("score", {"comparison": "gte", "points": points + 1}))
    view(browser_client, offer())  # +10
    assert members(kasia) == members(scored) == {contact.pk}


def test_stage_facts_and_tags(browser_client):
    leads = segment("Leads", ("stage", {"stages": [Stage.LEAD, Stage.SAL]}))
    builders = segment("Builders", ("fact", {"fact": "company", "operator": "icontains",
                                             "value": "builders"}))
    sizes = segment("Mid size", ("fact", {"fact": "company_size", "operator": "in",
                                          "value": "10-49, 50-249"}))
    budget = segment("Big budget", ("fact", {"fact": "budget", "operator": "iexact",
                                             "value": "over 50k"}))
    vip = segment("VIP", ("tag", {"tag": "vip"}))
    contact = download_ebook(browser_client)  # company "Horacy Builders", 50-249
    assert members(builders) == members(sizes) == {contact.pk}
    assert members(leads) == members(budget) == members(vip) == set()

    contact.facts = {"budget": "Over 50k"}
    contact.stage = Stage.LEAD
    contact.save()  # as the admin's contact form or the API does: no event needed
    assert members(leads) == members(budget) == {contact.pk} and members(vip) == set()
    contact.tags.add("VIP")
    assert members(vip) == {contact.pk}
    contact.tags.remove("VIP")
    assert members(vip) == set()


def test_a_fact_of_the_contacts_company(db):
    """``company.<key>``: an account fact (master data) of the contact's company; members
    change when the company's facts do, or when a contact joins it."""
    from wagtail_leadscore.models import Company

    large = segment("Large accounts", ("fact", {"fact": "company.employees", "operator": "gte",
                                                "value": "200"}))
    crm = segment("In the CRM", ("fact", {"fact": "company.crm_id", "operator": "iexact",
                                          "value": "a-17"}))
    anna = identify(None, "anna@timberframe.example")
    company = Company.objects.create(name="Timberframe", domain="timberframe.example",
                                     facts={"employees": 120, "crm_id": "A-17"})
    assert members(crm) == {anna.pk} and members(large) == set()
    company.facts["employees"] = 250
    company.save()
    bob = identify(None, "bob@timberframe.example")
    assert members(large) == members(crm) == {anna.pk, bob.pk}


def test_activity_events_and_emails(browser_client, frozen):
    active = segment("Active this week", ("activity", {"activity": "active", "days": 7}))
    dormant = segment("Dormant", ("activity", {"activity": "inactive", "days": 30}),
                      include_visitors=False)
    fair = segment("Met at the fair", ("event", {"event_type": "offline", "name": "Fair 2026",
                                                 "within_days": 30}))
    clicked = segment("Clicked the offer email", ("email", {"event_type": "email_click",
                                                            "name": "Spring offer"}))
    contact = download_ebook(browser_client)
    assert members(active) == {contact.pk}
    record_event("offline", contact=contact, name="fair 2026")
    record_event("email_open", contact=contact, name="Spring offer")
    assert members(fair) == {contact.pk} and members(clicked) == set()
    record_event("email_click", contact=contact, name="Spring offer")
    assert members(clicked) == {contact.pk}

    frozen.move_to(START + datetime.timedelta(days=31), tick=False)
    refresh_time_based_segments()
    assert members(active) == members(fair) == set()
    assert members(dormant) == {contact.pk}
    view(browser_client, offer())  # back: active again, dormant no more
    assert members(active) == {contact.pk} and members(dormant) == set()


def test_member_of_another_segment_and_groups(browser_client):
    kasia = segment("Kasia", visited("url_contains", "kasia"))
    smart = segment("Smart", visited("url_contains", "smart-home-package"))
    both = segment("Kasia, not smart", ("member_of", {"segment": kasia.pk}),
                   ("group", {"match": "none", "conditions": [
                       {"type": "member_of", "value": {"segment": smart.pk}}]}))
    either = segment("Either", visited("url_contains", "kasia"),
                     visited("url_contains", "smart-home-package"), match="any")
    contact = download_ebook(browser_client)
    view(browser_client, offer())
    assert members(both) == members(either) == {contact.pk}
    view(browser_client, offer("smart-home-package"))
    assert members(smart) == {contact.pk}
    assert members(both) == set()  # "member of" follows the change in the same update


def test_a_segment_cannot_depend_on_itself():
    first = segment("First", visited("url_contains", "a"))
    second = segment("Second", ("member_of", {"segment": first.pk}))
    first.conditions = json.dumps([{"type": "member_of", "value": {"segment": second.pk}}])
    with pytest.raises(Exception, match="cannot depend on itself"):
        first.full_clean()


def test_anonymous_visitors_are_members_until_identified(browser_client):
    kasia = segment("Kasia", visited("url_contains", "kasia"))
    known_only = segment("Known only", visited("url_contains", "kasia"),
                         include_visitors=False)
    view(browser_client, offer())
    visitor = Visitor.objects.get()
    assert members(kasia) == {visitor.pk} and members(known_only) == set()
    contact = download_ebook(browser_client)
    assert members(kasia) == members(known_only) == {contact.pk}


def test_rebuild_gives_the_incremental_membership(browser_client, another_browser):
    segments = [
        segment("Kasia", visited("url_contains", "kasia")),
        segment("Twice", visited("url_contains", "offer", at_least=2)),
        segment("Blog", visited("page_subtree", page=ArticlePage.objects.first().get_parent().pk)),
    ]
    download_ebook(browser_client)
    view(browser_client, offer(), 2)
    view(another_browser, ArticlePage.objects.first())
    view(another_browser, offer())
    incremental = [members(each) for each in segments]
    SegmentMembership.objects.all().delete()
    for each in segments:
        rebuild_segment(each)
    assert [members(each) for each in segments] == incremental
    assert rebuild_segment(segments[0]) == {"contact": (0, 0), "visitor": (0, 0)}


def test_an_update_costs_the_same_queries_for_one_or_twenty_segments(browser_client):
    Segment.objects.update(is_active=False)  # the demo's: only this test's segments count
    download_ebook(browser_client)
    view(browser_client, offer())

    def queries_of_a_view():
        with CaptureQueriesContext(connection) as captured:
            view(browser_client, offer())
        # Not the savepoints of the test's transaction (none in autocommit).
        return sum(1 for query in captured if "SAVEPOINT" not in query["sql"])

    segment("Kasia 0", visited("url_contains", "kasia"))
    view(browser_client, offer())  # enters: writes of its own
    one = queries_of_a_view()
    for number in range(1, 20):
        segment(f"Kasia {number}", visited("url_contains", "kasia"))
    view(browser_client, offer())
    twenty = queries_of_a_view()
    for number in range(20):  # URLs this view does not match cost nothing
        segment(f"Other {number}", visited("url_contains", f"other-{number}"))
    view(browser_client, offer())
    assert one == twenty == queries_of_a_view()
    segments_off = Segment.objects.all().delete()
    assert segments_off
    active_segments.clear()
    view(browser_client, offer())
    # A member's view reads its memberships: in the event's INSERT on PostgreSQL, in one
    # query of its own elsewhere; nothing is re-tested.
    assert queries_of_a_view() == one - (0 if connection.vendor == "postgresql" else 1)


def test_contacts_of_another_person_are_not_touched(browser_client, another_browser):
    kasia = segment("Kasia", visited("url_contains", "kasia"))
    contact = download_ebook(browser_client)
    other = download_ebook(another_browser, email="ola@example.com")
    view(browser_client, offer())
    assert members(kasia) == {contact.pk}
    assert not Event.objects.filter(contact=other, type="segment_entered").exists()
    assert Contact.objects.count() == 2
