"""The admin in a real browser (Debian's chromium, Playwright): the contact list with a
filter, a contact's page, the dashboard and each lead-scoring report, each kept as a
screenshot in build/test-artifacts/ (LEADSCORE_ARTIFACTS overrides the folder)."""

import os
from pathlib import Path

import pytest
from wagtail.models import Page

from wagtail_leadscore.events import record_event
from wagtail_leadscore.lifecycle.stages import Stage
from wagtail_leadscore.models import Contact, Score

from .test_browser import browser_context  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ARTIFACTS = Path(os.environ.get("LEADSCORE_ARTIFACTS",
                                Path(__file__).resolve().parent.parent / "build" /
                                "test-artifacts"))
PAGES = {  # screenshot name: (admin path, text the page must show)
    "contacts": ("/admin/leadscore_contacts/?stage=lead", "lead1@example.com"),
    "dashboard": ("/admin/", "1 new lead this week"),
    "funnel": ("/admin/reports/leadscore-funnel/", "Became leads"),
    "page-influence": ("/admin/reports/leadscore-page-influence/", "Read by leads"),
    "form-conversion": ("/admin/reports/leadscore-form-conversion/",
                        "Lead scoring: form conversion"),
    "sequence-emails": ("/admin/reports/leadscore-sequence-emails/",
                        "Lead scoring: emails per sequence step"),
    "insights": ("/admin/reports/leadscore-insights/", "No insights yet"),
}


def test_the_admin_pages_render_in_a_browser(browser_context, live_server,  # noqa: F811
                                             django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-for-browser")
    lead = Contact.objects.create(email="lead1@example.com", stage=Stage.LEAD,
                                  company="Horacy <Builders>")
    Score.objects.create(contact=lead, dimension="global", value=150)
    record_event("lead_qualified", contact=lead, properties={"score": 150})
    record_event("page_view", contact=lead, page=Page.objects.filter(depth=2).first())
    Contact.objects.create(email="prospect@example.com")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    page = browser_context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "pw-for-browser")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    for name, (path, text) in PAGES.items():
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, name
        assert text in page.content(), name
        page.screenshot(path=str(ARTIFACTS / f"admin-{name}.png"), full_page=True)
    assert "prospect@example.com" not in page.goto(
        f"{live_server.url}{PAGES['contacts'][0]}").text()

    page.goto(f"{live_server.url}/admin/leadscore_contacts/inspect/{lead.pk}/")
    assert "Horacy &lt;Builders&gt;" in page.content()  # escaped, not markup
    page.click("text=Change the stage")
    page.select_option("select[name=stage]", Stage.SAL)
    page.fill("textarea[name=reason]", "called back")
    page.click("button:has-text('Change the stage')")
    page.wait_for_url(f"**/inspect/{lead.pk}/")
    page.screenshot(path=str(ARTIFACTS / "admin-contact.png"), full_page=True)
    lead.refresh_from_db()
    assert lead.stage == Stage.SAL
