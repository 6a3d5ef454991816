"""Inbound requests an attacker or a machine shapes: an email link's redirect stays on the
site, whatever its path; a HEAD request downloads nothing."""

from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils.http import url_has_allowed_host_and_scheme

from wagtail_leadscore.models import Event

from .lead_capture import gated_article
from .test_progressive_forms import checklist_pdf, document_link, send  # noqa: F401

pytestmark = pytest.mark.django_db


def assert_stays_on_the_site(location):
    assert url_has_allowed_host_and_scheme(location, allowed_hosts={"testserver"}), location
    assert urlsplit(location).netloc == "", location
    assert not location.startswith(("//", "/\\")), location


@pytest.mark.parametrize("path", [
    "/%2Fevil.com/", "/%2f127.0.0.1@evil.com/", "/%2F%E3%80%82evil.com/", "/%5Cevil.com/",
    "/%09/evil.com/", "/%2F%2F%2Fevil.com/",
])
def test_an_identity_link_with_a_crafted_path_redirects_on_the_site(browser_client, path):
    response = browser_client.get(f"{path}?ls_id=x&utm_medium=email")
    assert response.status_code == 302
    assert_stays_on_the_site(response["Location"])
    assert response["Location"].endswith("?utm_medium=email")


def test_an_identity_link_with_a_raw_double_slash_path_redirects_on_the_site(browser_client):
    """What gunicorn hands over for ``GET //evil.com/?ls_id=x``: the path as sent."""
    response = browser_client.get("/", PATH_INFO="//evil.com/", QUERY_STRING="ls_id=x")
    assert response.status_code == 302
    assert_stays_on_the_site(response["Location"])


def test_an_identity_link_comes_back_to_the_same_page(browser_client, demo_pages):
    page = demo_pages[0]
    response = browser_client.get(f"{page.url}?ls_id=x", follow=True)
    assert response.redirect_chain == [(page.url, 302)]
    assert response.status_code == 200 and response.wsgi_request.path == page.url


def test_a_head_request_on_a_gated_document_link_records_no_download(
        browser_client, checklist_pdf, later):  # noqa: F811
    guide = gated_article("pdf", "gated", extra=[("document", {
        "document": checklist_pdf, "link_text": "Download the checklist"})])
    send(browser_client, guide, later, email="ewa@example.com", company="Ewa Homes")
    link = document_link(browser_client.get(guide.url).content.decode())
    head = browser_client.head(link)  # a link checker, or a browser before downloading
    assert head.status_code == 200 and "attachment" in head["Content-Disposition"]
    assert not Event.objects.filter(type="download").exists()
    assert b"".join(browser_client.get(link).streaming_content) == b"%PDF-1.4 checklist"
    assert Event.objects.filter(type="download").count() == 1


@pytest.mark.parametrize("path, content_type", [
    ("/leadscore/beacon/", "application/json"), ("/leadscore/api/events/", "application/json"),
    ("/leadscore/not-you/", "application/x-www-form-urlencoded"),
    ("/", "application/x-www-form-urlencoded"),
])
def test_a_content_length_that_is_no_number_is_a_400(path, content_type, api_key):
    """runserver passes it on; Django's request.body would raise ValueError (a 500), in
    the CSRF check of every form too."""
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {api_key}")
    client.cookies["csrftoken"] = "a" * 32
    response = client.post(path, b"{}", content_type=content_type, CONTENT_LENGTH="abc")
    assert response.status_code == 400
