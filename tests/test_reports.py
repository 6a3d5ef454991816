"""The funnel reports in the admin: funnel by week, page influence, form conversion and
emails per sequence step, from recorded data; hidden from users who may not see contacts."""

import pytest
from django.urls import reverse

from timberframe.models import OfferPage
from wagtail_leadscore.events import record_event
from wagtail_leadscore.lifecycle.stages import Stage
from wagtail_leadscore.lifecycle.transitions import change_stage
from wagtail_leadscore.mail.models import OutboxMessage, Status
from wagtail_leadscore.models import Contact

from .test_nurture import sequence
from .test_scoring import download_ebook, view

pytestmark = pytest.mark.django_db

REPORTS = ("leadscore_funnel", "leadscore_page_influence", "leadscore_form_conversion",
           "leadscore_sequence_emails")


def table(admin_client, name):
    response = admin_client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    return html.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html else ""


def cells(row_html):
    import re

    return [re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row_html, re.S)]


def rows(admin_client, name):
    return [cells(row) for row in table(admin_client, name).split("</tr>") if "<td" in row]


def test_the_funnel_and_page_influence(admin_client, browser_client, another_browser):
    buyer = download_ebook(browser_client, email="buyer@example.com")
    offer = OfferPage.objects.get(slug="passive-house-kasia-120")
    view(browser_client, offer)
    record_event("lead_qualified", contact=buyer)
    change_stage(buyer, Stage.CUSTOMER)
    download_ebook(another_browser, email="reader@example.com")  # read the e-book only
    Contact.objects.create(email="quiet@example.com")
    [week] = rows(admin_client, "leadscore_funnel")
    # week, visitors, contacts, leads, lead rate, SAL, SQL, customers, customers / leads
    assert week[2:5] == ["3", "1", "33%"] and week[7:] == ["1", "100%"]
    chart = admin_client.get(reverse("leadscore_funnel")).content.decode()
    assert '<svg class="leadscore-chart"' in chart and "<title>New leads per week</title>" in chart
    influence = {row[0]: row for row in rows(admin_client, "leadscore_page_influence")}
    assert influence[offer.title][1:4] == ["100%", "0%", "∞"]
    assert influence["Smart home costs e-book"][1:4] == ["100%", "50%", "2.0×"]
    assert list(influence)[0] == offer.title  # read only by the buyer: first


def test_form_conversion_and_emails_per_step(admin_client, browser_client, another_browser):
    download_ebook(browser_client, email="buyer@example.com")
    view(another_browser, download_page())  # seen, not sent
    [form] = rows(admin_client, "leadscore_form_conversion")
    assert form[0] == "Smart home costs e-book" and form[2:] == ["2", "1", "50%"]

    guide = sequence("Guide", [(1, "welcome"), (2, "tips")])
    first, second = guide.steps.order_by("sort_order")
    contact = Contact.objects.get(email="buyer@example.com")
    messages = [OutboxMessage.objects.create(key=f"nurture:{number}:{step.pk}", email=step.email,
                                             contact=contact, status=Status.SENT)
                for number, step in enumerate((first, first, second))]
    record_event("email_open", contact=contact, properties={"message": messages[0].pk})
    record_event("email_click", contact=contact, properties={"message": messages[1].pk})
    steps = rows(admin_client, "leadscore_sequence_emails")
    assert [row[1:] for row in steps] == [
        ["1", "Guide Welcome", "2", "2", "1", "50%"], ["2", "Guide Tips", "1", "0", "0", "0%"]]


def download_page():
    from timberframe.models import EbookPage

    return EbookPage.objects.get(slug="smart-home-costs-ebook")


def test_reports_refuse_users_who_may_not_see_contacts(client, admin_client,
                                                      django_user_model):
    from django.contrib.auth.models import Permission

    editor = django_user_model.objects.create_user("editor", password="pw")
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    for name in REPORTS:
        assert client.get(reverse(name)).status_code in (302, 403), name
    assert "leadscore-funnel" in admin_client.get("/admin/").content.decode()  # the menu
    assert "leadscore-funnel" not in client.get("/admin/").content.decode()


def test_the_funnel_draws_a_week_without_leads(admin_client):
    Contact.objects.create(email="quiet@example.com")  # a week with a contact, no lead
    response = admin_client.get(reverse("leadscore_funnel"))
    assert response.status_code == 200 and "New leads per week" in response.content.decode()
