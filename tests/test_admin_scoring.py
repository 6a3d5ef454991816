"""The scoring admin over HTTP: rule snippets with form errors (never a 500), a contact's
scores and ledger, the tagged pages report and the page editor's "Lead scoring" tab."""

import datetime
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from timberframe.models import CareersPage, EbookPage, OfferPage
from wagtail_leadscore import identify, record_event
from wagtail_leadscore.scoring.engine import scores_for
from wagtail_leadscore.scoring.models import FitRule, ScoringRule, Topic

pytestmark = pytest.mark.django_db

REPORT_URL = "/admin/reports/leadscore-tagged-pages/"


def snippet_url(model, view):
    return reverse(model.snippet_viewset.get_url_name(view))


def rule_form(**fields):
    return {
        "name": "Read the offers", "is_active": "on", "trigger": "url_regex",
        "value": r"^/offers/", "page": "", "answer": "", "points": "15",
        "feeds_global": "on", "cap": "none", "cap_count": "1", "cap_period_days": "1",
        "bonus_occurrence": "", "bonus_points": "0", **fields,
    }


def rows_of(html, text):
    """The listing rows (``<tr>``) that contain ``text``."""
    return [row for row in re.findall(r"<tr.*?</tr>", html, re.S) if text in row]


def test_lead_scoring_menu_holds_the_scoring_snippets(admin_client):
    menu = admin_client.get("/admin/").content.decode()
    for url in ("/admin/leadscore_contacts/", "/admin/leadscore_api_keys/",
                *(snippet_url(model, "list") for model in (ScoringRule, FitRule, Topic))):
        assert f'"url": "{url}"' in menu
    listing = admin_client.get(snippet_url(ScoringRule, "list"),
                               {"trigger": "url_words", "q": "smart"}).content.decode()
    assert "Read about smart-home packages" in listing and "Downloaded an e-book" not in listing
    form = admin_client.get(snippet_url(ScoringRule, "add")).content.decode()
    assert "Caps and bonus" in form and 'type="checkbox" name="topics"' in form


def test_scoring_rule_is_added_through_the_snippet_form(admin_client):
    topic = Topic.objects.get(slug="passive-houses")
    response = admin_client.post(snippet_url(ScoringRule, "add"),
                                 rule_form(topics=[topic.pk]))
    assert response.status_code == 302
    rule = ScoringRule.objects.get(name="Read the offers")
    assert (rule.trigger, rule.value, rule.points) == ("url_regex", "^/offers/", 15)
    assert list(rule.topics.all()) == [topic]
    listing = admin_client.get(snippet_url(ScoringRule, "list")).content.decode()
    assert "Read the offers" in listing
    assert "Page view: URL matches the regular expression" in listing  # the trigger's label


@pytest.mark.parametrize(("fields", "error"), [
    ({"value": "(unclosed"}, "Not a valid regular expression"),
    ({"trigger": "url_contains", "value": ""}, "This trigger needs a value to match."),
    ({"trigger": "page_subtree", "value": ""}, "Choose the page whose subtree scores."),
    ({"trigger": ""}, "This field is required."),
])
def test_bad_rule_input_is_a_form_error(admin_client, fields, error):
    before = ScoringRule.objects.count()
    response = admin_client.post(snippet_url(ScoringRule, "add"), rule_form(**fields))
    assert response.status_code == 200
    assert escape(error) in response.content.decode()
    assert ScoringRule.objects.count() == before


def test_bad_fit_rule_input_is_a_form_error(admin_client):
    before = FitRule.objects.count()
    response = admin_client.post(snippet_url(FitRule, "add"), {
        "name": "Budget", "is_active": "on", "fact": "budget", "operator": "between",
        "value": "a lot", "value_to": "", "points": "10",
    })
    assert response.status_code == 200
    html = response.content.decode()
    assert "Give a number." in html and "Give the upper bound." in html
    assert FitRule.objects.count() == before


