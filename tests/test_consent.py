"""The three tracking modes: always, respect Do-Not-Track / GPC, only after consent."""

import pytest

from wagtail_leadscore.models import Event, Visitor

pytestmark = pytest.mark.django_db
COOKIE = "leadscore_vid"


def test_always_mode_ignores_dnt(browser_client, demo_pages, settings_leadscore):
    settings_leadscore(TRACKING_MODE="always")
    response = browser_client.get(demo_pages[0].url, HTTP_DNT="1")
    assert COOKIE in response.cookies and Event.objects.count() == 1


@pytest.mark.parametrize("header", ["HTTP_DNT", "HTTP_SEC_GPC"])
def test_respect_dnt_mode_honours_dnt_and_gpc(browser_client, demo_pages, header):
    response = browser_client.get(demo_pages[0].url, **{header: "1"})
    assert response.status_code == 200
    assert COOKIE not in response.cookies
    assert not Visitor.objects.exists() and not Event.objects.exists()
    browser_client.get(demo_pages[0].url, **{header: "0"})
    assert Event.objects.count() == 1


def test_consent_mode_records_nothing_and_sets_no_cookie_before_consent(
    browser_client, demo_pages, settings_leadscore
):
    settings_leadscore(TRACKING_MODE="consent")
    response = browser_client.get(demo_pages[0].url)
    assert response.status_code == 200 and not response.cookies
    beacon = browser_client.post(
        "/leadscore/beacon/",
        {"type": "custom", "id": "abcdefgh1234", "name": "cta", "path": "/"},
        content_type="application/json",
    )
    assert beacon.status_code == 204 and not beacon.cookies
    assert not Visitor.objects.exists() and not Event.objects.exists()


def test_consent_mode_tracks_after_the_banner_cookie(browser_client, demo_pages,
                                                     settings_leadscore):
    settings_leadscore(TRACKING_MODE="consent", CONSENT_COOKIE_NAME="cookieconsent_status")
    browser_client.cookies["cookieconsent_status"] = "deny"
    browser_client.get(demo_pages[0].url)
    assert not Event.objects.exists()
    browser_client.cookies["cookieconsent_status"] = "accepted"
    response = browser_client.get(demo_pages[0].url)
    assert COOKIE in response.cookies and Event.objects.count() == 1


def test_withdrawn_consent_deletes_the_visitor_cookie(browser_client, demo_pages,
                                                      settings_leadscore):
    settings_leadscore(TRACKING_MODE="consent")
    browser_client.cookies["leadscore_consent"] = "1"
    browser_client.get(demo_pages[0].url)
    browser_client.cookies["leadscore_consent"] = "0"
    response = browser_client.get(demo_pages[1].url)
    assert response.cookies[COOKIE].value == "" and response.cookies[COOKIE]["max-age"] == 0
    assert Event.objects.count() == 1


def allow_if_header(request):
    return request.headers.get("X-Consent") == "yes"


def test_consent_check_callable(browser_client, demo_pages, settings_leadscore):
    settings_leadscore(TRACKING_MODE="consent", CONSENT_CHECK=f"{__name__}.allow_if_header")
    browser_client.get(demo_pages[0].url)
    browser_client.get(demo_pages[0].url, HTTP_X_CONSENT="yes")
    assert Event.objects.count() == 1
