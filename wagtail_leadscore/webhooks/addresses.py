"""The SSRF guard: a webhook may call a public address only, unless WEBHOOK_ALLOWED_HOSTS
names the host (e.g. a CRM inside the company network, or a test receiver on loopback).
The address is checked when the URL is saved and again, resolved, at every call; the call
then connects to the very address checked (no second DNS answer)."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from ..conf import get_setting


class RefusedAddress(ValueError):
    """The URL may not be called; the message says why, for the admin and the log."""


def check_url(url, resolve=True):
    """(scheme, host, port, [addresses]) of a URL a webhook may call; raises
    RefusedAddress. Without ``resolve``, only what the URL itself shows is checked."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedAddress(_("Only http:// and https:// URLs with a host can be called."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise RefusedAddress(_("The port is not a number.")) from None
    host = parts.hostname
    allowed = host in get_setting("WEBHOOK_ALLOWED_HOSTS")
    literal = as_ip(host)
    if literal is not None:
        addresses = [literal]
    elif not resolve:
        return parts.scheme, host, port, []
    else:
        try:
            addresses = sorted({as_ip(info[4][0]) for info in socket.getaddrinfo(
                host, port, type=socket.SOCK_STREAM)}, key=str)
        except (socket.gaierror, UnicodeError):
            raise RefusedAddress(_("The host %(host)s does not resolve.") % {"host": host}) \
                from None
    if not allowed:
        for address in addresses:
            if not address.is_global:
                raise RefusedAddress(_(
                    "Refused: %(host)s is a private, loopback or reserved address (%(ip)s). "
                    "Name the host in WAGTAIL_LEADSCORE['WEBHOOK_ALLOWED_HOSTS'] to allow it."
                ) % {"host": host, "ip": address})
    return parts.scheme, host, port, addresses


def as_ip(value):
    try:
        address = ipaddress.ip_address(value.strip("[]").split("%")[0])
    except ValueError:
        return None
    return address.ipv4_mapped or address if address.version == 6 else address