def test_contact_page_explains_the_score(browser_client, admin_client):
    offer = OfferPage.objects.live().first()
    careers = CareersPage.objects.live().get()
    ebook = EbookPage.objects.live().first()
    for page in (offer, offer, careers, ebook):
        assert browser_client.get(page.url).status_code == 200
    assert browser_client.post(ebook.url, {"email": "horacy@example.com"}).status_code == 200
    contact = identify(None, "horacy@example.com", note="<script>alert(1)</script>")
    record_event("offline", contact=contact, name="trade fair business card",
                 occurred_at=timezone.now() - datetime.timedelta(days=120))

    response = admin_client.get(f"/admin/leadscore_contacts/inspect/{contact.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    scores = scores_for(contact)
    assert scores["global"] == 10 + 10 - 200 + 5 + 30  # offer twice, careers, e-book page + form
    assert f'data-leadscore-score="global">{scores["global"]}<' in html
    topic = offer.leadscore_topics.get()
    assert scores["topics"][topic] >= 20
    for shown_topic, value in scores["topics"].items():
        assert f"{escape(shown_topic.name)}: {value}" in html
    assert "data-leadscore-stage>Prospect" in html
    assert f"Not met: score {scores['global']} is below 1000" in html

    offer_rows = rows_of(html, escape(f"Viewed “{offer.title}”"))
    assert all("+10" in row for row in offer_rows)
    assert sum("<td>Global</td>" in row for row in offer_rows) == 2  # two views
    assert sum(f"<td>Topic: {escape(topic.name)}</td>" in row for row in offer_rows) == 2
    [careers_row] = [row for row in rows_of(html, escape(f"Viewed “{careers.title}”"))
                     if "<td>Global</td>" in row]
    assert "<td>-200</td>" in careers_row and "<td>yes</td>" in careers_row
    fair_rule = escape("Rule “Left a business card at a trade fair”")
    [old_fair] = [row for row in rows_of(html, fair_rule) if "<td>Global</td>" in row]
    assert "<td>+50</td>" in old_fair and "no: outside the time window" in old_fair

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_tagged_pages_report_shows_how_pages_score(admin_client):
    response = admin_client.get(REPORT_URL)
    assert response.status_code == 200
    html = response.content.decode()
    offer = OfferPage.objects.live().first()
    [offer_row] = rows_of(html, f"/admin/pages/{offer.pk}/edit/")
    assert escape(offer.title) in offer_row and "+10" in offer_row
    assert "+50 on view 5" in offer_row and escape(offer.leadscore_topics.get().name) in offer_row
    careers = CareersPage.objects.live().get()
    [careers_row] = rows_of(html, f"/admin/pages/{careers.pk}/edit/")
    assert "-200" in careers_row and "Once per person" in careers_row
    untagged = offer.get_parent()  # an index page: no points, no topics
    assert rows_of(html, f"/admin/pages/{untagged.pk}/edit/") == []


def test_tagged_pages_report_needs_a_scoring_permission(client, admin_only_user):
    editor = admin_only_user
    refused = client.get(REPORT_URL)
    assert refused.status_code in (302, 403)
    assert "/admin/login/" not in refused.get("Location", "")  # logged in, just not allowed
    assert "leadscore-tagged-pages" not in client.get("/admin/").content.decode()

    editor.user_permissions.add(Permission.objects.get(codename="view_scoringrule"))
    assert client.get(REPORT_URL).status_code == 200
    assert "leadscore-tagged-pages" in client.get("/admin/").content.decode()

    client.logout()
    anonymous = client.get(REPORT_URL)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]


def test_page_editor_has_a_lead_scoring_tab(admin_client):
    offer = OfferPage.objects.live().first()
    response = admin_client.get(f"/admin/pages/{offer.pk}/edit/")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'<a[^>]*href="#tab-lead_scoring"[^>]*>\s*Lead scoring', html)
    tab = html[html.index('id="tab-lead_scoring"'):]
    assert re.search(r'name="leadscore_points" value="10"', tab)
