"""Progressive forms through HTTP, without JavaScript: the Horacy path, and bad input."""

import re

import pytest
from django.test import Client

from timberframe.models import ArticlePage, BlogIndexPage
from wagtail_leadscore.identity import make_identity_token
from wagtail_leadscore.models import Contact, Event, ProfileSubmission

from .conftest import HUMAN_UA
from .lead_capture import HORACY_QUEUE, START, ebook, gated_article, question

pytestmark = pytest.mark.django_db

@pytest.fixture
def ebooks(db):
    return [ebook("first", 1, HORACY_QUEUE), ebook("second", 1, HORACY_QUEUE),
            ebook("third", 2, HORACY_QUEUE)]


def form_of(response):
    """The progressive form's fields: {name: value} of its inputs, and the select names."""
    html = response.content.decode()
    form = re.search(r'<form method="post" action="[^"]*#leadscore-form-[^"]*".*?</form>', html,
                     re.S)
    assert form, html
    fields = dict(re.findall(r'<input type="[^"]+" name="([^"]+)"[^>]*value="([^"]*)"',
                             form.group(0)))
    for name in re.findall(r'<(?:input|select)[^>]* name="([^"]+)"', form.group(0)):
        fields.setdefault(name, "")
    return fields


def questions_asked(response):
    return [name for name in form_of(response)
            if name not in ("csrfmiddlewaretoken", "leadscore_hp", "leadscore_token",
                            "leadscore_form")]


def send(client, page, later, **answers):
    form = form_of(client.get(page.url))
    later()
    return client.post(page.url, {**form, **answers})


def test_the_horacy_path_asks_a_few_new_questions_at_a_time(browser_client, ebooks, later):
    first, second, third = ebooks
    assert questions_asked(browser_client.get(first.url)) == ["email", "first_name"]
    response = send(browser_client, first, later, email="Horacy@Example.com",
                    first_name="Horacy")
    assert response.status_code == 302
    assert "Here is your e-book." in browser_client.get(response["Location"]).content.decode()

    page = browser_client.get(second.url)
    assert questions_asked(page) == ["company"]  # email and name are known now
    assert "Not horacy@example.com?" in page.content.decode()
    assert send(browser_client, second, later, company="Horacy Builders").status_code == 302

    assert questions_asked(browser_client.get(third.url)) == ["company_size", "phone"]
    assert send(browser_client, third, later, company_size="50-249",
                phone="+48 600 100 200").status_code == 302

    contact = Contact.objects.get()
    assert (contact.email, contact.first_name, contact.company, contact.company_size,
            contact.phone) == ("horacy@example.com", "Horacy", "Horacy Builders", "50-249",
                               "+48 600 100 200")
    history = list(ProfileSubmission.objects.filter(contact=contact).order_by("submitted_at")
                   .values_list("page__slug", "answers"))
    assert history == [
        ("first", {"email": "horacy@example.com", "first_name": "Horacy"}),
        ("second", {"email": "horacy@example.com", "company": "Horacy Builders"}),
        ("third", {"email": "horacy@example.com", "company_size": "50-249",
                   "phone": "+48 600 100 200"}),
    ]
    submits = Event.objects.filter(type="form_submit", contact=contact).order_by("pk")
    assert [event.page.slug for event in submits] == ["first", "second", "third"]
    assert submits[1].properties["answers"] == {"company": "Horacy Builders"}


def test_a_page_with_a_form_is_private_to_its_visitor(browser_client, ebooks):
    response = browser_client.get(ebooks[0].url)
    assert "private" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def test_not_you_starts_a_new_anonymous_visitor(browser_client, ebooks, later):
    send(browser_client, ebooks[0], later, email="horacy@example.com", first_name="Horacy")
    response = browser_client.post("/leadscore/not-you/", {"next": ebooks[1].url})
    assert response.status_code == 302 and response["Location"] == ebooks[1].url
    # A new anonymous visitor: email again, and the queue from its start.
    assert questions_asked(browser_client.get(ebooks[1].url)) == ["email", "first_name"]
    assert Contact.objects.get().first_name == "Horacy"  # nothing forgotten


