"""Webhooks through public surfaces: an automation rule's "call a webhook" reaches a real
HTTP receiver on loopback, which checks the signature; failures are retried with backoff
and switch a failing endpoint off; private addresses are refused clearly; the delivery log
and replay in the admin."""

import datetime
import hashlib
import hmac
import json
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from wagtail_leadscore.webhooks.delivery import deliver_due
from wagtail_leadscore.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery

from .test_api import EVENTS, post
from .test_automation import rule, submit

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
# Addresses a webhook may not call, with why. An IPv6 address that carries an IPv4 address
# is judged by that IPv4 address.
REFUSED_ADDRESSES = {
    "64:ff9b::a9fe:a9fe": "NAT64 of link-local", "64:ff9b::7f00:1": "NAT64 of loopback",
    "2002:a9fe:a9fe::": "6to4 of link-local", "::a9fe:a9fe": "IPv4-compatible link-local",
    "::127.0.0.1": "IPv4-compatible loopback", "224.0.0.1": "multicast",
    "64:ff9b::e000:1": "NAT64 of multicast", "64:ff9b:1::808:808": "local-use NAT64",
    "2002:7f00:1::1": "6to4 of loopback", "::ffff:127.0.0.1": "IPv4-mapped loopback",
    "::ffff:169.254.169.254": "IPv4-mapped link-local",
    "::ffff:0:a00:1": "IPv4-translated private",
    "2001:0:4136:e378:8000:63bf:80ff:fffe": "Teredo, client 127.0.0.1",
    "2001:0:a00:1:8000:63bf:f7f7:f7f7": "Teredo, server 10.0.0.1",
    "127.0.0.2": "loopback", "::1": "loopback", "10.1.2.3": "private",
    "172.16.0.1": "private", "192.168.1.1": "private", "fd12:3456::1": "unique local",
    "169.254.169.254": "link-local (cloud metadata)", "fe80::1": "link-local",
    "fec0::1": "site-local (deprecated)", "0.0.0.0": "this host", "::": "unspecified",
    "100.64.0.1": "carrier-grade NAT", "198.18.0.1": "benchmarking",
    "198.19.255.254": "benchmarking", "192.0.2.1": "documentation",
    "198.51.100.7": "documentation", "203.0.113.9": "documentation",
    "2001:db8::1": "documentation", "3fff::1": "documentation",
    "239.255.255.250": "multicast (SSDP)", "ff02::1": "multicast", "ff0e::1": "multicast",
    "240.0.0.1": "reserved", "255.255.255.255": "broadcast",
    "192.0.0.8": "IETF protocol assignments", "192.88.99.1": "6to4 relay anycast (deprecated)",
    "100::1": "discard-only",
}
PUBLIC_ADDRESSES = (
    "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2001:4860:4860::8888",
    "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
    "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo: server and client public
)


class Receiver:
    """An HTTP server on loopback that answers with ``statuses`` in turn (then 200)."""

    def __init__(self, tls_files=None):
        self.requests, self.statuses = [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.path, dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"boom" if status >= 500 else b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls_files:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls_files)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_port}/hooks/leadscore?source=test"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings_leadscore):
    settings_leadscore(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])
    started = Receiver()
    yield started
    started.close()


def verified(secret, headers, body):
    """What a receiver does: recompute the HMAC over "<timestamp>.<body>"."""
    parts = dict(part.split("=", 1) for part in headers["X-Leadscore-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(parts["v1"], expected.hexdigest())


def crm(url):
    hook = Webhook(name="CRM", url=url)
    hook.full_clean()
    hook.save()
    return hook


def test_a_rule_calls_a_webhook_with_a_signed_payload(client, api_key, receiver):
    hook = crm(receiver.url)
    rule("Quotes to the CRM", "form_submitted", value="quote-request",
         actions=[("webhook", {"webhook": hook.pk})])
    submit(client, api_key, "buyer@example.com", company="Builders & Co", budget=60000)
    assert receiver.requests == []  # queued, never called in the request
    assert deliver_due() == {"delivered": 1}
    assert deliver_due() == {}
    [(path, headers, body)] = receiver.requests
    assert path == "/hooks/leadscore?source=test"
    assert verified(hook.secret, headers, body)
    assert not verified("another secret", headers, body)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Leadscore-Event"] == "automation"
    payload = json.loads(body)
    assert payload["event"] == "automation" and payload["version"] == 1
    contact = payload["data"]["contact"]
    assert (contact["email"], contact["company"], contact["facts"]["budget"]) == (
        "buyer@example.com", "Builders & Co", 60000)
    assert payload["data"]["rule"]["name"] == "Quotes to the CRM"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_status, delivery.attempts) == (
        DeliveryStatus.DELIVERED, 200, 1)


def test_a_500_is_retried_with_backoff(client, api_key, receiver, time_machine):
    time_machine.move_to(T0, tick=False)
    receiver.statuses = [500, 503]
    hook = crm(receiver.url)
    rule("To the CRM", "form_submitted", actions=[("webhook", {"webhook": hook.pk})])
    submit(client, api_key, "buyer@example.com")
    assert deliver_due() == {"retry": 1}
    delivery = WebhookDelivery.objects.get()
    assert delivery.response_status == 500 and "HTTP 500: boom" in delivery.last_error
    assert deliver_due() == {}  # not yet: it waits a minute
    time_machine.move_to(T0 + datetime.timedelta(seconds=61), tick=False)
    assert deliver_due() == {"retry": 1}  # 503; then two minutes
    time_machine.move_to(T0 + datetime.timedelta(seconds=61 + 119), tick=False)
    assert deliver_due() == {}
    time_machine.move_to(T0 + datetime.timedelta(seconds=61 + 121), tick=False)
    assert deliver_due() == {"delivered": 1}
    assert len(receiver.requests) == 3
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 3)
    hook.refresh_from_db()
    assert hook.consecutive_failures == 0 and hook.is_active


