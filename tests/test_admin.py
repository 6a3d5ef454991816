"""The Wagtail admin: contacts with their timeline, and API keys shown once."""

import re

import pytest

from wagtail_leadscore import identify, record_event
from wagtail_leadscore.models import ApiKey, Contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_contact_list_search_and_escaping(admin_client):
    identify(None, "xss@example.com", first_name="<script>alert(1)</script>", company="Acme")
    identify(None, "other@example.com", company="Timber")
    response = admin_client.get("/admin/leadscore_contacts/", {"q": "acme"})
    assert response.status_code == 200
    assert b"xss@example.com" in response.content and b"other@example.com" not in response.content
    assert b"<script>alert(1)</script>" not in response.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content


def test_contact_inspect_shows_the_timeline(admin_client):
    contact = identify(None, "horacy@example.com")
    record_event("offline", contact=contact, name="Budma <b>2027</b>",
                 properties={"booth": "<img src=x>"})
    response = admin_client.get(f"/admin/leadscore_contacts/inspect/{contact.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Timeline: 2 events" in html and "Contact since 20" in html
    assert "Budma &lt;b&gt;2027&lt;/b&gt;" in html and "&lt;img src=x&gt;" in html


def test_contact_edit_keeps_emails_unique_case_insensitively(admin_client):
    identify(None, "anna@example.com")
    response = admin_client.post("/admin/leadscore_contacts/new/",
                                 {"email": "ANNA@example.com"})
    assert response.status_code == 200  # the form again, with an error
    assert "already exists" in response.content.decode()
    assert Contact.objects.count() == 1


def test_api_key_is_shown_once_and_stored_hashed(admin_client):
    response = admin_client.post("/admin/leadscore_api_keys/new/",
                                 {"name": "CRM", "is_active": "on"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    raw_key = re.search(r"data-leadscore-api-key>([^<]+)<", response.content.decode()).group(1)
    key = ApiKey.objects.get()
    assert key.hashed_key == ApiKey.hash(raw_key)
    listing = admin_client.get("/admin/leadscore_api_keys/").content.decode()
    assert key.prefix in listing and raw_key not in listing


def test_admin_pages_need_a_login(client):
    response = client.get("/admin/leadscore_contacts/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
