"""One signed POST to a checked address: the connection goes to the address the guard
resolved, with the URL's host name in the Host header and for TLS (SNI, certificate).
Redirects are not followed (a redirect could lead anywhere): a 3xx is a failure."""

import hashlib
import hmac
import http.client
import socket
import ssl
from urllib.parse import urlsplit

from .addresses import check_url

SIGNATURE_HEADER = "X-Leadscore-Signature"
RESPONSE_EXCERPT = 1000


def signature(secret, timestamp, body):
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``: the receiver recomputes it
    and refuses a stale timestamp (a replay)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


class PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((str(self.address), self.port), self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        sock = socket.create_connection((str(self.address), self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url, body, headers, timeout):
    """POST ``body`` (bytes); returns (status, the first bytes of the answer as text).
    Raises RefusedAddress for a URL the guard refuses, OSError for network failures."""
    scheme, host, port, addresses = check_url(url)
    connection_class = PinnedHTTPSConnection if scheme == "https" else PinnedHTTPConnection
    connection = connection_class(host, port, addresses[0], timeout)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers={
            "Content-Type": "application/json", "User-Agent": "wagtail-leadscore", **headers})
        response = connection.getresponse()
        excerpt = response.read(RESPONSE_EXCERPT).decode("utf-8", errors="replace")
        return response.status, excerpt
    finally:
        connection.close()
