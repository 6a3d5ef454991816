"""System checks report misconfiguration at startup."""

from django.core import checks


def check_ids():
    return {message.id for message in checks.run_checks()}


def test_default_configuration_is_clean():
    assert not {i for i in check_ids() if i.startswith("wagtail_leadscore")}


def test_bad_values_are_reported(settings):
    settings.WAGTAIL_LEADSCORE = {
        "TRACKING_MODE": "sometimes",
        "COOKIE_AGE": 3600,
        "BOT_USER_AGENT_PATTERNS": ["(unclosed"],
        "CONSENT_CHECK": "nowhere.to.be.found",
        "TRAKING_MODE": "typo",
    }
    assert {
        "wagtail_leadscore.E001", "wagtail_leadscore.E002", "wagtail_leadscore.E003",
        "wagtail_leadscore.E004", "wagtail_leadscore.W001",
    } <= check_ids()


def test_missing_or_misplaced_middleware(settings):
    middleware = "wagtail_leadscore.tracking.middleware.TrackingMiddleware"
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != middleware]
    assert "wagtail_leadscore.E010" in check_ids()
    settings.MIDDLEWARE = [middleware, *settings.MIDDLEWARE]
    assert "wagtail_leadscore.E011" in check_ids()