def test_an_endpoint_failing_again_and_again_is_switched_off_and_its_calls_wait(
        client, api_key, receiver, settings_leadscore, time_machine):
    time_machine.move_to(T0, tick=False)
    settings_leadscore(WEBHOOK_DISABLE_AFTER=2, WEBHOOK_RETRY_SECONDS=1)
    receiver.statuses = [500, 500]
    hook = crm(receiver.url)
    rule("To the CRM", "form_submitted", actions=[("webhook", {"webhook": hook.pk})])
    submit(client, api_key, "buyer@example.com")
    deliver_due()
    time_machine.move_to(T0 + datetime.timedelta(seconds=5), tick=False)
    deliver_due()
    hook.refresh_from_db()
    assert not hook.is_active and "after 2 failures" in hook.disabled_reason
    time_machine.move_to(T0 + datetime.timedelta(hours=1), tick=False)
    assert deliver_due() == {}  # kept, not lost
    assert WebhookDelivery.objects.get().status == DeliveryStatus.QUEUED
    hook.is_active = True
    hook.save()
    assert deliver_due() == {"delivered": 1}


def test_private_and_loopback_addresses_are_refused_clearly(client, api_key, admin_client,
                                                           settings_leadscore):
    add = reverse("wagtailsnippets_wagtail_leadscore_webhook:add")
    for url in ("http://127.0.0.1:8080/hook", "http://10.0.0.7/hook", "http://[::1]/hook",
                "http://169.254.169.254/latest/meta-data"):
        response = admin_client.post(add, {"name": "Inside", "url": url, "secret": "s",
                                           "is_active": "on"})
        assert response.status_code == 200, url
        assert "private, loopback or reserved address" in response.content.decode()
    assert not Webhook.objects.exists()
    # A name that resolves to loopback passes the form, and is refused at call time.
    hook = Webhook.objects.create(name="Sneaky", url="http://localhost:9/hook")
    rule("To the CRM", "form_submitted", actions=[("webhook", {"webhook": hook.pk})])
    submit(client, api_key, "buyer@example.com")
    assert deliver_due() == {"refused": 1}
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "Refused: localhost is a private, loopback or reserved address (127.0.0.1)" in \
        delivery.last_error
    assert "WEBHOOK_ALLOWED_HOSTS" in delivery.last_error


def url_of(address, path="/hook"):
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}{path}"


def test_every_non_public_address_is_refused_when_the_url_is_saved(admin_client):
    """The model's validation, which the admin's form shows (one admin POST proves it)."""
    from django.core.exceptions import ValidationError

    for address, why in REFUSED_ADDRESSES.items():
        with pytest.raises(ValidationError) as refused:
            Webhook(name="Inside", url=url_of(address)).full_clean()
        assert "private, loopback or reserved address" in refused.value.message_dict["url"][0], (
            address, why)
    for address in PUBLIC_ADDRESSES:
        Webhook(name="CRM", url=url_of(address)).full_clean()
    add = reverse("wagtailsnippets_wagtail_leadscore_webhook:add")
    response = admin_client.post(add, {"name": "Inside", "url": url_of("64:ff9b::a9fe:a9fe"),
                                       "secret": "s", "is_active": "on"})
    assert "private, loopback or reserved address" in response.content.decode()
    assert not Webhook.objects.exists()


@pytest.fixture
def dns(monkeypatch):
    """A resolver for names under .test: ``dns["name.test"] = "address"``; other names
    resolve as usual."""
    records, real_getaddrinfo = {}, socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in records:
            return real_getaddrinfo(host, port, *args, **kwargs)
        address = records[host]
        if ":" in address:
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return records


