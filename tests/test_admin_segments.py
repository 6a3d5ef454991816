"""The segment admin over HTTP: the snippet form (an invalid regular expression is a form
error), the live member count, the member list and its CSV export; and content per segment
on a page, with its cache headers."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from timberframe.models import ArticlePage
from wagtail_leadscore.models import Segment

from .test_scoring import download_ebook, view
from .test_segments import offer, segment, visited

pytestmark = pytest.mark.django_db


def url(view_name, *args):
    return reverse(Segment.snippet_viewset.get_url_name(view_name), args=args)


def segment_form(match="url_contains", value="kasia", **fields):
    """The segment editor's POST: one "visited a URL" condition."""
    return {
        "name": "Kasia readers", "slug": "", "description": "", "is_active": "on",
        "include_visitors": "on", "match": "all",
        "conditions-count": "1", "conditions-0-type": "visited_url",
        "conditions-0-deleted": "", "conditions-0-order": "0", "conditions-0-id": "",
        "conditions-0-value-match": match, "conditions-0-value-url": value,
        "conditions-0-value-page": "", "conditions-0-value-at_least": "1",
        "conditions-0-value-within_days": "", **fields,
    }


def test_a_segment_is_added_and_an_invalid_regex_is_a_form_error(admin_client):
    response = admin_client.post(url("add"), segment_form("url_regex", "^/offer/(kasia"))
    assert response.status_code == 200
    assert "Not a valid regular expression" in response.content.decode()
    assert not Segment.objects.filter(name="Kasia readers").exists()

    response = admin_client.post(url("add"), segment_form("url_words", ""))
    assert response.status_code == 200 and "needs a value" in response.content.decode()

    response = admin_client.post(url("add"), segment_form())
    assert response.status_code == 302
    added = Segment.objects.get(name="Kasia readers")
    assert added.slug == "kasia-readers"
    assert added.conditions[0].value["url"] == "kasia"
    form = admin_client.get(url("edit", added.pk)).content.decode()
    assert "data-leadscore-member-count" in form and url("member_count", added.pk) in form


def test_an_account_fact_without_its_key_is_a_form_error(admin_client):
    response = admin_client.post(url("add"), {
        **segment_form(), "conditions-0-type": "fact", "conditions-0-value-fact": "company.",
        "conditions-0-value-operator": "iexact", "conditions-0-value-value": "x"})
    assert response.status_code == 200 and "custom fact key" in response.content.decode()
    assert not Segment.objects.filter(name="Kasia readers").exists()


def test_the_member_count_follows_the_form_without_saving(admin_client, browser_client):
    contact = download_ebook(browser_client)
    view(browser_client, offer())
    counted = admin_client.post(url("member_count"), segment_form()).json()
    assert counted == {"contacts": 1, "visitors": 0}
    assert admin_client.post(url("member_count"), segment_form(value="nowhere")).json() == {
        "contacts": 0, "visitors": 0}
    invalid = admin_client.post(url("member_count"), segment_form("url_regex", "(")).json()
    assert "Correct the errors" in invalid["error"]
    assert not Segment.objects.filter(name="Kasia readers").exists() and contact.pk


def test_member_list_and_csv_escape_formulas(admin_client, browser_client):
    contact = download_ebook(browser_client, company="=HYPERLINK(\"http://evil\")")
    contact.first_name = "<script>alert(1)</script>"
    contact.save()
    kasia = segment("Kasia", visited("url_contains", "kasia"))
    view(browser_client, offer())
    page = admin_client.get(url("members", kasia.pk)).content.decode()
    assert contact.email in page and "<script>alert(1)" not in page
    assert "&lt;script&gt;" in page

    response = admin_client.get(url("members_csv", kasia.pk))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["email", "first_name", "last_name", "company"]
    assert rows[1][0] == contact.email and rows[1][3] == "'=HYPERLINK(\"http://evil\")"


def test_segment_views_need_permission(client, django_user_model, browser_client):
    kasia = segment("Kasia", visited("url_contains", "kasia"))
    editor = django_user_model.objects.create_user("ed", password="x")
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    assert client.get(url("members", kasia.pk)).status_code in (302, 403)
    assert client.post(url("member_count"), segment_form()).status_code in (302, 403)


def test_content_per_segment_on_a_page_is_private(browser_client, another_browser):
    kasia = segment("Kasia", visited("url_contains", "kasia"))
    article = ArticlePage.objects.order_by("path").first()
    article.body = json.dumps([{"type": "for_segment", "value": {
        "segment": kasia.pk,
        "content": [{"type": "paragraph", "value": "<p>Kasia, a fan: hello</p>"}],
        "otherwise": [{"type": "paragraph", "value": "<p>Hello, stranger</p>"}]}}])
    article.save_revision().publish()
    view(browser_client, offer())  # an anonymous member from now on

    response = browser_client.get(article.url)
    assert "Kasia, a fan: hello" in response.content.decode()
    assert "Hello, stranger" not in response.content.decode()
    assert "private" in response["Cache-Control"] and "Cookie" in response["Vary"]
    other = another_browser.get(article.url).content.decode()
    assert "Hello, stranger" in other and "Kasia, a fan" not in other

    template = Template('{% load leadscore_tags %}{% leadscore_in_segment "kasia" as fan %}'
                        "{% if fan %}fan{% else %}no{% endif %}")
    assert template.render(Context({"request": response.wsgi_request})) == "fan"
    assert template.render(Context({"request": RequestFactory().get("/")})) == "no"
