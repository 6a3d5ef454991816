"""Machines reading mail: security gateways that fetch every link and image of a message as it
arrives, link checkers, and the image proxies and privacy features that load its open pixel
without anyone reading (Apple's Mail Privacy Protection, Gmail's and Yahoo's proxies). Their
clicks are recorded as ``email_scan`` and their opens as ``email_machine_open``: neither
earns points, identifies anybody, counts as an open or a click, or triggers anything; GET
never unsubscribes anyone (the page asks for a POST)."""

import re
from functools import lru_cache

from django.utils import timezone

from ..conf import get_setting
from ..tracking.filters import request_is_bot, request_user_agent

# Security gateways and link checkers that look like a browser otherwise. (Image proxies are
# in the bot filter's crawler list; Apple's proxy sends a bare "Mozilla/5.0", a bot too.)
SCANNER_PATTERN = re.compile(
    r"barracuda|proofpoint|mimecast|messagelabs|symantec|ironport|trend ?micro|sophos|"
    r"forcepoint|fortinet|fortimail|zscaler|safelinks|linkscanner|urldefense",
    re.IGNORECASE,
)

# Office apps fetch a clicked link themselves before the browser opens it. Outlook for
# Windows says "ms-office" too when it loads a message's images, which it does only to show
# the message to its reader: for the pixel, these agents are people.
LINK_FETCHER_PATTERN = re.compile(r"microsoft office|ms-office|outlook-ios", re.IGNORECASE)


@lru_cache(maxsize=1024)
def _is_scanner_agent(user_agent, extra_patterns):
    return bool(SCANNER_PATTERN.search(user_agent)) or any(
        re.search(pattern, user_agent, re.IGNORECASE) for pattern in extra_patterns)


def delivered_just_now(message):
    """Within MAIL_SCANNER_SECONDS of delivery, when gateways fetch every link and image of a
    message (a person is rarely that fast, and comes back)."""
    seconds = get_setting("MAIL_SCANNER_SECONDS")
    return bool(message.sent_at and seconds
                and (timezone.now() - message.sent_at).total_seconds() < seconds)


def is_machine(request, message):
    """A bot (the image proxies among them), a known scanner by its User-Agent, or a request
    within MAIL_SCANNER_SECONDS of delivery: what loads the pixel without a person reading."""
    return (request_is_bot(request)
            or _is_scanner_agent(request_user_agent(request),
                                 tuple(get_setting("MAIL_SCANNER_USER_AGENTS")))
            or delivered_just_now(message))


def is_scanner(request, message):
    """A machine's click: :func:`is_machine`, or an Office app checking the link."""
    return (is_machine(request, message)
            or bool(LINK_FETCHER_PATTERN.search(request_user_agent(request))))
