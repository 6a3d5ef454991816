"""The accept and send-back links of a sales alert. A GET shows the lead and one button
(mail scanners fetch links: a GET changes nothing); the POST decides. The token signs the
alert's outbox row: tampered or unknown links answer 404, links older than
SALES_LINK_MAX_AGE 410 (the lead is decided in the admin then)."""

from django import forms
from django.http import Http404
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from ..lifecycle.stages import Stage
from ..lifecycle.transitions import change_stage
from ..mail.links import expired_page, outlived, unsign
from ..mail.models import OutboxMessage, Status
from ..ratelimit import rate_limited
from .dossier import ACCEPT_SALT, SEND_BACK_SALT
from .models import SalesHandoff


def alert_message(salt, token):
    numbers = unsign(salt, token, 1)
    message = (OutboxMessage.objects.select_related("contact", "contact__owner")
               .filter(pk=numbers[0], status=Status.SENT, source="lead_alert").first()
               if numbers else None)
    if message is None:
        raise Http404("Unknown link.")
    return message


def expired(request):
    return expired_page(request, _(
        "Links in a lead alert work for a limited time. Open the contact in the Wagtail "
        "admin to accept the lead or send it back."))


def decided_by(message):
    """The owner, when the alert went to the owner's address (else the team's: nobody)."""
    owner = message.contact.owner
    return owner if owner is not None and owner.email == message.to_email else None


class SendBackForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why?"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3}))
    enrol = forms.BooleanField(required=False, initial=True)


def page(request, message, **context):
    response = render(request, "wagtail_leadscore/sales/decision.html", {
        "contact": message.contact, "is_lead": message.contact.stage == Stage.LEAD, **context})
    add_never_cache_headers(response)
    return response


@rate_limited("mail", "MAIL_LINK_RATE_LIMIT")
@require_http_methods(["GET", "HEAD", "POST"])
def accept(request, token):
    message = alert_message(ACCEPT_SALT, token)
    if outlived(message, "SALES_LINK_MAX_AGE"):
        return expired(request)
    contact = message.contact
    if request.method == "POST" and contact.stage == Stage.LEAD:
        change_stage(contact, Stage.SAL, by=decided_by(message), via="sales_alert",
                     reason=_("accepted from the alert to %(address)s") % {
                         "address": message.to_email})
        return page(request, message, done=_("Accepted: the lead is yours."))
    return page(request, message, action="accept")


@rate_limited("mail", "MAIL_LINK_RATE_LIMIT")
@require_http_methods(["GET", "HEAD", "POST"])
def send_back(request, token):
    message = alert_message(SEND_BACK_SALT, token)
    if outlived(message, "SALES_LINK_MAX_AGE"):
        return expired(request)
    contact = message.contact
    sequence = SalesHandoff.load().send_back_sequence
    form = SendBackForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and contact.stage == Stage.LEAD and form.is_valid():
        change_stage(contact, Stage.NURTURE, by=decided_by(message), via="sales_alert",
                     reason=form.cleaned_data["reason"])
        if sequence is not None and form.cleaned_data["enrol"]:
            from ..nurture.scheduler import enrol

            enrol(contact, sequence)
        return page(request, message, done=_("Sent back to nurturing."))
    return page(request, message, action="send_back", form=form, sequence=sequence)
