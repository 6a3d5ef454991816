"""Stages, transitions as events, the lead definition, fit and grades."""

import pytest
from django.contrib.auth import get_user_model

from wagtail_leadscore import change_stage, identify, qualify, record_event
from wagtail_leadscore.lifecycle.stages import Stage
from wagtail_leadscore.models import Contact, Event, FitRule, LeadDefinition, ScoringRule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_demo_fit_rules():
    """The demo's fit rules aside: each test states its own."""
    FitRule.objects.update(is_active=False)


@pytest.fixture
def offline_points():
    """An offline event worth 100 points to global and stage scores."""
    ScoringRule.objects.create(name="Meeting", trigger="offline_event", value="meeting",
                               points=100, feeds_stage=True)

    def earn(contact, times=1):
        for _ in range(times):
            record_event("offline", contact=contact, name="meeting")

    return earn


def lead_definition(**fields):
    LeadDefinition.objects.update(**{"min_score": 200, "required_facts": "",
                                     "min_fit_grade": "", **fields})


def test_a_new_contact_is_a_prospect():
    assert identify(None, "anna@example.com").stage == Stage.PROSPECT


def test_anonymous_visitors_become_engaged_with_points(browser_client, settings_leadscore):
    from timberframe.models import OfferPage
    from wagtail_leadscore import visitor_stage
    from wagtail_leadscore.models import Visitor

    settings_leadscore(ENGAGED_SCORE=20)
    offer = OfferPage.objects.live().first()
    browser_client.get(offer.url)
    assert visitor_stage(Visitor.objects.get()) == Stage.ANONYMOUS
    browser_client.get(offer.url)
    assert visitor_stage(Visitor.objects.get()) == Stage.ENGAGED


def test_every_transition_is_an_event_with_who_and_why():
    contact = identify(None, "anna@example.com")
    user = get_user_model().objects.create_user("sales", password="x")
    event = change_stage(contact, Stage.SAL, by=user, reason="Called, budget confirmed")
    assert event.properties == {"from": "prospect", "to": "sal", "by": "sales",
                                "by_id": user.pk, "reason": "Called, budget confirmed",
                                "via": "api"}
    assert Contact.objects.get(pk=contact.pk).stage == Stage.SAL
    assert change_stage(contact, Stage.SAL) is None  # no change, no event
    with pytest.raises(ValueError):
        change_stage(contact, Stage.ANONYMOUS)  # a visitor's stage, not a contact's


def test_the_lead_definition_needs_score_facts_and_fit(offline_points):
    lead_definition(required_facts="company, budget", min_fit_grade="B")
    FitRule.objects.create(name="Big budget", fact="budget", operator="at_least",
                           value="50 000", points=45)
    contact = identify(None, "anna@example.com")
    offline_points(contact, 3)
    assert Contact.objects.get(pk=contact.pk).stage == Stage.PROSPECT  # facts missing
    contact = identify(None, "anna@example.com", company="Anna Build", budget="40 000 PLN")
    assert contact.fit_grade == "D" and contact.stage == Stage.PROSPECT  # fit too low
    contact = identify(None, "anna@example.com", budget="60 000 PLN")
    assert (contact.fit_score, contact.fit_grade) == (45, "B")
    contact.refresh_from_db()
    assert contact.stage == Stage.LEAD
    qualified = Event.objects.get(contact=contact, type="lead_qualified")
    assert qualified.properties["fit_grade"] == "B" and qualified.properties["score"] == 300


def test_nurtured_contacts_need_new_points_to_qualify_again(offline_points):
    lead_definition()
    contact = identify(None, "anna@example.com")
    offline_points(contact, 2)
    contact.refresh_from_db()
    assert contact.stage == Stage.LEAD
    change_stage(contact, Stage.NURTURE, reason="No budget this year")
    assert qualify(contact) is None  # 200 points, but none earned since
    offline_points(contact)
    contact.refresh_from_db()
    assert contact.stage == Stage.NURTURE
    offline_points(contact)  # 200 points in the nurture stage
    contact.refresh_from_db()
    assert contact.stage == Stage.LEAD
    assert Event.objects.filter(contact=contact, type="lead_qualified").count() == 2


@pytest.mark.parametrize(("operator", "value", "value_to", "fact", "matches"), [
    ("equals", "Construction", "", "construction", True),
    ("contains", "director", "", "Sales Director", True),
    ("one_of", "50-249, 250+", "", "250+", True),
    ("one_of", "50-249, 250+", "", "10-49", False),
    ("between", "10 000", "100,000", "50 000 PLN", True),
    ("between", "10 000", "100,000", "150000", False),
    ("at_most", "5", "", "7", False),
    ("is_set", "", "", "anything", True),
])
def test_fit_rules(operator, value, value_to, fact, matches):
    FitRule.objects.create(name="rule", fact="job_title", operator=operator, value=value,
                           value_to=value_to, points=70)
    contact = identify(None, "anna@example.com", job_title=fact)
    assert (contact.fit_score, contact.fit_grade) == ((70, "A") if matches else (0, "D"))


def test_invalid_fit_rules_are_refused():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        FitRule(name="x", fact="bad name", operator="at_least", value="many",
                points=1).full_clean()
    assert set(error.value.message_dict) == {"fact", "value"}


def test_changing_fit_rules_regrades_every_contact(django_capture_on_commit_callbacks):
    from django_q.models import OrmQ

    from wagtail_leadscore.tasks import recompute_fit

    contact = identify(None, "anna@example.com", industry="Construction")
    assert contact.fit_grade == "D"
    queued = OrmQ.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        FitRule.objects.create(name="Builders", fact="industry", operator="equals",
                               value="construction", points=60)
    assert OrmQ.objects.count() == queued + 1  # queued for a worker; run here as the worker would
    recompute_fit()
    assert Contact.objects.get(pk=contact.pk).fit_grade == "A"
