"""A message as it is sent: the email's body rendered for its contact (merge fields filled),
every web link rewritten to its signed click redirect, the open pixel, a plain-text part,
and the one-click unsubscribe headers of RFC 8058 for marketing email.

The expensive part (the template, parsing the HTML, the plain-text part) is done once per
email and batch (:class:`PreparedEmail`); each message then only fills merge fields and
signed links into the prepared text."""

import hashlib
from urllib.parse import urlsplit

from bs4 import BeautifulSoup
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .links import CLICK_SALT, OPEN_SALT, UNSUBSCRIBE_SALT, absolute, link_template, sign
from .merge import merge
from .models import EmailKind

TRACKED_SCHEMES = ("http", "https")
# Stand-ins for what differs per message, filled in by PreparedEmail.build.
LINK_MARK = "leadscore-link-{}-mark"
OPEN_MARK = "leadscore-open-mark"
UNSUBSCRIBE_MARK = "leadscore-unsubscribe-mark"
DOSSIER_MARK = "leadscore-dossier-mark"  # the lead summary block


class PreparedEmail:
    """``email`` rendered and parsed once: HTML and text with marks where each message's
    signed links go, and the destinations of the tracked links (merge fields not filled).
    Untracked (``tracked=False``, email about a contact to someone else): links as they
    are, no pixel, no unsubscribe."""

    def __init__(self, email, tracked=True):
        self.email = email
        self.marketing = tracked and email.kind == EmailKind.MARKETING
        html = render_to_string("wagtail_leadscore/mail/email.html", {
            "email": email, "unsubscribe_url": UNSUBSCRIBE_MARK if self.marketing else None})
        soup = BeautifulSoup(html, "html.parser")
        self.links = rewrite_links(soup) if tracked else []
        if not tracked:
            for anchor in soup.find_all("a", href=True):
                anchor["href"] = absolute(anchor["href"].strip())
        self.text = text_part(soup)
        if tracked:
            pixel = soup.new_tag("img", src=OPEN_MARK, width="1", height="1", alt="",
                                 style="display:block;border:0")
            (soup.body or soup).append(pixel)
        self.html = str(soup)
        self.tracked = tracked
        self.urls = {name: link_template(name)
                     for name in ("mail_click", "mail_open", "mail_unsubscribe")}

    def build(self, message):
        """(EmailMultiAlternatives, the destinations of its tracked links) for an outbox row
        of this email."""
        contact = message.contact
        html, text = merge(self.html, contact, html=True), merge(self.text, contact)
        unsubscribe = (self.url("mail_unsubscribe", UNSUBSCRIBE_SALT, message.pk)
                       if self.marketing else None)
        marks = [(LINK_MARK.format(index), self.url("mail_click", CLICK_SALT, message.pk, index))
                 for index in range(len(self.links))]
        if self.tracked:
            marks.append((OPEN_MARK, self.url("mail_open", OPEN_SALT, message.pk)))
        if unsubscribe:
            marks.append((UNSUBSCRIBE_MARK, unsubscribe))
        for mark, url in marks:
            html, text = html.replace(mark, url), text.replace(mark, url)
        if DOSSIER_MARK in html:
            from ..sales.dossier import render_dossier

            dossier_html, dossier_text = render_dossier(message)
            html = html.replace(DOSSIER_MARK, dossier_html)
            text = text.replace(DOSSIER_MARK, dossier_text.strip())
        mail = EmailMultiAlternatives(
            subject=merge(self.email.subject, contact), body=text,
            from_email=self.email.from_email or settings.DEFAULT_FROM_EMAIL,
            to=[message.to_email or contact.email], headers=headers(message, unsubscribe))
        mail.attach_alternative(html, "text/html")
        return mail, [merge(link, contact) for link in self.links]

    def url(self, name, salt, *numbers):
        return self.urls[name].replace("TOKEN", sign(salt, *numbers))


def rewrite_links(soup):
    """Mark every http(s) link for its click redirect; returns the original destinations
    (absolute), in the order of the marks. Other links (mailto:, tel:, #anchors) and the
    unsubscribe link stay as they are."""
    links = []
    for anchor in soup.find_all("a", href=True):
        href = anchor["href"].strip()
        destination = absolute(href)
        if href == UNSUBSCRIBE_MARK or urlsplit(destination).scheme not in TRACKED_SCHEMES:
            continue
        anchor["href"] = LINK_MARK.format(len(links))
        links.append(destination)
    return links


def text_part(soup):
    """The plain-text alternative: the text of the HTML, each link followed by its URL."""
    copy = BeautifulSoup(str(soup), "html.parser")
    for hidden in copy.select("[data-leadscore-hidden]"):
        hidden.decompose()
    for anchor in copy.find_all("a", href=True):
        label = anchor.get_text(" ", strip=True)
        anchor.replace_with(f"{label} ({anchor['href']})" if label else anchor["href"])
    for block in copy.find_all(["p", "h1", "h2", "h3", "li", "tr"]):
        block.append("\n")
    lines = (line.strip() for line in copy.get_text().splitlines())
    return "\n".join(line for line in lines if line).replace("\n", "\n\n") + "\n"


def headers(message, unsubscribe):
    domain = urlsplit(absolute("/")).hostname or "localhost"
    digest = hashlib.sha256(message.key.encode()).hexdigest()[:32]
    result = {"Message-ID": f"<{digest}@{domain}>"}  # the same on a retry of the same row
    if unsubscribe:
        result["List-Unsubscribe"] = f"<{unsubscribe}>"
        result["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return result
