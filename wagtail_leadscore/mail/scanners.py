"""Mail scanners: security gateways that fetch every link of a message as it arrives, and
link checkers. Their clicks are recorded (``email_scan``) but earn no points, identify
nobody and trigger nothing; GET never unsubscribes anyone (the page asks for a POST)."""

import re
from functools import lru_cache

from django.utils import timezone

from ..conf import get_setting
from ..tracking.filters import request_is_bot

# Security gateways and link checkers that look like a browser otherwise.
SCANNER_PATTERN = re.compile(
    r"barracuda|proofpoint|mimecast|messagelabs|symantec|ironport|trend ?micro|sophos|"
    r"forcepoint|fortinet|fortimail|zscaler|safelinks|linkscanner|urldefense|"
    r"microsoft office|ms-office|outlook-ios|googleimageproxy|yahoomailproxy",
    re.IGNORECASE,
)


@lru_cache(maxsize=1024)
def _is_scanner_agent(user_agent, extra_patterns):
    return bool(SCANNER_PATTERN.search(user_agent)) or any(
        re.search(pattern, user_agent, re.IGNORECASE) for pattern in extra_patterns)


def is_scanner(request, message):
    """A bot or a known scanner by its User-Agent, or a click within MAIL_SCANNER_SECONDS of
    delivery (scanners fetch every link of a message the moment it arrives)."""
    if request_is_bot(request):
        return True
    if _is_scanner_agent(request.META.get("HTTP_USER_AGENT", "")[:512],
                         tuple(get_setting("MAIL_SCANNER_USER_AGENTS"))):
        return True
    seconds = get_setting("MAIL_SCANNER_SECONDS")
    return bool(message.sent_at and seconds
                and (timezone.now() - message.sent_at).total_seconds() < seconds)
