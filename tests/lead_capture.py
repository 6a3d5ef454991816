"""Pages with progressive forms and gated content, built as an editor would (StreamField
data), for the HTTP and the browser tests."""

import datetime

from timberframe.models import ArticlePage, BlogIndexPage

START = datetime.datetime(2026, 5, 4, 9, 0, tzinfo=datetime.UTC)


def question(key, required=True):
    return ("question", {"question": key, "required": required})


def ebook(slug, per_submission, queue, **form):
    """An article offering an e-book behind a progressive form."""
    blog = BlogIndexPage.objects.get()
    page = ArticlePage(
        title=f"E-book {slug}", slug=slug, date=START.date(), topic="smart-home",
        body=[("paragraph", "<p>Before the form.</p>"), ("progressive_form", {
            "heading": "Get the e-book", "questions": queue,
            "questions_per_submission": per_submission,
            "known_answers": form.get("known_answers", "skip"),
            "consent_text": form.get("consent_text", ""), "button_text": "Download",
            "success_message": "Here is your e-book.", "redirect_to": None})])
    blog.add_child(instance=page)
    page.save_revision().publish()
    return page


HORACY_QUEUE = [question("first_name"), question("company"), question("company_size"),
                question("phone")]


def gated_article(slug, access, queue=None, per_submission=1, extra=(), **gate):
    """An article of two chapters (and ``extra`` content blocks) behind a gate whose form
    asks ``queue`` (company)."""
    blog = BlogIndexPage.objects.get()
    page = ArticlePage(
        title=f"Guide {slug}", slug=slug, date=START.date(), topic="passive-houses",
        body=[("gated", {
            "access": access, "teaser_blocks": gate.get("teaser_blocks", 1),
            "teaser_text": gate.get("teaser_text", ""),
            "content": [("paragraph", "<p>Chapter one.</p>"),
                        ("paragraph", "<p>Chapter two, the secret.</p>"), *extra],
            "form": {"heading": "Read the rest",
                     "questions": queue or [question("company")],
                     "questions_per_submission": per_submission, "known_answers": "skip",
                     "consent_text": "", "button_text": "Unlock", "success_message": "",
                     "redirect_to": None}})])
    blog.add_child(instance=page)
    page.save_revision().publish()
    return page
