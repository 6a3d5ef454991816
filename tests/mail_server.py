"""A real SMTP server on loopback (aiosmtpd), for tests that read what actually arrives."""

import asyncio
import email
import email.policy
import socket
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """The aiosmtpd handler: every accepted message, parsed. ``refuse`` holds addresses it
    answers 550 for (a hard bounce). ``answer()`` scripts temporary refusals (greylisting).
    ``hold_after(n)``: once n messages arrived, the next RCPT waits (``holding`` is set)
    until ``release()``, so a sending worker can be killed in the middle of a batch, before
    its message was accepted."""

    def __init__(self):
        self.messages = []
        self.refuse = set()
        self.replies = {}
        self.lock = threading.Lock()
        self.held_after = None
        self.holding = threading.Event()
        self.released = threading.Event()

    def answer(self, command, *replies, address=None):
        """Answer ``command`` ("CONNECT", "MAIL", "RCPT" or "DATA"; RCPT for ``address``
        only) with ``replies`` in turn, then as usual. Greylisting is
        ``answer("RCPT", "450 4.2.0 Greylisted, try later", address="new@example.com")``."""
        with self.lock:
            self.replies.setdefault((command, address), []).extend(replies)

    def scripted(self, command, address=None):
        """The next scripted reply to ``command``, or None: answer as usual."""
        with self.lock:
            replies = self.replies.get((command, address))
            return replies.pop(0) if replies else None

    def hold_after(self, count):
        self.held_after = count

    def release(self):
        self.released.set()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if reply := self.scripted("MAIL"):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user"
        if reply := self.scripted("RCPT", address):
            return reply
        if self.held_after is not None and len(self.messages) >= self.held_after:
            self.holding.set()
            while not self.released.is_set():
                await asyncio.sleep(0.01)
            return "421 4.3.0 Closing"  # the client is gone by now
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if reply := self.scripted("DATA"):
            return reply
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.messages.append(parsed)
        return "250 Message accepted for delivery"

    def to(self, address):
        return [message for message in self.messages if message["To"] == address]


class ScriptedSMTP(SMTP):
    """Greets with the inbox's scripted "CONNECT" reply (a "421 too busy") and hangs up, if
    there is one: aiosmtpd has no handler hook for the greeting."""

    async def _handle_client(self):
        reply = self.event_handler.scripted("CONNECT")
        if reply is None:
            return await super()._handle_client()
        await self.push(reply)
        self.transport.close()


class ScriptedController(Controller):
    def factory(self):
        return ScriptedSMTP(self.handler, **self.SMTP_kwargs)


class MailServer:
    def __init__(self):
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = None

    def start(self):
        self.controller = ScriptedController(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def html_part(message):
    return message.get_body(("html",)).get_content()


def text_part(message):
    return message.get_body(("plain",)).get_content()
