"""Receiving a progressive form: the page's own URL gets the POST (``before_serve_page``),
so a form works without JavaScript, behind the page's view restrictions, with Django's
CSRF protection. A valid submission is stored, identifies the visitor and records a
``form_submit`` event; then the browser is redirected (no resubmission on reload)."""

from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from wagtail.blocks import StreamValue, StructValue
from wagtail.blocks.list_block import ListValue

from ..conf import get_setting
from ..events import record_event_or_defer
from ..identity import differing_facts, identify_contact
from ..ratelimit import is_rate_limited
from .forms import BLOCK_FIELD, TOKEN_FIELD, token_nonce
from .gates import remember_unlock
from .models import ConsentRecord, ProfileSubmission
from .questions import CONSENT
from .visitors import known_answers, linked_contact

SENT_PARAM = "leadscore_sent"


def form_blocks(page):
    """(id, block, value) of every progressive form in the page's StreamFields, however
    deep. A form that is a StreamField item has that item's id; one that is a field of a
    StructBlock item (a gate's form) has ``<item id>.<field name>``."""
    from wagtail.fields import StreamField

    from ..blocks import ProgressiveFormBlock

    def walk(block, value, block_id):
        if isinstance(block, ProgressiveFormBlock):
            yield block_id, block, value
        elif isinstance(value, StreamValue):
            for child in value:
                yield from walk(child.block, child.value, child.id)
        elif isinstance(value, StructValue):
            for name, item in value.items():
                yield from walk(block.child_blocks[name], item, f"{block_id}.{name}")
        elif isinstance(value, ListValue):
            for child in value.bound_blocks:
                yield from walk(block.child_block, child.value, child.id)

    for field in page._meta.get_fields():
        if isinstance(field, StreamField):
            yield from walk(field.stream_block, getattr(page, field.name), None)


def find_form_block_id(page, value):
    """The id of the progressive form whose value is ``value`` on ``page``."""
    return next((block_id for block_id, _, form in form_blocks(page) if form is value), None)


def find_form_block(page, block_id):
    """(block, value) of the progressive form ``block_id`` on ``page``, or None."""
    return next(((block, value) for found_id, block, value in form_blocks(page)
                 if found_id == block_id and block_id is not None), None)


def receive_form(page, request, serve_args, serve_kwargs):
    """The ``before_serve_page`` hook: a POST of a progressive form on this page."""
    if request.method != "POST" or BLOCK_FIELD not in request.POST:
        return None
    page = page.specific
    found = find_form_block(page, request.POST[BLOCK_FIELD])
    if found is None:
        return HttpResponseBadRequest(_("This form is no longer on the page."))
    if is_rate_limited(request, "form", get_setting("FORM_RATE_LIMIT")):
        return HttpResponse(_("Too many submissions. Please try again in a minute."),
                            status=429)
    block, value = found
    block_id = request.POST[BLOCK_FIELD]
    # The same render sent again (a double click, the back button, a replay) was stored
    # already, whatever this browser would be asked now.
    nonce = token_nonce(request.POST.get(TOKEN_FIELD), block_id)
    if nonce and ProfileSubmission.objects.filter(token=nonce).exists():
        return sent(request, page, block_id, value)
    form = block.make_form(value, block_id, known_answers(request), data=request.POST)
    if form.is_valid():
        store_submission(request, page, block_id, value, form)
        return sent(request, page, block_id, value)
    request.leadscore_forms = {block_id: form}
    response = TemplateResponse(request, page.get_template(request, *serve_args, **serve_kwargs),
                                page.get_context(request, *serve_args, **serve_kwargs))
    add_never_cache_headers(response)
    return response


def sent(request, page, block_id, value):
    """After a submission: the page chosen by the editor, or this page with the success
    message in place of the form (a redirect: reloading it sends nothing again). The
    browser keeps what the form unlocked."""
    target = value["redirect_to"]
    url = (target.specific.url if target is not None and target.live
           else f"{page.url}?{SENT_PARAM}={block_id}#leadscore-form-{block_id}")
    response = HttpResponseRedirect(url)
    add_never_cache_headers(response)
    remember_unlock(request, response, page, block_id)
    return response


def store_submission(request, page, block_id, value, form):
    """A progressive form block's valid submission, stored once per form render."""
    consent = [key for key, question in form.questions.items() if question.kind == CONSENT]
    answers = form.answers()
    return record_profile(
        request, page, form_id=block_id, name=value["heading"] or page.title,
        answers=answers, facts={key: answer for key, answer in answers.items()
                                if key not in consent and key != "email"},
        consent_text=value["consent_text"] if consent else "",
        token=form.cleaned_data["leadscore_token"])


def record_profile(request, page, *, form_id, name, answers, facts, consent_text, token):
    """Identify the sender (the email answered, or the known contact's), store the
    submission under ``token`` (unique: the callers make one per form render or per
    stored form-builder submission; of two at once, the second returns the first's) and
    record ``form_submit`` (its answers feed "form answer" scoring rules). None if there is
    nobody to identify (no email)."""
    contact = linked_contact(request)
    email = answers.get("email") or (contact.email if contact is not None else "")
    answers = {key: answer for key, answer in answers.items() if key != "email"}
    try:
        with transaction.atomic():
            contact = identify_contact(request, email, facts, via="form")
            submission = ProfileSubmission.objects.create(
                page=page, block_id=form_id, contact=contact, visitor=sending_visitor(request),
                answers={"email": contact.email, **answers},
                unconfirmed=differing_facts(contact, facts), consent_text=consent_text,
                token=token)
    except ValueError:  # no (valid) email: nobody to identify
        return None
    except IntegrityError:  # the same form sent twice at once: the other one stored it
        return ProfileSubmission.objects.get(token=token)
    if consent_text:
        ConsentRecord.objects.create(
            contact=contact, wording=consent_text,
            version=ConsentRecord.version_of(consent_text),
            source=f"form {name!r} on {page.url}"[:200] if page else f"form {name!r}"[:200],
            given_at=submission.submitted_at)
    # What the person sent is stored above whatever the event log does.
    record_event_or_defer("form_submit", request=request, contact=contact, page=page,
                          name=name, properties={"form": form_id, "answers": answers},
                          dedupe_key=f"form:{token}")
    return submission


def sending_visitor(request):
    """The tracked browser that sends a form, or None (not tracked)."""
    context = getattr(request, "leadscore", None)
    return context.visitor if context is not None else None