def test_not_you_never_redirects_off_site(browser_client, ebooks):
    response = browser_client.post("/leadscore/not-you/", {"next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert browser_client.get("/leadscore/not-you/").status_code == 405


def test_invalid_answers_are_form_errors_and_nothing_is_stored(browser_client, ebooks, later):
    response = send(browser_client, ebooks[0], later, email="not-an-email",
                    first_name="x" * 151)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert re.search(r'aria-describedby="(id_\w+_email)_error".*id="\1_error"', html, re.S)
    assert "Enter a valid email address." in html
    assert not Contact.objects.exists() and not ProfileSubmission.objects.exists()
    # Corrected and sent again, it is accepted.
    form = form_of(response)
    later()
    assert browser_client.post(ebooks[0].url, {**form, "email": "horacy@example.com",
                                               "first_name": "Horacy"}).status_code == 302
    assert ProfileSubmission.objects.count() == 1


def test_a_script_payload_is_stored_as_text_and_shown_escaped(browser_client, ebooks, later,
                                                               admin_user):
    payload = '<script>alert("x")</script>'
    send(browser_client, ebooks[0], later, email="horacy@example.com", first_name=payload)
    contact = Contact.objects.get()
    assert contact.first_name == payload
    admin = Client()
    admin.force_login(admin_user)
    html = admin.get(f"/admin/leadscore_contacts/inspect/{contact.pk}/").content.decode()
    assert "Form submissions" in html and "E-book first" in html
    assert payload not in html
    assert "first_name: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_a_resent_or_replayed_submission_is_stored_once(browser_client, ebooks, later):
    form = form_of(browser_client.get(ebooks[0].url))
    later()
    data = {**form, "email": "horacy@example.com", "first_name": "Horacy"}
    assert browser_client.post(ebooks[0].url, data).status_code == 302
    assert browser_client.post(ebooks[0].url, data).status_code == 302
    assert ProfileSubmission.objects.count() == 1
    assert Event.objects.filter(type="form_submit").count() == 1


def test_a_bot_filling_the_honeypot_or_sending_at_once_is_refused(browser_client, ebooks,
                                                                   later):
    form = form_of(browser_client.get(ebooks[0].url))
    data = {**form, "email": "bot@example.com", "first_name": "Bot"}
    too_fast = browser_client.post(ebooks[0].url, data)
    assert too_fast.status_code == 200 and "very fast" in too_fast.content.decode()
    later()
    honeypot = browser_client.post(ebooks[0].url, {**data, "leadscore_hp": "http://spam"})
    assert honeypot.status_code == 200
    assert "could not be accepted" in honeypot.content.decode()
    assert not Contact.objects.exists() and not ProfileSubmission.objects.exists()


def test_a_tampered_or_foreign_token_is_refused(browser_client, ebooks, later):
    form = form_of(browser_client.get(ebooks[0].url))
    later()
    data = {**form, "email": "horacy@example.com", "first_name": "Horacy"}
    tampered = browser_client.post(ebooks[0].url, {**data, "leadscore_token": "x" + form[
        "leadscore_token"]})
    assert tampered.status_code == 200 and "invalid" in tampered.content.decode()
    other = form_of(browser_client.get(ebooks[1].url))
    foreign = browser_client.post(ebooks[0].url, {**data,
                                                  "leadscore_token": other["leadscore_token"]})
    assert foreign.status_code == 200
    unknown_block = browser_client.post(ebooks[0].url, {**data, "leadscore_form": "nope"})
    assert unknown_block.status_code == 400
    assert not ProfileSubmission.objects.exists()


def test_an_expired_form_asks_to_send_again_with_a_fresh_token(browser_client, ebooks, later):
    form = form_of(browser_client.get(ebooks[0].url))
    later(2 * 24 * 3600)
    data = {**form, "email": "horacy@example.com", "first_name": "Horacy"}
    expired = browser_client.post(ebooks[0].url, data)
    assert "expired" in expired.content.decode()
    fresh = form_of(expired)
    assert fresh["leadscore_token"] != form["leadscore_token"]
    later()
    assert browser_client.post(ebooks[0].url, {**data, **{
        "leadscore_token": fresh["leadscore_token"]}}).status_code == 302


def test_a_missing_csrf_token_is_403(ebooks, later):
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=HUMAN_UA)
    form = form_of(client.get(ebooks[0].url))
    later()
    form.pop("csrfmiddlewaretoken")
    response = client.post(ebooks[0].url, {**form, "email": "horacy@example.com",
                                           "first_name": "Horacy"})
    assert response.status_code == 403
    assert not ProfileSubmission.objects.exists()


def test_submissions_are_rate_limited(browser_client, ebooks, later, settings_leadscore):
    settings_leadscore(FORM_RATE_LIMIT=2)
    form = form_of(browser_client.get(ebooks[0].url))
    later()
    statuses = [browser_client.post(ebooks[0].url, {**form, "email": "a@example.com"})
                .status_code for _ in range(3)]
    assert statuses[-1] == 429


def editor_form(questions, per_submission="1"):
    from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

    return nested_form_data({
        "title": "Passive house checklist", "slug": "checklist", "date": "2026-05-04",
        "topic": "passive-houses", "intro": rich_text(""),
        "body": streamfield([("progressive_form", {
            "heading": "Get the checklist", "questions": streamfield(questions),
            "questions_per_submission": per_submission, "known_answers": "skip",
            "consent_text": "", "button_text": "Download", "success_message": "",
            "redirect_to": ""})]),
        "leadscore_points": "0", "leadscore_bonus_visit": "", "leadscore_bonus_points": "0",
        "leadscore_cap": "none", "leadscore_access": "free", "leadscore_teaser_blocks": "1",
        "leadscore_teaser_text": "",
        "leadscore_gate_form": streamfield([]), "action-publish": "publish",
    })


def test_editors_build_a_progressive_form_in_the_page_editor(client, admin_user, later):
    client.force_login(admin_user)
    blog = BlogIndexPage.objects.get()
    add_url = f"/admin/pages/add/timberframe/articlepage/{blog.pk}/"
    refused = client.post(add_url, editor_form([
        ("custom_question", {"label": "Roof type", "key": "roof type!", "kind": "choice",
                             "choices": "", "required": "on"})]))
    assert refused.status_code == 200 and not ArticlePage.objects.filter(slug="checklist")
    html = refused.content.decode()
    assert "Letters, digits" in html and "A choice needs at least one option." in html

    created = client.post(add_url, editor_form([
        ("question", {"question": "company", "required": "on"}),
        ("custom_question", {"label": "Roof type", "key": "roof_type", "kind": "choice",
                             "choices": "flat\ngable", "required": "on"})], "2"))
    assert created.status_code == 302
    page = ArticlePage.objects.get(slug="checklist")
    client.logout()
    visitor = Client(HTTP_USER_AGENT=HUMAN_UA)
    assert questions_asked(visitor.get(page.url)) == ["email", "company", "roof_type"]
    assert send(visitor, page, later, email="ewa@example.com", company="Ewa Homes",
                roof_type="gable").status_code == 302
    assert Contact.objects.get(email="ewa@example.com").facts["roof_type"] == "gable"


def test_a_teaser_shows_the_first_blocks_then_the_rest_after_the_form(browser_client, later):
    guide = gated_article("teaser", "teaser")
    locked = browser_client.get(guide.url).content.decode()
    assert "Chapter one." in locked and "Chapter two" not in locked
    assert questions_asked(browser_client.get(guide.url)) == ["email", "company"]
    assert send(browser_client, guide, later, email="ewa@example.com",
                company="Ewa Homes").status_code == 302
    unlocked = browser_client.get(guide.url).content.decode()
    assert "Chapter two, the secret." in unlocked and "Unlock" not in unlocked


def test_an_unlock_belongs_to_the_contact_not_the_browser(browser_client, another_browser,
                                                         ebooks, later):
    guide = gated_article("gated", "gated")
    assert "Chapter one" not in browser_client.get(guide.url).content.decode()
    send(browser_client, guide, later, email="ewa@example.com", company="Ewa Homes")
    assert "Chapter one" in browser_client.get(guide.url).content.decode()
    # Her phone: locked until it is proven hers. Typing her email into another form
    # proves nothing (anyone could); a signed link from an email to her does.
    assert "Chapter one" not in another_browser.get(guide.url).content.decode()
    send(another_browser, ebooks[0], later, email="ewa@example.com", first_name="Ewa")
    assert "Chapter two, the secret." not in another_browser.get(guide.url).content.decode()
    token = make_identity_token(Contact.objects.get(email="ewa@example.com"))
    another_browser.get(f"{guide.url}?ls_id={token}")
    assert "Chapter two, the secret." in another_browser.get(guide.url).content.decode()


def test_free_content_with_a_notify_form_stays_cacheable_only_if_free(browser_client):
    free_page = gated_article("free", "free")
    browser_client.get(free_page.url)  # a new browser's first response sets its cookie
    free = browser_client.get(free_page.url)
    assert "Chapter two" in free.content.decode() and "Unlock" not in free.content.decode()
    assert "private" not in free.get("Cache-Control", "")
    notify = browser_client.get(gated_article("notify", "free_notify").url)
    html = notify.content.decode()
    assert "Chapter two" in html and "Unlock" in html
    assert "private" in notify["Cache-Control"]


def test_a_teaser_text_replaces_the_first_blocks(browser_client):
    guide = gated_article("text", "teaser", teaser_text="Two chapters on airtightness.")
    html = browser_client.get(guide.url).content.decode()
    assert "Two chapters on airtightness." in html and "Chapter one" not in html


def test_template_tags_tell_the_contact_and_whether_a_form_was_sent(browser_client, later):
    from django.template import Context, Template

    guide = gated_article("tags", "gated")
    template = Template("{% load leadscore_tags %}{% leadscore_contact as contact %}"
                        "{% leadscore_unlocked gate.form as unlocked %}"
                        "{{ contact.email|default:'nobody' }} {{ unlocked }}")

    def render():
        request = browser_client.get(guide.url).wsgi_request
        page = ArticlePage.objects.get(pk=guide.pk)
        gate = page.body[0].value
        return template.render(Context({"request": request, "page": page, "gate": gate}))

    assert render() == "nobody False"
    send(browser_client, guide, later, email="ewa@example.com", company="Ewa Homes")
    assert render() == "nobody True"  # unlocked here; the contact is not shown unverified
    token = make_identity_token(Contact.objects.get(email="ewa@example.com"))
    browser_client.get(f"{guide.url}?ls_id={token}")
    assert render() == "ewa@example.com True"


@pytest.fixture
def checklist_pdf(settings, tmp_path):
    from django.core.files.base import ContentFile
    from wagtail.documents import get_document_model

    settings.MEDIA_ROOT = str(tmp_path)
    return get_document_model().objects.create(
        title="Airtightness checklist", file=ContentFile(b"%PDF-1.4 checklist", "check.pdf"))


def document_link(html):
    found = re.search(r'<a href="([^"]+)" rel="nofollow">Download the checklist</a>', html)
    return found.group(1) if found else None


def test_a_gated_document_is_served_to_the_contact_who_unlocked_it(
        browser_client, another_browser, checklist_pdf, later):
    guide = gated_article("pdf", "gated", extra=[("document", {
        "document": checklist_pdf, "link_text": "Download the checklist"})])
    assert document_link(browser_client.get(guide.url).content.decode()) is None
    send(browser_client, guide, later, email="ewa@example.com", company="Ewa Homes")
    link = document_link(browser_client.get(guide.url).content.decode())
    assert link.startswith("/leadscore/documents/")

    response = browser_client.get(link)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 checklist"
    assert "attachment" in response["Content-Disposition"]
    assert "private" in response["Cache-Control"]
    download = Event.objects.get(type="download")
    assert (download.contact.email, download.name, download.page_id) == (
        "ewa@example.com", "Airtightness checklist", guide.pk)

    assert another_browser.get(link).status_code == 403  # a link passed on is no key
    assert browser_client.post(link).status_code == 405
    assert browser_client.get(link.replace("/documents/", "/documents/x")).status_code == 404
    later(2 * 3600)
    assert browser_client.get(link).status_code == 403  # expired
    assert Event.objects.filter(type="download").count() == 1


def test_a_document_in_free_content_links_to_the_document_itself(browser_client,
                                                                 checklist_pdf):
    guide = gated_article("free-pdf", "free", extra=[("document", {
        "document": checklist_pdf, "link_text": "Download the checklist"})])
    assert document_link(browser_client.get(guide.url).content.decode()) == checklist_pdf.url


def test_a_form_builder_page_asks_only_what_is_not_known_yet(browser_client):
    """ProgressiveFormPageMixin (the demo's e-book pages): profile fields a contact
    answered are not asked again; the submission is recorded as a block form's is."""
    from timberframe.models import EbookPage

    guide = EbookPage.objects.get(slug="passive-house-guide")  # email, first name
    costs = EbookPage.objects.get(slug="smart-home-costs-ebook")  # email, company, size
    costs.leadscore_questions_per_submission = 1
    costs.save_revision().publish()

    assert browser_client.post(guide.url, {"email": "ewa@example.com",
                                           "first_name": "Ewa"}).status_code == 200
    page = browser_client.get(costs.url).content.decode()
    assert 'name="email"' not in page and 'name="company"' in page
    assert 'name="company_size"' not in page  # one new profile question at a time
    assert "Not ewa@example.com?" in page
    assert browser_client.post(costs.url, {"company": "Ewa Homes"}).status_code == 200

    contact = Contact.objects.get(email="ewa@example.com")
    assert (contact.first_name, contact.company) == ("Ewa", "Ewa Homes")
    assert list(contact.profile_submissions.order_by("submitted_at").values_list(
        "block_id", "answers")) == [
        ("passive-house-guide", {"email": "ewa@example.com", "first_name": "Ewa"}),
        ("smart-home-costs-ebook", {"email": "ewa@example.com", "company": "Ewa Homes"})]
    assert Event.objects.filter(type="form_submit", contact=contact).count() == 2
    assert 'name="company_size"' in browser_client.get(costs.url).content.decode()


def test_a_whole_page_can_be_teased_then_unlocked(browser_client, later):
    """GatedPageMixin (the demo's articles): the page's own access field and form."""
    blog = BlogIndexPage.objects.get()
    page = ArticlePage(
        title="Airtightness in depth", slug="airtightness", date=START.date(),
        topic="passive-houses", leadscore_access="teaser", leadscore_teaser_blocks=1,
        body=[("paragraph", "<p>Part one.</p>"), ("paragraph", "<p>Part two, in depth.</p>")],
        leadscore_gate_form=[("form", {
            "heading": "Read on", "questions": [question("company")],
            "questions_per_submission": 1, "known_answers": "skip", "consent_text": "",
            "button_text": "Read on", "success_message": "", "redirect_to": None})])
    blog.add_child(instance=page)
    page.save_revision().publish()

    locked = browser_client.get(page.url)
    assert "Part one." in locked.content.decode()
    assert "Part two" not in locked.content.decode()
    assert "private" in locked["Cache-Control"]
    assert questions_asked(locked) == ["email", "company"]
    send(browser_client, page, later, email="ewa@example.com", company="Ewa Homes")
    unlocked = browser_client.get(page.url).content.decode()
    assert "Part two, in depth." in unlocked and 'name="company"' not in unlocked

    page.leadscore_teaser_text = "Where the air leaks, and how to find it."
    page.save_revision().publish()
    teased = Client(HTTP_USER_AGENT=HUMAN_UA).get(page.url).content.decode()
    assert "Where the air leaks" in teased and "Part one" not in teased
    page.leadscore_access = "free"
    page.save_revision().publish()
    assert "Part two" in Client(HTTP_USER_AGENT=HUMAN_UA).get(page.url).content.decode()


def test_known_answers_shown_prefilled_and_consent_stored_with_its_wording(browser_client,
                                                                          later):
    first = ebook("prefill-1", 1, HORACY_QUEUE)
    send(browser_client, first, later, email="ewa@example.com", first_name="Ewa")
    wording = "I agree to receive advice on passive houses by email."
    second = ebook("prefill-2", 1, [question("first_name"), question("consent")],
                   consent_text=wording)
    second_value = second.body[1].value
    second_value["known_answers"] = "prefill"
    second.save_revision().publish()

    form = form_of(browser_client.get(second.url))
    assert form["first_name"] == "Ewa"  # known, shown prefilled
    assert "consent" in form and wording in browser_client.get(second.url).content.decode()
    refused = send(browser_client, second, later, first_name="Ewa")
    assert refused.status_code == 200  # consent is required
    send(browser_client, second, later, first_name="Ewa", consent="on")
    submission = ProfileSubmission.objects.get(page=second)
    assert submission.consent_text == wording and submission.answers["consent"] is True
    # The consent record: the wording, its version, where and when.
    from wagtail_leadscore.models import ConsentRecord

    consent = ConsentRecord.objects.get(contact=submission.contact)
    assert (consent.wording, consent.source, consent.given_at) == (
        wording, f"form 'Get the e-book' on {second.url}", submission.submitted_at)
    assert consent.version == ConsentRecord.version_of(wording) != ConsentRecord.version_of(
        wording + " And by phone.")
