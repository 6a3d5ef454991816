"""One settings dict, ``WAGTAIL_LEADSCORE``, with documented defaults.

Every key is listed in the README's settings reference; ``checks.py`` reports unknown keys
(usually typos) and bad values at startup instead of letting them fail silently.
"""

from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

DEFAULTS = {
    # "always", "respect_dnt" (honour DNT and Global Privacy Control) or "consent".
    "TRACKING_MODE": "respect_dnt",
    # Record page views when Wagtail serves a page (the JS beacon covers cached pages).
    "SERVER_SIDE_TRACKING": True,
    # A returning visitor's page view is written once the response is sent, so the
    # visitor never waits for it; False writes it before the page is rendered.
    "RECORD_VIEWS_AFTER_RESPONSE": True,
    # Track logged-in staff users (editors) too.
    "TRACK_STAFF": False,
    # The first-party visitor cookie.
    "COOKIE_NAME": "leadscore_vid",
    "COOKIE_AGE": timedelta(days=395),
    "COOKIE_DOMAIN": None,
    "COOKIE_SECURE": None,  # None: secure when the request is HTTPS
    "COOKIE_SAMESITE": "Lax",
    # The signed cookie naming the gated forms a browser sent (set also where tracking is
    # not allowed: it holds no identifier, only what was unlocked).
    "UNLOCK_COOKIE_NAME": "leadscore_unlocked",
    # Consent mode: the cookie a cookie banner sets, and the values that mean "yes".
    "CONSENT_COOKIE_NAME": "leadscore_consent",
    "CONSENT_COOKIE_VALUES": ("1", "true", "yes", "granted", "accepted", "all"),
    # Dotted path to a callable(request) -> bool that replaces the consent cookie check.
    "CONSENT_CHECK": None,
    # Regexes matched against the User-Agent on top of the user-agents bot detection.
    "BOT_USER_AGENT_PATTERNS": (),
    # Path prefixes never tracked (the Wagtail admin and previews never are).
    "IGNORE_PATH_PREFIXES": (),
    # JS beacon: a view the server recorded is not counted again by the beacon when
    # the beacon comes from the same visitor within this many seconds of the render.
    "BEACON_DEDUPE_SECONDS": 60,
    # Requests per minute per client IP on the public beacon endpoint.
    "BEACON_RATE_LIMIT": 120,
    "TRACK_TIME_ON_PAGE": True,
    "TRACK_SCROLL_DEPTH": True,
    # Signed identity tokens in email links: query parameter and lifetime.
    "IDENTITY_TOKEN_PARAM": "ls_id",
    "IDENTITY_TOKEN_MAX_AGE": timedelta(days=30),
    # HTTP API: most records accepted in one request; requests per minute per client IP.
    "API_MAX_BATCH": 500,
    "API_RATE_LIMIT": 600,
    # Anonymous visitors (never identified) and their events are deleted after this
    # many days without a visit; None keeps them forever.
    "ANONYMOUS_RETENTION_DAYS": 395,
    # Raw events (every event, of anyone) are deleted after this many days; None keeps
    # them. Scores stay (their ledger outlives the events).
    "EVENT_RETENTION_DAYS": None,
    # PostgreSQL: tracked events (page views, beacons) do not wait for the disk flush of
    # their commit; a database server crash can lose the last moment of them (see README).
    "TRACKING_ASYNC_COMMIT": True,
    # Header carrying the client IP behind a trusted proxy (e.g. "HTTP_X_FORWARDED_FOR").
    "CLIENT_IP_HEADER": None,
    # Scoring time: points older than this many days stop counting (None: never) ...
    "SCORE_WINDOW_DAYS": 90,
    # ... and/or points lose half their value every this many days (None: no decay).
    "SCORE_HALF_LIFE_DAYS": None,
    # Fit grades: (grade, lowest fit score) from best to worst; below the last one, "D".
    "FIT_GRADES": (("A", 60), ("B", 40), ("C", 20)),
    # An anonymous visitor with at least this global score is "engaged" (not "anonymous").
    "ENGAGED_SCORE": 20,
    # Seconds each process keeps scoring rules, the lead definition and the active segments
    # before reloading (the process that saves them reloads at once).
    "SCORING_CACHE_SECONDS": 30,
    # leadscore_rebuild_scores writes the lines of about this many events per batch, one
    # transaction each (whole owners; at most 5000 owners).
    "REBUILD_BATCH_EVENTS": 50_000,
    # Progressive forms: a submission sooner than this many seconds after the form was
    # rendered is refused (bots); a rendered form is good for this long; submissions per
    # minute per client IP.
    "FORM_MIN_SECONDS": 3,
    "FORM_TOKEN_MAX_AGE": timedelta(days=1),
    "FORM_RATE_LIMIT": 10,
    # Requests per minute and client IP to email links: clicks, opens, unsubscribe pages.
    "MAIL_LINK_RATE_LIMIT": 120,
    # Webhooks (webhooks/): hosts that may be private or loopback addresses, the timeout of
    # one call, retries with backoff, and when a failing endpoint is switched off.
    "WEBHOOK_ALLOWED_HOSTS": [],
    "WEBHOOK_TIMEOUT_SECONDS": 10,
    "WEBHOOK_RETRY_SECONDS": 60,
    "WEBHOOK_MAX_ATTEMPTS": 8,
    "WEBHOOK_DISABLE_AFTER": 20,
    "WEBHOOK_BATCH_SIZE": 50,
    # How long a link to a gated document (GatedDocumentBlock) works.
    "DOCUMENT_LINK_MAX_AGE": timedelta(hours=1),
    # More segment condition types: {"name": "dotted.path.to.ConditionBlockSubclass"}.
    # Read when the models load (a StreamField's blocks are fixed then): run makemigrations
    # after changing it.
    "SEGMENT_CONDITION_TYPES": {},
    # Email. Links in emails point here (None: WAGTAILADMIN_BASE_URL, else the default
    # site's root URL).
    "MAIL_BASE_URL": None,
    # At most one marketing email per contact per this many days (0: no cap); a capped
    # email is deferred, never dropped. Transactional email is exempt.
    "MAIL_FREQUENCY_CAP_DAYS": 7,
    # Messages per batch (one SMTP connection), and how long a claimed batch is held
    # before another worker may take over what a dead worker left.
    "MAIL_BATCH_SIZE": 100,
    "MAIL_LEASE_SECONDS": 300,
    # A temporary failure is retried after 60 s, 120 s, 240 s, ...; then the row fails.
    "MAIL_RETRY_SECONDS": 60,
    "MAIL_MAX_ATTEMPTS": 6,
    # A click or open this soon after delivery is a mail scanner's (0: timing never decides).
    "MAIL_SCANNER_SECONDS": 10,
    # Regexes matched against the User-Agent of clicks and opens, on top of known scanners.
    "MAIL_SCANNER_USER_AGENTS": (),
    # Lifetimes of email links, counted from when the message was sent (None: never
    # expire): clicks and opens are recorded this long (an older click still redirects,
    # recording nothing) ...
    "MAIL_LINK_MAX_AGE": timedelta(days=365),
    # ... the unsubscribe link works this long (long: an unsubscribe must keep working) ...
    "MAIL_UNSUBSCRIBE_MAX_AGE": timedelta(days=5 * 365),
    # ... and a sales alert's accept and send-back links this long.
    "SALES_LINK_MAX_AGE": timedelta(days=30),
    # More automation action types: {"name": "dotted.path.to.ActionBlockSubclass"}; read
    # when the models load: run makemigrations after changing it.
    "AUTOMATION_ACTION_TYPES": {},
    # Engagement: active if the contact did something within ACTIVE_DAYS, inactive after
    # INACTIVE_DAYS of nothing (no marketing email then), cooling in between.
    "ENGAGEMENT_ACTIVE_DAYS": 30,
    "ENGAGEMENT_INACTIVE_DAYS": 90,
}


def get_setting(name):
    """Return a leadscore setting, the site's value if set, else the default."""
    return _merged_settings()[name]


@lru_cache(maxsize=1)
def _merged_settings():
    """Merged once: the hot path and the rebuild read settings per event."""
    return {**DEFAULTS, **getattr(settings, "WAGTAIL_LEADSCORE", {})}


@receiver(setting_changed)
def _forget_merged_settings(setting, **kwargs):
    if setting == "WAGTAIL_LEADSCORE":
        _merged_settings.cache_clear()
