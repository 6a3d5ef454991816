"""The JSON API for CRMs and imports."""

import pytest
from django.core.management import call_command

from wagtail_leadscore.models import ApiKey, Contact, Event

pytestmark = pytest.mark.django_db


def post(client, url, payload, key=None, **extra):
    if key:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client.post(url, payload, content_type="application/json", **extra)


CONTACTS = "/leadscore/api/contacts/"
EVENTS = "/leadscore/api/events/"


def test_missing_key_is_401(client):
    response = post(client, CONTACTS, {"email": "a@example.com"})
    assert response.status_code == 401 and "authorization" in response.json()["errors"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_wrong_or_revoked_key_is_403(client, api_key):
    assert post(client, CONTACTS, {"email": "a@example.com"}, key="wrong").status_code == 403
    ApiKey.objects.update(is_active=False)
    assert post(client, CONTACTS, {"email": "a@example.com"}, key=api_key).status_code == 403
    assert not Contact.objects.exists()


def test_create_and_update_a_contact(client, api_key):
    response = post(client, CONTACTS, {"email": "Jan@Example.com", "company": "Acme",
                                       "facts": {"budget": 60000}}, key=api_key)
    assert response.status_code == 201
    result = response.json()["results"][0]
    contact = Contact.objects.get(pk=result["id"])
    assert (contact.email, contact.company, contact.facts) == \
        ("jan@example.com", "Acme", {"budget": 60000})
    post(client, CONTACTS, {"email": "jan@example.com", "job_title": "CTO"}, key=api_key)
    contact.refresh_from_db()
    assert (contact.company, contact.job_title) == ("Acme", "CTO")
    assert ApiKey.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    "payload, bad_fields",
    [
        ({"email": "nope"}, {"email"}),
        ({}, {"email"}),
        ({"email": "a@example.com", "shoe_size": 44}, {"shoe_size"}),
        ({"email": "a@example.com", "company": {"name": "x"}}, {"company"}),
        ({"email": "a@example.com", "facts": "budget"}, {"facts"}),
        ({"email": "a@example.com", "phone": "1" * 51}, {"phone"}),
        ("just a string", {"body"}),
    ],
)
def test_invalid_contact_is_400_naming_the_fields(client, api_key, payload, bad_fields):
    response = post(client, CONTACTS, payload, key=api_key)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == bad_fields
    assert not Contact.objects.exists()


def test_batch_is_all_or_nothing_with_indexed_errors(client, api_key):
    response = post(client, CONTACTS, [{"email": "ok@example.com"}, {"email": "bad"}],
                    key=api_key)
    assert response.status_code == 400 and set(response.json()["errors"]) == {"1.email"}
    assert not Contact.objects.exists()
    response = post(client, CONTACTS, [{"email": f"c{i}@example.com"} for i in range(3)],
                    key=api_key)
    assert response.status_code == 201 and Contact.objects.count() == 3


def test_body_errors(client, api_key, settings_leadscore):
    settings_leadscore(API_MAX_BATCH=2)
    assert post(client, CONTACTS, [{"email": "a@example.com"}] * 3, key=api_key
                ).status_code == 400
    assert post(client, CONTACTS, [], key=api_key).status_code == 400
    assert post(client, CONTACTS, "{broken", key=api_key).status_code == 400
    response = client.post(CONTACTS, "email=a@example.com",
                           content_type="application/x-www-form-urlencoded",
                           HTTP_AUTHORIZATION=f"Bearer {api_key}")
    assert response.status_code == 415
    assert client.get(CONTACTS, HTTP_AUTHORIZATION=f"Bearer {api_key}").status_code == 405


def test_the_api_is_rate_limited_per_client_even_for_wrong_keys(client, api_key,
                                                                 settings_leadscore):
    from django.core.cache import cache

    cache.clear()
    settings_leadscore(API_RATE_LIMIT=3)
    statuses = [post(client, CONTACTS, {"email": f"a{number}@example.com"}, key=api_key)
                .status_code for number in range(3)]
    guessed = post(client, CONTACTS, {"email": "b@example.com"}, key="guessed-key")
    assert statuses == [201, 201, 201] and guessed.status_code == 429
    assert guessed["Retry-After"] == "60"
    assert not Contact.objects.filter(email="b@example.com").exists()


