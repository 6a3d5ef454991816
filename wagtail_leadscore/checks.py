"""System checks: misconfiguration is reported at startup, not discovered in production."""

import re
from datetime import timedelta

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

from .conf import DEFAULTS, get_setting

MIDDLEWARE_PATH = "wagtail_leadscore.tracking.middleware.TrackingMiddleware"
TRACKING_MODES = ("always", "respect_dnt", "consent")
SAMESITE_VALUES = ("Lax", "Strict", "None")


def is_string_list(value):
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)


def is_positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def is_fit_grades(value):
    try:
        minimums = [minimum for grade, minimum in value]
        grades = [grade for grade, minimum in value]
    except (TypeError, ValueError):
        return False
    return (all(isinstance(grade, str) and grade for grade in grades)
            and all(isinstance(minimum, (int, float)) for minimum in minimums)
            and minimums == sorted(minimums, reverse=True))


# (id, keys, is_valid, requirement), checked in order; a key that failed is not checked again,
# so the rules after the type rule of a key may rely on its type.
SETTING_RULES = (
    ("E001", ("TRACKING_MODE",), lambda value: value in TRACKING_MODES,
     f"must be one of {TRACKING_MODES}"),
    ("E002", ("COOKIE_AGE", "IDENTITY_TOKEN_MAX_AGE", "FORM_TOKEN_MAX_AGE",
              "DOCUMENT_LINK_MAX_AGE"),
     lambda value: isinstance(value, timedelta), "must be a datetime.timedelta"),
    ("E005", ("IGNORE_PATH_PREFIXES", "BOT_USER_AGENT_PATTERNS", "CONSENT_COOKIE_VALUES",
              "MAIL_SCANNER_USER_AGENTS", "WEBHOOK_ALLOWED_HOSTS"),
     is_string_list, "must be a list or tuple of strings: a plain string is read as one entry "
     'per character ("/careers/" as "/", "c", "a", ...), so write ["/careers/"]'),
    ("E006", ("IGNORE_PATH_PREFIXES",), lambda value: all(p.startswith("/") for p in value),
     'must hold path prefixes that start with "/", like request.path'),
    ("E007", ("SERVER_SIDE_TRACKING", "TRACK_STAFF", "TRACK_TIME_ON_PAGE", "TRACK_SCROLL_DEPTH",
              "TRACKING_ASYNC_COMMIT"),
     lambda value: isinstance(value, bool), "must be True or False"),
    ("E008", ("BEACON_DEDUPE_SECONDS", "BEACON_RATE_LIMIT", "API_MAX_BATCH", "ENGAGED_SCORE",
              "SCORING_CACHE_SECONDS", "REBUILD_BATCH_EVENTS", "FORM_RATE_LIMIT",
              "MAIL_LINK_RATE_LIMIT", "WEBHOOK_TIMEOUT_SECONDS", "WEBHOOK_RETRY_SECONDS",
              "WEBHOOK_MAX_ATTEMPTS", "WEBHOOK_DISABLE_AFTER", "WEBHOOK_BATCH_SIZE",
              "MAIL_BATCH_SIZE", "MAIL_LEASE_SECONDS", "MAIL_RETRY_SECONDS",
              "MAIL_MAX_ATTEMPTS", "ENGAGEMENT_ACTIVE_DAYS", "ENGAGEMENT_INACTIVE_DAYS"),
     is_positive_int, "must be a positive integer"),
    ("E021", ("FORM_MIN_SECONDS",),
     lambda value: isinstance(value, (int, float)) and not isinstance(value, bool)
     and value >= 0, "must be a number of seconds, 0 or more"),
    ("E022", ("MAIL_FREQUENCY_CAP_DAYS", "MAIL_SCANNER_SECONDS"),
     lambda value: isinstance(value, int) and not isinstance(value, bool) and value >= 0,
     "must be a whole number, 0 or more (0 switches it off)"),
    ("E023", ("MAIL_BASE_URL",),
     lambda value: value is None
     or (isinstance(value, str) and value.startswith(("https://", "http://"))),
     'must be None or the site\'s URL, such as "https://www.example.com"'),
    ("E009", ("ANONYMOUS_RETENTION_DAYS",), lambda value: value is None or is_positive_int(value),
     "must be a positive integer (days), or None to keep anonymous visitors forever"),
    ("E018", ("SCORE_WINDOW_DAYS", "SCORE_HALF_LIFE_DAYS"),
     lambda value: value is None or is_positive_int(value),
     "must be a positive integer (days), or None"),
    ("E024", ("MAIL_LINK_MAX_AGE", "MAIL_UNSUBSCRIBE_MAX_AGE", "SALES_LINK_MAX_AGE"),
     lambda value: value is None or (isinstance(value, timedelta) and value > timedelta(0)),
     "must be a positive datetime.timedelta, or None (the links never expire)"),
    ("E019", ("FIT_GRADES",), is_fit_grades,
     'must be pairs of (grade, lowest score) from best to worst, e.g. (("A", 60), ("B", 40))'),
    ("E013", ("COOKIE_SAMESITE",),
     lambda value: isinstance(value, str) and value.capitalize() in SAMESITE_VALUES,
     'must be the string "Lax", "Strict" or "None"'),
    ("E015", ("COOKIE_NAME", "CONSENT_COOKIE_NAME", "IDENTITY_TOKEN_PARAM"),
     lambda value: isinstance(value, str) and value != "", "must be a non-empty string"),
    ("E016", ("CLIENT_IP_HEADER",),
     lambda value: value is None or value == "REMOTE_ADDR"
     or (isinstance(value, str) and value.startswith("HTTP_")),
     'must be None or a request.META key: "REMOTE_ADDR" or "HTTP_..." '
     '(the X-Forwarded-For header is "HTTP_X_FORWARDED_FOR")'),
)


