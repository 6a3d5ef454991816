"""Who and what is never tracked: bots, refusals of consent, staff, previews, the admin."""

import re
from functools import cache, lru_cache

from crawleruseragents import CRAWLER_USER_AGENTS_DATA
from django.utils.module_loading import import_string
from user_agents import parse as parse_user_agent

from ..conf import get_setting

# What the crawler list misses: the words of bots' names, HTTP clients and API tools, Office
# apps checking a link before the browser opens it, and a bare "Mozilla/5.0" (Apple's Mail
# Privacy Protection proxy and scripts; no browser says so little). Case-insensitive.
CRAWLER_PATTERN = (
    r"bot|crawl|spider|slurp|scrap|headless|monitor|uptime|linkchecker|java/|postmanruntime/|"
    r"insomnia/|guzzlehttp/|^faraday v|^dart/|^reqwest/|^undici|^node$|^ruby|"
    r"^microsoft office|\(compatible; ms-office|^mozilla/5\.0$"
)


@cache
def known_bots():
    """The crawler-user-agents list (crawlers, link previews, HTTP libraries, monitors; its
    patterns case-sensitive, as the list writes them) and ours, as one regex: compiled once,
    on the first request that needs it."""
    crawler_list = "|".join(crawler["pattern"] for crawler in CRAWLER_USER_AGENTS_DATA)
    return re.compile(f"(?i:{CRAWLER_PATTERN})|{crawler_list}")


@lru_cache(maxsize=4096)
def is_bot_user_agent(user_agent, extra_patterns=()):
    """True for an empty user agent, for a known bot, for BOT_USER_AGENT_PATTERNS and for
    what user-agents calls a bot (checked once per user agent, the slowest last)."""
    if not user_agent.strip() or known_bots().search(user_agent):
        return True
    if any(re.search(pattern, user_agent, re.IGNORECASE) for pattern in extra_patterns):
        return True
    return describe_user_agent(user_agent)["is_bot"]


def request_user_agent(request):
    return request.META.get("HTTP_USER_AGENT", "")[:512]


def request_is_bot(request):
    return is_bot_user_agent(request_user_agent(request),
                             tuple(get_setting("BOT_USER_AGENT_PATTERNS")))


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
