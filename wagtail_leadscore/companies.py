"""Companies (accounts): which contacts belong to one, and its account score.

A contact saved without a company gets the one whose domain its address has; a company
saved with a domain takes the contacts of that domain that have none. A company set by
hand stays."""

from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from .scoring.models import GLOBAL, Score

# Addresses at these domains tell nothing about the employer.
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com",
    "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de",
    "web.de", "mail.com", "yandex.com", "wp.pl", "o2.pl", "onet.pl", "interia.pl",
})


def normalize_domain(domain):
    """``"@Example.COM "`` -> ``"example.com"``; empty -> None (no domain, no matching)."""
    domain = (domain or "").strip().lstrip("@").rstrip(".").lower()
    return domain or None


def email_domain(email):
    return email.rpartition("@")[2].lower() if "@" in (email or "") else None


def company_of_email(email):
    """The company of this address's domain, or None."""
    from .models import Company

    domain = email_domain(email)
    if not domain or domain in FREE_MAIL_DOMAINS:
        return None
    return Company.objects.filter(domain=domain).first()


def attach_domain_contacts(company):
    """Give ``company`` the contacts at its domain that have no company yet."""
    if company.domain and company.domain not in FREE_MAIL_DOMAINS:
        company.contacts.model.objects.filter(
            account__isnull=True, email__endswith=f"@{company.domain}").update(account=company)


def account_score_column():
    """A company queryset's account score, for ``annotate``: the sum of its contacts'
    global scores (0 without any)."""
    return Coalesce(Subquery(
        Score.objects.filter(contact__account=OuterRef("pk"), dimension=GLOBAL)
        .values("contact__account").annotate(total=Sum("value")).values("total")), 0)
