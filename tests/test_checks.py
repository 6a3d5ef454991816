"""System checks report misconfiguration at startup."""

import pytest
from django.core import checks


def check_ids():
    return {message.id for message in checks.run_checks()}


def leadscore_messages():
    return [m for m in checks.run_checks() if m.id.startswith("wagtail_leadscore")]


def test_default_configuration_is_clean():
    assert not leadscore_messages()


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


@pytest.mark.parametrize("key", ["BOT_USER_AGENT_PATTERNS", "MAIL_SCANNER_USER_AGENTS"])
def test_an_invalid_user_agent_regex_is_reported(settings, key):
    settings.WAGTAIL_LEADSCORE = {key: ["ok", "(unclosed"]}
    (message,) = leadscore_messages()
    assert message.id == "wagtail_leadscore.E003" and key in message.msg
    assert "(unclosed" in message.msg


@pytest.mark.parametrize("key", [
    "IGNORE_PATH_PREFIXES", "BOT_USER_AGENT_PATTERNS", "CONSENT_COOKIE_VALUES",
])
def test_a_plain_string_instead_of_a_list(settings, key):
    settings.WAGTAIL_LEADSCORE = {key: "/careers/"}
    (message,) = leadscore_messages()  # E005 only: the entries are not checked character-wise
    assert message.id == "wagtail_leadscore.E005"
    assert key in message.msg and "one entry per character" in message.msg


@pytest.mark.parametrize("key, value, error_id", [
    ("IGNORE_PATH_PREFIXES", ["/careers/", 7], "E005"),
    ("BOT_USER_AGENT_PATTERNS", None, "E005"),
    ("IGNORE_PATH_PREFIXES", ["careers/"], "E006"),
    ("IGNORE_PATH_PREFIXES", [""], "E006"),
    ("SERVER_SIDE_TRACKING", "False", "E007"),
    ("TRACK_STAFF", 1, "E007"),
    ("TRACK_TIME_ON_PAGE", None, "E007"),
    ("TRACK_SCROLL_DEPTH", "yes", "E007"),
    ("TRACKING_ASYNC_COMMIT", 0, "E007"),
    ("BEACON_DEDUPE_SECONDS", "60", "E008"),
    ("BEACON_RATE_LIMIT", 0, "E008"),
    ("API_MAX_BATCH", True, "E008"),
    ("ANONYMOUS_RETENTION_DAYS", 0, "E009"),
    ("ANONYMOUS_RETENTION_DAYS", 30.5, "E009"),
    ("COOKIE_SAMESITE", "Loose", "E013"),
    ("COOKIE_SAMESITE", None, "E013"),
    ("COOKIE_NAME", "", "E015"),
    ("CONSENT_COOKIE_NAME", None, "E015"),
    ("IDENTITY_TOKEN_PARAM", 1, "E015"),
    ("CLIENT_IP_HEADER", "X-Forwarded-For", "E016"),
    ("CLIENT_IP_HEADER", "", "E016"),
    ("SCORE_WINDOW_DAYS", 0, "E018"),
    ("SCORE_HALF_LIFE_DAYS", "30", "E018"),
    ("FIT_GRADES", (("A", 20), ("B", 40)), "E019"),
    ("FIT_GRADES", "ABC", "E019"),
    ("ENGAGED_SCORE", -1, "E008"),
    ("SCORING_CACHE_SECONDS", None, "E008"),
])
def test_invalid_value(settings, key, value, error_id):
    settings.WAGTAIL_LEADSCORE = {key: value}
    assert [m.id for m in leadscore_messages()] == [f"wagtail_leadscore.{error_id}"]


@pytest.mark.parametrize("values", [
    {"IGNORE_PATH_PREFIXES": ["/careers/", "/jobs"], "BOT_USER_AGENT_PATTERNS": (r"crawl",),
     "CONSENT_COOKIE_VALUES": ["ok"]},
    {"ANONYMOUS_RETENTION_DAYS": None, "BEACON_RATE_LIMIT": 10, "TRACK_STAFF": True},
    {"COOKIE_SAMESITE": "Strict"},
    {"COOKIE_SAMESITE": "None", "COOKIE_SECURE": True},
    {"COOKIE_SAMESITE": "none", "COOKIE_SECURE": None},
    {"CLIENT_IP_HEADER": "HTTP_X_FORWARDED_FOR"},
    {"CLIENT_IP_HEADER": "REMOTE_ADDR"},
    {"SCORE_WINDOW_DAYS": None, "SCORE_HALF_LIFE_DAYS": 30, "FIT_GRADES": [("Hot", 50)]},
])
def test_valid_values(settings, values):
    settings.WAGTAIL_LEADSCORE = values
    assert not leadscore_messages()


def test_samesite_none_needs_a_secure_cookie(settings):
    settings.WAGTAIL_LEADSCORE = {"COOKIE_SAMESITE": "None", "COOKIE_SECURE": False}
    assert [m.id for m in leadscore_messages()] == ["wagtail_leadscore.E014"]


def test_missing_url_include(settings):
    settings.ROOT_URLCONF = "tests.urls_without_leadscore"
    (message,) = leadscore_messages()
    assert message.id == "wagtail_leadscore.E017"
    assert 'include("wagtail_leadscore.urls")' in message.hint


def test_missing_or_misplaced_middleware(settings):
    middleware = "wagtail_leadscore.tracking.middleware.TrackingMiddleware"
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != middleware]
    assert "wagtail_leadscore.E010" in check_ids()
    settings.MIDDLEWARE = [middleware, *settings.MIDDLEWARE]
    assert "wagtail_leadscore.E011" in check_ids()
