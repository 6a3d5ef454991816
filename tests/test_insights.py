"""Scoring insights on a synthetic population: of 10,000 contacts, 200 confirmed by sales
show five planted behaviours far more often; the report ranks at least four of the five in
its top five, suggests points for them, and one click applies a suggestion to a rule."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from wagtail_leadscore.models import Contact, FitRule, ScoringRule
from wagtail_leadscore.scoring.insights import insights
from wagtail_leadscore.scoring.synthetic import EMAIL_DOMAIN, generate_population

pytestmark = pytest.mark.django_db


def test_insights_find_the_planted_buyer_behaviours_in_10k_contacts():
    planted = generate_population(contacts=10_000, buyers=200, seed=7)
    found = insights(top=5)
    top = [behaviour.key for behaviour in found]
    assert len(set(top) & set(planted)) >= 4, (top, planted)
    assert all(behaviour.suggested_points >= 10 and behaviour.lift >= 2 for behaviour in found)


def test_one_click_applies_a_suggestion_to_a_rule(admin_client):
    planted = generate_population(contacts=600, buyers=60, seed=3)
    page = admin_client.get(reverse("leadscore_insights"))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-leadscore-insight="event:form_submit:quote-request"' \
        in html
    assert "event:form_submit:quote-request" in planted
    response = admin_client.post(reverse("leadscore_insights"),
                                 {"key": "event:form_submit:quote-request"}, follow=True)
    assert "now gives" in response.content.decode()
    suggested = next(b for b in insights() if b.key == "event:form_submit:quote-request")
    rule = ScoringRule.objects.get(trigger="form_submitted", value="quote-request")
    assert rule.points == suggested.suggested_points and not suggested.can_apply
    industry = next(b for b in insights() if b.key == "fact:industry=construction")
    admin_client.post(reverse("leadscore_insights"), {"key": "fact:industry=construction"})
    demo_rule = FitRule.objects.get(name="Builds or develops")  # "contains construction"
    assert demo_rule.points == industry.suggested_points != 20
    assert FitRule.objects.filter(fact="industry").count() == 1  # changed, not doubled
    refused = admin_client.post(reverse("leadscore_insights"), {"key": "page:nonsense"},
                                follow=True)
    assert "no longer among the insights" in refused.content.decode()


def test_the_command_makes_and_removes_a_population(capsys):
    call_command("leadscore_synthetic_population", contacts=50, buyers=5, seed=1)
    assert "Planted behaviours" in capsys.readouterr().out
    assert Contact.objects.filter(email__endswith=EMAIL_DOMAIN).count() == 50
    call_command("leadscore_synthetic_population", remove=True)
    assert not Contact.objects.filter(email__endswith=EMAIL_DOMAIN).exists()


def test_insights_refuse_users_who_may_not_see_the_scoring(client, django_user_model):
    from django.contrib.auth.models import Permission

    editor = django_user_model.objects.create_user("editor", password="pw")
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    url = reverse("leadscore_insights")
    assert client.get(url).status_code in (302, 403)
    assert client.post(url, {"key": "event:form_submit:quote-request"}).status_code in (302,
                                                                                        403)
    assert not ScoringRule.objects.filter(value="quote-request", name__endswith="(insights)")\
        .exists()
