"""System checks: misconfiguration is reported at startup, not discovered in production."""

import re
from datetime import timedelta

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string

from .conf import DEFAULTS, get_setting

MIDDLEWARE_PATH = "wagtail_leadscore.tracking.middleware.TrackingMiddleware"
TRACKING_MODES = ("always", "respect_dnt", "consent")


@register(Tags.compatibility)
def check_settings(app_configs, **kwargs):
    errors = []
    configured = getattr(settings, "WAGTAIL_LEADSCORE", {})
    for key in sorted(set(configured) - set(DEFAULTS)):
        errors.append(Warning(f"Unknown setting WAGTAIL_LEADSCORE[{key!r}].",
                              hint="See the settings reference in the README.",
                              id="wagtail_leadscore.W001"))
    if get_setting("TRACKING_MODE") not in TRACKING_MODES:
        errors.append(Error(f"WAGTAIL_LEADSCORE['TRACKING_MODE'] must be one of {TRACKING_MODES}.",
                            id="wagtail_leadscore.E001"))
    for key in ("COOKIE_AGE", "IDENTITY_TOKEN_MAX_AGE"):
        if not isinstance(get_setting(key), timedelta):
            errors.append(Error(f"WAGTAIL_LEADSCORE[{key!r}] must be a datetime.timedelta.",
                                id="wagtail_leadscore.E002"))
    for pattern in get_setting("BOT_USER_AGENT_PATTERNS"):
        try:
            re.compile(pattern)
        except re.error as error:
            errors.append(Error(f"Invalid regex {pattern!r} in BOT_USER_AGENT_PATTERNS: {error}",
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
    middleware = list(settings.MIDDLEWARE)
    if MIDDLEWARE_PATH not in middleware:
        return [Error(f"Add {MIDDLEWARE_PATH!r} to MIDDLEWARE: without it nothing is tracked.",
                      id="wagtail_leadscore.E010")]
    auth = "django.contrib.auth.middleware.AuthenticationMiddleware"
    if auth in middleware and middleware.index(auth) > middleware.index(MIDDLEWARE_PATH):
        return [Error(f"Place {MIDDLEWARE_PATH!r} after {auth!r}, so staff can be excluded.",
                      id="wagtail_leadscore.E011")]
    return []
