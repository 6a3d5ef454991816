"""Regular expressions in URL conditions (scoring rules, segments, automation rules): what
the admin refuses, and page views whose long URL a pathological expression is matched
against, on the serve path and in segment rebuilds (issue 19, item 4: ReDoS)."""

import pytest
from django.db import connection
from django.urls import reverse

from wagtail_leadscore import record_event
from wagtail_leadscore.automation.models import AutomationRule
from wagtail_leadscore.models import Contact, Event, ScoreEntry, ScoringRule, Segment
from wagtail_leadscore.segments.rebuild import rebuild_segment

from .test_admin_scoring import rule_form, snippet_url
from .test_admin_segments import segment_form
from .test_admin_segments import url as segment_url
from .test_automation import actions_form
from .test_scoring import download_ebook, global_score
from .test_segments import members, offer, segment, visited

pytestmark = pytest.mark.django_db

AUTOMATION_ADD = "wagtailsnippets_wagtail_leadscore_automationrule:add"
# Python's re takes seconds from 25 characters on: exponential backtracking.
PATHOLOGICAL = "(a+)+$"
# The same, matching the long query below ("!" is stored URL-encoded).
PATHOLOGICAL_MATCHING = "(a+)+%21$"
LONG_QUERY = "q=" + "a" * 10_000 + "!"
MARIADB = connection.vendor == "mysql"

REFUSED = [
    (r"^/offer/(kasia)-\1/", "backreference"),
    (r"^/offer/(?=kasia)", "(?:"),  # a lookahead
    (r"(?<!careers)/jobs/", "(?:"),  # a lookbehind
    (r"(?P<slug>[a-z]+)", "(?:"),  # a named group: not on PostgreSQL
    (r"\bkasia\b", "\\b"),  # a word boundary in RE2, a backspace on PostgreSQL
    (r"^/offer/\w{256}", "255"),  # PostgreSQL repeats 255 times at most
    (r"^/offer/[[:alpha:]]+", "[:"),  # a locale's letters on PostgreSQL, ASCII in RE2
    (r"^/offer/{kasia}", "\\{"),
    ("/" + "a" * 500, "500 characters"),
    (r"[a-z0-9-]{1,200}/[a-z0-9-]{1,200}", "too complex"),
    ("^/offer/(kasia", "Not a valid regular expression"),
]


@pytest.mark.parametrize(("expression", "error"), REFUSED)
def test_the_scoring_rule_form_refuses_what_an_engine_cannot_read_alike(
        admin_client, expression, error):
    response = admin_client.post(snippet_url(ScoringRule, "add"), rule_form(value=expression))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-message"' in html and error in html.replace("&quot;", '"')
    assert not ScoringRule.objects.filter(name="Read the offers").exists()


def test_the_segment_and_automation_forms_refuse_a_lookaround(admin_client):
    response = admin_client.post(segment_url("add"), segment_form("url_regex", "kasia(?!-1)"))
    assert response.status_code == 200 and "(?:" in response.content.decode()
    assert not Segment.objects.filter(name="Kasia readers").exists()
    response = admin_client.post(reverse(AUTOMATION_ADD),
                                 actions_form(trigger="url_regex", value=r"(a)\1"))
    assert response.status_code == 200 and "backreference" in response.content.decode()
    assert not AutomationRule.objects.exists()


def save_pathological_rules(admin_client):
    """Through the admin: a scoring rule, a segment and an automation rule for each of the
    two pathological expressions."""
    for name, expression, points in (("Never", PATHOLOGICAL, 100),
                                     ("Long a", PATHOLOGICAL_MATCHING, 7)):
        forms = (
            (snippet_url(ScoringRule, "add"), rule_form(name=name, value=expression,
                                                        points=str(points))),
            (segment_url("add"), segment_form("url_regex", expression, name=name)),
            (reverse(AUTOMATION_ADD), actions_form(
                name=name, trigger="url_regex", value=expression,
                **{"actions-0-value-tag": name})),
        )
        for url, form in forms:
            response = admin_client.post(url, form)
            if MARIADB:  # PCRE2 backtracks: a repeated group that repeats is refused
                assert response.status_code == 200 and "MariaDB" in response.content.decode()
            else:
                assert response.status_code == 302, response.content.decode()


@pytest.mark.skipif(MARIADB, reason="MariaDB refuses the pathological expressions")
def test_a_10000_character_query_is_matched_against_pathological_rules_correctly(
        admin_client, browser_client):
    save_pathological_rules(admin_client)
    contact = download_ebook(browser_client)
    before = global_score(contact)

    response = browser_client.get(f"{offer().url}?{LONG_QUERY}")

    assert response.status_code == 200
    view = Event.objects.filter(contact=contact, type="page_view").latest("pk")
    assert view.query == LONG_QUERY.replace("!", "%21")
    earned = set(ScoreEntry.objects.filter(event=view, dimension="global")
                 .values_list("label", "points"))
    assert earned == {(f"Viewed “{offer().title}”", 10), ("Rule “Long a”", 7)}
    assert global_score(contact) == before + 10 + 7
    never, long_a = Segment.objects.get(name="Never"), Segment.objects.get(name="Long a")
    assert members(never) == set() and members(long_a) == {contact.pk}
    assert set(contact.tags.names()) >= {"Long a"} and "Never" not in contact.tags.names()
    # A rebuild matches in SQL (SQLite: RE2 too, never Python's re) and agrees.
    for rebuilt in (never, long_a):
        rebuild_segment(rebuilt)
    assert members(never) == set() and members(long_a) == {contact.pk}


def test_a_url_longer_than_16384_characters_matches_no_expression(admin_client,
                                                                  browser_client):
    for url, form in ((snippet_url(ScoringRule, "add"), rule_form(value="kasia")),
                      (segment_url("add"), segment_form("url_regex", "kasia"))):
        assert admin_client.post(url, form).status_code == 302
    contact = download_ebook(browser_client)
    query = "q=" + "x" * 16_384

    assert browser_client.get(f"{offer().url}?{query}").status_code == 200

    view = Event.objects.filter(contact=contact, type="page_view").latest("pk")
    assert view.query == query
    assert not ScoreEntry.objects.filter(event=view, label="Rule “Read the offers”").exists()
    readers = Segment.objects.get(name="Kasia readers")
    assert members(readers) == set()
    rebuild_segment(readers)
    assert members(readers) == set()
    assert browser_client.get(offer().url).status_code == 200  # a short URL matches
    assert members(readers) == {contact.pk}


@pytest.mark.parametrize(("expression", "path", "member"), [
    (r"^/offer/\d/$", "/offer/\u0663/", False),  # \d: ASCII digits, not ARABIC-INDIC THREE
    (r"^/offer/\w+/$", "/offer/żółw/", False),  # \w: ASCII letters, digits and _
    (r"^/offer/a.b/$", "/offer/a\nb/", True),  # . is any character, a newline too
    (r"^/offer/kasia/$", "/offer/kasia/\n", False),  # $ is the end, not a final newline
    (r"^/offer/kasia/$", "/OFFER/Kasia/", True),  # case-insensitive
    (r"^/offer/ż", "/offer/Żółw/", True),
])
def test_a_rebuild_matches_an_expression_as_the_page_view_did(expression, path, member):
    readers = segment("Readers", visited("url_regex", expression))
    contact = Contact.objects.create(email="reader@example.com")
    record_event("page_view", contact=contact, path=path)
    expected = {contact.pk} if member else set()
    assert members(readers) == expected
    rebuild_segment(readers)
    assert members(readers) == expected
