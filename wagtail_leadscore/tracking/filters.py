"""Who and what is never tracked: bots, refusals of consent, staff, previews, the admin."""

import re
from functools import lru_cache

from django.utils.module_loading import import_string
from user_agents import parse as parse_user_agent

from ..conf import get_setting

# Crawlers and HTTP libraries that user-agents does not flag, and headless browsers.
CRAWLER_PATTERN = re.compile(
    r"bot|crawl|spider|slurp|scrap|headless|phantomjs|curl/|wget/|python-requests|"
    r"python-urllib|httpx|aiohttp|go-http-client|java/|okhttp|libwww|axios/|node-fetch|"
    r"facebookexternalhit|bingpreview|lighthouse|pingdom|uptime|monitor",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def is_bot_user_agent(user_agent, extra_patterns=()):
    """True for an empty user agent, for what user-agents calls a bot, and for crawlers."""
    if not user_agent.strip():
        return True
    if CRAWLER_PATTERN.search(user_agent):
        return True
    if any(re.search(pattern, user_agent, re.IGNORECASE) for pattern in extra_patterns):
        return True
    return describe_user_agent(user_agent)["is_bot"]


def request_is_bot(request):
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:512]
    return is_bot_user_agent(user_agent, tuple(get_setting("BOT_USER_AGENT_PATTERNS")))


def has_consent(request):
    """The consent check of the "consent" tracking mode: a callable, or the banner's cookie."""
    check = get_setting("CONSENT_CHECK")
    if check:
        return bool(import_string(check)(request))
    value = request.COOKIES.get(get_setting("CONSENT_COOKIE_NAME"), "")
    return value.strip().lower() in {v.lower() for v in get_setting("CONSENT_COOKIE_VALUES")}


def refuses_tracking(request):
    """Do Not Track or Global Privacy Control sent by the browser."""
    return request.META.get("HTTP_DNT") == "1" or request.META.get("HTTP_SEC_GPC") == "1"


def privacy_allows_tracking(request):
    """What the configured tracking mode says about this request."""
    mode = get_setting("TRACKING_MODE")
    if mode == "consent":
        return has_consent(request)
    if mode == "respect_dnt":
        return not refuses_tracking(request)
    return True


def is_preview(request):
    return getattr(request, "is_preview", False)


def is_untracked_user(request):
    """Staff and Wagtail editors (who may lack is_staff), unless TRACK_STAFF."""
    if get_setting("TRACK_STAFF"):
        return False
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return user.is_staff or user.has_perm("wagtailadmin.access_admin")


def is_ignored_request(request):
    """Requests of bots and to ignored paths: they get the tracker, but record nothing."""
    if any(request.path.startswith(prefix) for prefix in get_setting("IGNORE_PATH_PREFIXES")):
        return True
    return request_is_bot(request)


@lru_cache(maxsize=4096)
def describe_user_agent(user_agent):
    """The device, browser, OS and bot flag a Visitor keeps (parsed once per user agent:
    the result is shared, never modify it)."""
    parsed = parse_user_agent(user_agent)
    if parsed.is_mobile:
        device = "mobile"
    elif parsed.is_tablet:
        device = "tablet"
    elif parsed.is_pc:
        device = "desktop"
    else:
        device = "other"
    return {
        "device": device,
        "browser": parsed.browser.family[:100],
        "os": parsed.os.family[:100],
        "is_bot": parsed.is_bot,
    }
