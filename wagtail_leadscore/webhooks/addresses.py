"""The SSRF guard: a webhook may call a public address only, unless WEBHOOK_ALLOWED_HOSTS
names the host (e.g. a CRM inside the company network, or a test receiver on loopback).
The address is checked when the URL is saved and again, resolved, at every call; the call
then connects to the very address checked (no second DNS answer).

Public means: in none of the special-purpose ranges below (IANA's registries, multicast and
the reserved rest). The tables are ours, not ``ipaddress``'s ``is_global``, whose answers
differ between Python versions (3.11 calls multicast, NAT64 and 6to4 addresses global). An
IPv6 address that carries an IPv4 address (mapped, compatible, translated, NAT64, 6to4,
Teredo) is as public as that IPv4 address: ``64:ff9b::7f00:1`` reaches 127.0.0.1."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from ..conf import get_setting

NOT_PUBLIC_IPV4 = tuple(map(ipaddress.IPv4Network, (
    "0.0.0.0/8",  # "this network"
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # private
    "100.64.0.0/10",  # carrier-grade NAT
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local (cloud metadata services)
    "192.0.0.0/24",  # IETF protocol assignments
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",  # documentation
    "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
    "198.18.0.0/15",  # benchmarking
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, and the broadcast address 255.255.255.255
)))
NOT_PUBLIC_IPV6 = tuple(map(ipaddress.IPv6Network, (
    "64:ff9b:1::/48",  # local-use IPv4/IPv6 translation
    "100::/64",  # discard-only
    "2001::/23",  # IETF protocol assignments (Teredo, inside it, is judged by its IPv4)
    "2001:db8::/32", "3fff::/20",  # documentation
    "5f00::/16",  # segment routing (SRv6) identifiers
    "fc00::/7",  # unique local
    "fe80::/10", "fec0::/10",  # link-local, site-local (deprecated)
    "ff00::/8",  # multicast
)))
# IPv6 forms whose last 32 bits are an IPv4 address (IPv4-mapped is unwrapped by as_ip).
IPV4_IN_LAST_32_BITS = tuple(map(ipaddress.IPv6Network, (
    "::/96",  # IPv4-compatible (deprecated); :: and ::1 carry 0.0.0.0 and 0.0.0.1
    "::ffff:0:0:0/96",  # IPv4-translated (SIIT)
    "64:ff9b::/96",  # NAT64, the well-known prefix
)))
TEREDO = ipaddress.IPv6Network("2001::/32")


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
            if not is_public(address):
                raise RefusedAddress(_(
                    "Refused: %(host)s is a private, loopback or reserved address (%(ip)s). "
                    "Name the host in WAGTAIL_LEADSCORE['WEBHOOK_ALLOWED_HOSTS'] to allow it."
                ) % {"host": host, "ip": address})
    return parts.scheme, host, port, addresses


def as_ip(value):
    """The address a host names, or None for a name; IPv4-mapped IPv6 as its IPv4 address
    (the call then goes over IPv4)."""
    try:
        address = ipaddress.ip_address(value.strip("[]").split("%")[0])
    except ValueError:
        return None
    return address.ipv4_mapped or address if address.version == 6 else address


def is_public(address):
    """Whether a call to ``address`` leaves for the internet (see the module docstring)."""
    if address.version == 4:
        return not any(address in network for network in NOT_PUBLIC_IPV4)
    carried = embedded_ipv4(address)
    if carried:
        return all(map(is_public, carried))
    return not any(address in network for network in NOT_PUBLIC_IPV6)


def embedded_ipv4(address):
    """The IPv4 addresses an IPv6 address carries, () if none: Teredo carries its server's
    and its client's, 6to4 its gateway's, the /96 forms theirs in the last 32 bits."""
    if address in TEREDO:
        return address.teredo
    if address.sixtofour is not None:
        return (address.sixtofour,)
    if any(address in network for network in IPV4_IN_LAST_32_BITS):
        return (ipaddress.IPv4Address(int(address) & 0xFFFFFFFF),)
    return ()