def test_a_host_name_resolving_to_a_non_public_address_is_refused_at_call_time(
        client, api_key, dns):
    for number, address in enumerate(REFUSED_ADDRESSES):
        dns[f"crm{number}.example.test"] = address
        crm(f"http://crm{number}.example.test/hook")  # a name passes when saved
    Webhook.objects.update(events=["form_submit"])
    submit(client, api_key, "buyer@example.com")
    assert deliver_due() == {"refused": len(REFUSED_ADDRESSES)}
    for number, address in enumerate(REFUSED_ADDRESSES):
        delivery = WebhookDelivery.objects.get(webhook__url=f"http://crm{number}.example.test/hook")
        assert delivery.status == DeliveryStatus.FAILED
        assert f"Refused: crm{number}.example.test is a private, loopback or reserved " \
            "address" in delivery.last_error, address


def test_the_delivery_log_shows_calls_and_replays_one(client, api_key, admin_client,
                                                      receiver):
    hook = crm(receiver.url)
    rule("To the CRM", "form_submitted", actions=[("webhook", {"webhook": hook.pk})])
    submit(client, api_key, "buyer@example.com")
    deliver_due()
    listing = admin_client.get(reverse("wagtailsnippets_wagtail_leadscore_webhook:list"))
    deliveries_url = reverse("wagtailsnippets_wagtail_leadscore_webhook:deliveries",
                             args=[hook.pk])
    assert deliveries_url in listing.content.decode()
    log = admin_client.get(deliveries_url)
    assert log.status_code == 200 and 'data-leadscore-delivery="delivered"' in \
        log.content.decode()
    delivery = WebhookDelivery.objects.get()
    replay_url = reverse("wagtailsnippets_wagtail_leadscore_webhook:replay", args=[delivery.pk])
    assert admin_client.get(replay_url).status_code == 405
    assert admin_client.post(replay_url).status_code == 302
    assert deliver_due() == {"delivered": 1}
    assert len(receiver.requests) == 2 and receiver.requests[0][2] == receiver.requests[1][2]


def test_https_certificates_are_verified(client, api_key, settings_leadscore, tmp_path):
    """A self-signed certificate is refused (a retry with the TLS error): the call goes to
    the checked address, and TLS still verifies the URL's host."""
    settings_leadscore(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    receiver = Receiver(tls_files=(cert, key))
    try:
        hook = crm(receiver.url)
        rule("To the CRM", "form_submitted", actions=[("webhook", {"webhook": hook.pk})])
        submit(client, api_key, "buyer@example.com")
        assert deliver_due() == {"retry": 1}
    finally:
        receiver.close()
    assert "CERTIFICATE_VERIFY_FAILED" in WebhookDelivery.objects.get().last_error
    assert receiver.requests == []


def test_the_delivery_log_refuses_users_without_permission(client, django_user_model):
    from django.contrib.auth.models import Permission

    hook = Webhook.objects.create(name="CRM", url="https://crm.example.com/hook")
    editor = django_user_model.objects.create_user("editor", password="pw")
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    for name, method in (("deliveries", client.get), ("replay", client.post)):
        url = reverse(f"wagtailsnippets_wagtail_leadscore_webhook:{name}", args=[hook.pk])
        assert method(url).status_code in (302, 403), name


def test_a_webhook_hears_every_event_of_the_types_it_chose(client, api_key, admin_client,
                                                          receiver):
    from wagtail_leadscore.lifecycle.stages import Stage
    from wagtail_leadscore.lifecycle.transitions import change_stage

    add = reverse("wagtailsnippets_wagtail_leadscore_webhook:add")
    form = admin_client.get(add).content.decode()
    assert 'value="lead_qualified"' in form and 'value="stage_change"' in form
    response = admin_client.post(add, {"name": "Phone system", "url": receiver.url,
                                       "secret": "s3cret", "is_active": "on",
                                       "events": ["stage_change", "form_submit"]})
    assert response.status_code == 302
    hook = Webhook.objects.get()
    assert hook.events == ["stage_change", "form_submit"]
    contact = submit(client, api_key, "buyer@example.com", company="Builders & Co")
    change_stage(contact, Stage.SAL, reason="called back")
    post(client, EVENTS, {"type": "custom", "name": "calculator_used",
                          "email": "buyer@example.com", "id": "calc"}, key=api_key)
    assert deliver_due() == {"delivered": 2}
    payloads = [json.loads(body) for _, _, body in receiver.requests]
    assert [payload["event"] for payload in payloads] == ["form_submit", "stage_change"]
    change = payloads[1]["data"]
    assert change["properties"]["reason"] == "called back"
    assert change["contact"]["stage"] == Stage.SAL and change["contact"]["company"] == \
        "Builders & Co"
    assert all(verified("s3cret", headers, body) for _, headers, body in receiver.requests)


def test_unknown_event_types_are_refused():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Unknown event types: page_veiw"):
        Webhook(name="Typo", url="https://crm.example.com/", events=["page_veiw"]).full_clean()