@register(Tags.compatibility)
def check_settings(app_configs, **kwargs):
    errors = []
    configured = getattr(settings, "WAGTAIL_LEADSCORE", {})
    for key in sorted(set(configured) - set(DEFAULTS)):
        errors.append(Warning(f"Unknown setting WAGTAIL_LEADSCORE[{key!r}].",
                              hint="See the settings reference in the README.",
                              id="wagtail_leadscore.W001"))
    invalid = set()
    for error_id, keys, is_valid, requirement in SETTING_RULES:
        for key in keys:
            value = get_setting(key)
            if key not in invalid and not is_valid(value):
                invalid.add(key)
                errors.append(Error(f"WAGTAIL_LEADSCORE[{key!r}] is {value!r}; it {requirement}.",
                                    id=f"wagtail_leadscore.{error_id}"))
    if ("COOKIE_SAMESITE" not in invalid and get_setting("COOKIE_SAMESITE").lower() == "none"
            and get_setting("COOKIE_SECURE") is False):
        errors.append(Error("WAGTAIL_LEADSCORE['COOKIE_SAMESITE'] \"None\" needs a Secure cookie: "
                            "browsers drop a SameSite=None cookie without it.",
                            hint="Set COOKIE_SECURE to None (Secure on HTTPS) or True.",
                            id="wagtail_leadscore.E014"))
    for key in ("BOT_USER_AGENT_PATTERNS", "MAIL_SCANNER_USER_AGENTS"):
        for pattern in () if key in invalid else get_setting(key):
            try:
                re.compile(pattern)
            except re.error as error:
                errors.append(Error(f"Invalid regex {pattern!r} in {key}: {error}",
                                    id="wagtail_leadscore.E003"))
    if get_setting("CONSENT_CHECK"):
        try:
            import_string(get_setting("CONSENT_CHECK"))
        except ImportError as error:
            errors.append(Error(f"CONSENT_CHECK cannot be imported: {error}",
                                id="wagtail_leadscore.E004"))
    return errors


@register(Tags.compatibility)
def check_installation(app_configs, **kwargs):
    from django.apps import apps

    if not apps.is_installed("django_q"):
        return [Error("Add 'django_q' to INSTALLED_APPS: leadscore's schedules run on it.",
                      id="wagtail_leadscore.E012")]
    for app, purpose in (("wagtail.contrib.settings", "the lead definition is a setting"),
                         ("wagtail.snippets", "scoring rules and topics are snippets")):
        if not apps.is_installed(app):
            return [Error(f"Add {app!r} to INSTALLED_APPS: {purpose}.",
                          id="wagtail_leadscore.E020")]
    middleware = list(settings.MIDDLEWARE)
    if MIDDLEWARE_PATH not in middleware:
        return [Error(f"Add {MIDDLEWARE_PATH!r} to MIDDLEWARE: without it nothing is tracked.",
                      id="wagtail_leadscore.E010")]
    auth = "django.contrib.auth.middleware.AuthenticationMiddleware"
    if auth in middleware and middleware.index(auth) > middleware.index(MIDDLEWARE_PATH):
        return [Error(f"Place {MIDDLEWARE_PATH!r} after {auth!r}, so staff can be excluded.",
                      id="wagtail_leadscore.E011")]
    return []


@register(Tags.urls)
def check_urls(app_configs, **kwargs):
    try:
        reverse("wagtail_leadscore:beacon")
    except NoReverseMatch:
        return [Error("wagtail_leadscore's URLs are not included in ROOT_URLCONF: the tracker "
                      "tag cannot reverse its beacon URL, so every page would fail.",
                      hint='Add path("leadscore/", include("wagtail_leadscore.urls")) before '
                           "Wagtail's include.",
                      id="wagtail_leadscore.E017")]
    return []