def test_post_events_creates_the_contact(client, api_key):
    response = post(client, EVENTS, {
        "type": "offline", "name": "Budma 2027", "email": "visitor@example.com",
        "first_name": "Ola", "occurred_at": "2026-10-14T10:30:00+02:00",
        "properties": {"booth": "B12"}, "id": "crm-123",
    }, key=api_key)
    assert response.status_code == 201
    event = Event.objects.get(type="offline")
    assert event.contact.first_name == "Ola" and event.properties == {"booth": "B12"}
    assert event.occurred_at.isoformat() == "2026-10-14T08:30:00+00:00"
    again = post(client, EVENTS, {"type": "offline", "name": "Budma 2027",
                                  "email": "visitor@example.com", "id": "crm-123"}, key=api_key)
    assert again.json()["results"] == [{"duplicate": True}]
    assert Event.objects.filter(type="offline").count() == 1


@pytest.mark.parametrize(
    "payload, bad_fields",
    [
        ({"type": "teleport", "email": "a@example.com"}, {"type"}),
        ({"type": "offline"}, {"email"}),
        ({"type": "offline", "email": "a@example.com", "occurred_at": "yesterday"},
         {"occurred_at"}),
        ({"type": "offline", "email": "a@example.com", "occurred_at": "2999-01-01"},
         {"occurred_at"}),
        ({"type": "offline", "email": "a@example.com", "properties": [1]}, {"properties"}),
    ],
)
def test_invalid_event_is_400_naming_the_fields(client, api_key, payload, bad_fields):
    response = post(client, EVENTS, payload, key=api_key)
    assert response.status_code == 400 and set(response.json()["errors"]) == bad_fields
    assert not Event.objects.exists() and not Contact.objects.exists()


def test_api_key_command(capsys):
    call_command("leadscore_api_key", "create", "Phone system")
    raw = capsys.readouterr().out.split(": ", 1)[1].split()[0]
    key = ApiKey.objects.get(name="Phone system")
    assert raw.startswith("ls_") and key.prefix == raw[:11]
    assert key.hashed_key == ApiKey.hash(raw) and raw not in key.hashed_key
    call_command("leadscore_api_key", "revoke", key.prefix)
    assert not ApiKey.objects.get().is_active


def test_non_string_values_are_400_naming_every_field(client, api_key):
    response = post(client, EVENTS, {"type": "offline", "email": "a@example.com",
                                     "occurred_at": 12345, "name": True,
                                     "phone": 600100200}, key=api_key)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"occurred_at", "name"}


def test_repeated_calls_add_no_identify_events(client, api_key):
    payload = {"type": "offline", "name": "Budma", "email": "a@example.com", "id": "e-1"}
    for _ in range(3):
        post(client, EVENTS, payload, key=api_key)
        post(client, CONTACTS, {"email": "a@example.com"}, key=api_key)
    assert sorted(Event.objects.values_list("type", flat=True)) == ["identify", "offline"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
@pytest.mark.parametrize("url, record, field", [
    (CONTACTS, '{"email": "a@example.com", "phone": %s}', "phone"),
    (CONTACTS, '{"email": "a@example.com", "facts": {"budget": %s}}', "facts"),
    (EVENTS, '{"type": "purchase", "email": "a@example.com", "properties": {"amount": %s}}',
     "properties"),
    (EVENTS, '[{"type": "offline", "email": "a@example.com"},'
             ' {"type": "offline", "email": "b@example.com", "name": [%s]}]', "1.name"),
])
def test_a_number_json_cannot_store_is_400_naming_the_field(client, api_key, number, url,
                                                            record, field):
    """Python reads NaN, Infinity and 1e400 (as inf) in JSON; no database stores them."""
    response = post(client, url, record % number, key=api_key)
    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == {field}
    assert not Contact.objects.exists()


def test_a_huge_json_integer_is_stored_as_it_is(client, api_key):
    response = post(client, EVENTS, '{"type": "purchase", "email": "a@example.com",'
                    f' "properties": {{"amount": {10**400}}}}}', key=api_key)
    assert response.status_code == 201
    assert Event.objects.get(type="purchase").properties == {"amount": 10**400}


@pytest.mark.parametrize("occurred_at", [
    "0001-01-01T00:00:00+14:00", "0001-01-01", "1969-12-31T23:59:59+00:00",
    "9999-12-31T23:59:59-12:00",
])
def test_an_event_dated_outside_the_sane_range_is_400_naming_the_field(client, api_key,
                                                                       occurred_at):
    response = post(client, EVENTS, {"type": "offline", "email": "a@example.com",
                                     "occurred_at": occurred_at}, key=api_key)
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {
        "occurred_at": ["Must be between 1970-01-01 and one day from now."]}
    assert not Event.objects.exists()
