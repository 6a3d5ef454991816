"""The leads panel on the Wagtail dashboard: new leads this week, the hottest open leads
and the funnel; hidden from users who may not see contacts; no query per lead."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail_leadscore.events import record_event
from wagtail_leadscore.lifecycle.stages import Stage
from wagtail_leadscore.models import Contact, Score, Visitor

pytestmark = pytest.mark.django_db


def lead(number, score, stage=Stage.LEAD):
    contact = Contact.objects.create(email=f"lead{number}@example.com", stage=stage,
                                     company=f"Company {number}")
    Score.objects.create(contact=contact, dimension="global", value=score)
    record_event("lead_qualified", contact=contact, properties={"score": score})
    return contact


def dashboard(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_the_dashboard_shows_new_and_hot_leads_and_the_funnel(admin_client):
    for number, score in enumerate((120, 340)):
        lead(number, score)
    Contact.objects.create(email="customer@example.com", stage=Stage.CUSTOMER)
    Visitor.objects.create()
    dashboard(admin_client)  # the first request also fills per-process caches
    html, few = dashboard(admin_client)
    assert "2 new leads this week" in html
    hottest = html.split('data-leadscore-dashboard="hottest"')[1].split("</table>")[0]
    assert hottest.index("lead1@example.com") < hottest.index("lead0@example.com")
    assert ">340<" in hottest
    funnel = html.split('data-leadscore-dashboard="funnel"')[1].split("</table>")[0]
    assert "<td>Customer</td><td>1</td>" in funnel and "<td>Anonymous</td><td>" in funnel
    for number in range(2, 9):
        lead(number, 100 + number)
    _, many = dashboard(admin_client)
    assert many == few  # no query per lead


def test_users_who_may_not_see_contacts_do_not_get_the_panel(client, django_user_model):
    from django.contrib.auth.models import Permission

    lead(1, 100)
    editor = django_user_model.objects.create_user("editor", password="pw")
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    html, _ = dashboard(client)
    assert "leadscore-leads" not in html and "lead1@example.com" not in html


def test_the_contact_list_filters_by_stage_score_owner_segment_topic_and_activity(
        admin_client, admin_user):
    from django.urls import reverse

    from wagtail_leadscore.models import SegmentMembership

    from .test_segments import segment

    lead(1, 340)
    warm = lead(2, 120)
    cold = lead(3, 90, stage=Stage.SAL)
    Contact.objects.filter(pk=cold.pk).update(engagement="inactive", owner=admin_user)
    builders = segment("Builders", ("fact", {"fact": "company", "operator": "icontains",
                                             "value": "company 2"}))
    SegmentMembership.objects.get_or_create(segment=builders, contact=warm)
    url = reverse("leadscore_contacts:index")

    def listed(**query):
        response = admin_client.get(url, query)
        assert response.status_code == 200
        html = response.content.decode()
        return [email for email in ("lead1@example.com", "lead2@example.com",
                                    "lead3@example.com") if email in html]

    assert listed(stage="lead") == ["lead1@example.com", "lead2@example.com"]
    assert listed(score_min="100", score_max="200") == ["lead2@example.com"]
    assert listed(owner=str(admin_user.pk)) == ["lead3@example.com"]
    assert listed(segment=str(builders.pk)) == ["lead2@example.com"]
    assert listed(engagement="inactive") == ["lead3@example.com"]
    assert listed(company="company 1") == ["lead1@example.com"]
    from wagtail_leadscore.models import Topic

    from .test_segments import offer

    page = offer()  # tagged with topics in the demo: its readers are interested in them
    record_event("page_view", contact=cold, page=page, path=page.url)
    topic = page.leadscore_topics.first()
    assert listed(topic=str(topic.pk)) == ["lead3@example.com"]
    assert listed(topic=str(Topic.objects.exclude(pk__in=page.leadscore_topics.all())
                            .first().pk)) == []
    assert admin_client.get(url, {"topic": "nonsense"}).status_code == 200
    ordered = admin_client.get(url, {"ordering": "-score"}).content.decode()
    assert ordered.index("lead1@example.com") < ordered.index("lead2@example.com") < \
        ordered.index("lead3@example.com")
    assert admin_client.get(url, {"score_min": "lots"}).status_code == 200  # not a 500


def test_contacts_export_as_csv_and_xlsx_without_formulas(admin_client):
    import csv
    import io

    from django.urls import reverse
    from openpyxl import load_workbook

    lead(1, 340)
    Contact.objects.create(email="evil@example.com", company='=HYPERLINK("http://x","y")',
                           first_name="+1 day")
    url = reverse("leadscore_contacts:index")
    response = admin_client.get(url, {"export": "csv", "stage": "prospect"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["Email"] for row in rows] == ["evil@example.com"]  # the filters apply
    assert rows[0]["Company"] == "'=HYPERLINK(\"http://x\",\"y\")" and \
        rows[0]["First name"] == "'+1 day"
    xlsx = admin_client.get(url, {"export": "xlsx", "ordering": "-score"})
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[1][0] == "lead1@example.com" and values[1][8] == 340
    evil = next(row for row in values if row[0] == "evil@example.com")
    assert evil[3] == '=HYPERLINK("http://x","y")'  # a string cell, not a formula
    assert sheet.cell(row=values.index(evil) + 1, column=4).data_type == "s"


# Measured: 24 (session, user, contact, scores, ledger, chart, timeline, consents, segments,
# sequences, emails, ...), whatever the number of events.
CONTACT_PAGE_QUERY_BUDGET = 25


def test_the_page_of_a_contact_with_10k_events_stays_within_its_query_budget(admin_client):
    import datetime

    from django.urls import reverse
    from django.utils import timezone

    from wagtail_leadscore.models import Event, Visitor
    from wagtail_leadscore.scoring.rebuild import rebuild_scores

    from .test_segments import offer

    contact = lead(1, 0)
    visitor = Visitor.objects.create(contact=contact)
    page = offer()
    start = timezone.now() - datetime.timedelta(days=60)
    Event.objects.bulk_create([
        Event(type="page_view", contact=contact, visitor=visitor, page=page, path=page.url,
              occurred_at=start + datetime.timedelta(minutes=number))
        for number in range(10_000)], batch_size=2000)
    rebuild_scores()  # a ledger behind the scores, as live scoring would have written
    url = reverse("leadscore_contacts:inspect", args=[contact.pk])
    admin_client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Timeline: 10001 events" in html  # the last 100 shown: a lead_qualified, then one visit
    assert "Visit of" in html and ": 99 pages" in html and "leadscore-chart" in html
    assert len(queries) <= CONTACT_PAGE_QUERY_BUDGET, len(queries)
