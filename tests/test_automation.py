"""Automation rules through public surfaces: events posted to the HTTP API fire rules whose
conditions are asked of the contact; actions (a sales alert, an email, a tag, a stage, a
wait) run once per event; waits resume with frozen time; rules are edited in the admin."""

import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from timberframe.models import OfferPage
from wagtail_leadscore.automation.engine import active_rules, resume_due
from wagtail_leadscore.automation.models import AutomationRule, AutomationRun, RunStatus
from wagtail_leadscore.lifecycle.stages import Stage
from wagtail_leadscore.mail.models import Email
from wagtail_leadscore.mail.outbox import send_due
from wagtail_leadscore.models import Contact, Event

from .mail_server import html_part, text_part
from .test_api import EVENTS, post
from .test_mail import make_email
from .test_scoring import download_ebook, global_score, view

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
SALES = "sales@timberandsun.example"


def rule(name, trigger, actions, value="", conditions=(), **fields):
    created = AutomationRule(
        name=name, trigger=trigger, value=value, **fields,
        conditions=json.dumps([{"type": kind, "value": spec} for kind, spec in conditions]),
        actions=json.dumps([{"type": kind, "value": spec} for kind, spec in actions]))
    created.full_clean()
    created.save()
    active_rules.clear()
    return created


def fact(name, operator, value):
    return ("fact", {"fact": name, "operator": operator, "value": value})


def alert_email():
    return Email.objects.create(
        name="Sales alert", slug="sales-alert", kind="transactional",
        subject="Hot lead: {{ email }}",
        body=json.dumps([{"type": "paragraph", "value": (
            "<p>{{ first_name | Someone }} from {{ company | an unknown company }}: budget "
            "{{ budget }}, buying in {{ timeframe }}. <a href=\"/admin/\">Open the admin</a>"
            "</p>")}]))


def submit(client, key, email, company="", **facts):
    """A form submission, as a CRM or form tool reports it through the API."""
    response = post(client, EVENTS, {"type": "form_submit", "name": "quote-request",
                                     "email": email, "company": company, "facts": facts,
                                     "id": f"quote:{email}"}, key=key)
    assert response.status_code == 201, response.content
    return Contact.objects.get(email=email)


def test_the_seed_rule_a_big_budget_soon_notifies_sales_at_once(client, api_key,
                                                               mail_server):
    hot = rule("Big budget, soon", "form_submitted", value="quote-request",
               conditions=[fact("budget", "gte", "50 000"),
                           fact("timeframe", "in", "1 month, 2 months")],
               actions=[("notify_sales", {"to": SALES, "email": alert_email().pk})])
    buyer = submit(client, api_key, "buyer@example.com", budget=60000, timeframe="2 months",
                   company="Builders & Co")
    submit(client, api_key, "small@example.com", budget=40000, timeframe="1 month")
    submit(client, api_key, "later@example.com", budget="90000", timeframe="next year")
    submit(client, api_key, "buyer@example.com", budget=60000)  # the same event id: once

    runs = dict(AutomationRun.objects.filter(rule=hot).values_list("contact__email", "status"))
    assert runs == {"buyer@example.com": RunStatus.DONE, "small@example.com": RunStatus.SKIPPED,
                    "later@example.com": RunStatus.SKIPPED}
    assert send_due() == {"sent": 1}
    assert send_due() == {}
    [alert] = mail_server.inbox.messages
    assert alert["To"] == SALES and alert["Subject"] == "Hot lead: buyer@example.com"
    html = html_part(alert)
    assert "Builders &amp; Co: budget 60000, buying in 2 months" in html
    assert "Someone from" in text_part(alert)
    # About the contact, to someone else: nothing tracked, nothing to unsubscribe from.
    assert "/leadscore/m/" not in html and "List-Unsubscribe" not in alert
    assert 'href="http://127.0.0.1:8000/admin/"' in html
    buyer.refresh_from_db()
    assert buyer.unsubscribed_at is None and buyer.bounced_at is None


def test_a_wait_continues_the_actions_later(client, api_key, mail_server, time_machine):
    time_machine.move_to(T0, tick=False)
    welcome = rule("Welcome", "form_submitted", actions=[
        ("tag", {"operation": "add", "tag": "welcomed"}),
        ("wait", {"days": 2, "hours": 0}),
        ("send_email", {"email": make_email("welcome").pk})])
    contact = submit(client, api_key, "new@example.com")
    run = AutomationRun.objects.get(rule=welcome)
    assert (run.status, run.next_action) == (RunStatus.WAITING, 2)
    assert list(contact.tags.names()) == ["welcomed"]
    assert send_due() == {}

    time_machine.move_to(T0 + datetime.timedelta(days=1), tick=False)
    assert resume_due() == 0
    time_machine.move_to(T0 + datetime.timedelta(days=2), tick=False)
    assert resume_due() == 1
    assert resume_due() == 0
    assert send_due() == {"sent": 1}
    assert mail_server.inbox.messages[0]["To"] == "new@example.com"
    assert AutomationRun.objects.get(rule=welcome).status == RunStatus.DONE


def test_stages_chain_rules_and_a_loop_stops(client, api_key):
    rule("Quote means lead", "form_submitted", actions=[("set_stage", {"stage": Stage.LEAD})])
    rule("Lead to SAL", "stage_changed", value=Stage.LEAD,
         actions=[("set_stage", {"stage": Stage.SAL})])
    rule("SAL back to lead", "stage_changed", value=Stage.SAL,
         actions=[("set_stage", {"stage": Stage.LEAD})])
    contact = submit(client, api_key, "loop@example.com")
    contact.refresh_from_db()
    changes = Event.objects.filter(contact=contact, type="stage_change").count()
    assert 2 <= changes <= 6  # the chain ran, and stopped at the depth limit
    assert contact.stage in (Stage.LEAD, Stage.SAL)


def test_a_rule_that_runs_once_per_contact(client, api_key):
    once = rule("Once", "custom_event", value="calculator_used", repeat="once",
                actions=[("tag", {"operation": "add", "tag": "calculated"})])
    for number in range(3):
        post(client, EVENTS, {"type": "custom", "name": "calculator_used",
                              "email": "calc@example.com", "id": f"calc:{number}"}, key=api_key)
    assert AutomationRun.objects.filter(rule=once).count() == 1


def actions_form(**fields):
    return {"name": "From the admin", "is_active": "on", "trigger": "url_contains",
            "value": "pricing", "answer": "", "repeat": "every_time", "match": "all",
            "conditions-count": "0", "actions-count": "1", "actions-0-type": "tag",
            "actions-0-deleted": "", "actions-0-order": "0", "actions-0-id": "",
            "actions-0-value-operation": "add", "actions-0-value-tag": "pricing", **fields}


def test_rules_are_edited_in_the_admin_and_bad_input_is_a_form_error(admin_client):
    add = reverse("wagtailsnippets_wagtail_leadscore_automationrule:add")
    missing = admin_client.post(add, actions_form(value=""))
    assert missing.status_code == 200 and "needs a value" in missing.content.decode()
    regex = admin_client.post(add, actions_form(trigger="url_regex", value="(pricing"))
    assert regex.status_code == 200 and "Not a valid regular expression" in \
        regex.content.decode()
    no_actions = admin_client.post(add, actions_form(**{"actions-count": "0"}))
    assert no_actions.status_code == 200 and "error-message" in no_actions.content.decode()
    assert not AutomationRule.objects.exists()
    assert admin_client.post(add, actions_form()).status_code == 302
    assert AutomationRule.objects.get().trigger == "url_contains"
    assert admin_client.get(
        reverse("wagtailsnippets_wagtail_leadscore_automationrule:list")).status_code == 200


def test_time_fires_rules_once_per_quiet_spell_unopened_email_and_year(
        client, api_key, mail_server, time_machine):
    from wagtail_leadscore.automation.engine import fire_time_triggers
    from wagtail_leadscore.mail.outbox import enqueue

    time_machine.move_to(T0, tick=False)
    quiet = rule("Quiet for 30 days", "no_activity", value="30",
                 actions=[("tag", {"operation": "add", "tag": "quiet"})])
    unopened = rule("Not opened in 3 days", "email_not_opened", value="3", answer="news",
                    actions=[("tag", {"operation": "add", "tag": "unopened"})])
    birthday = rule("Contract anniversary", "anniversary", value="contract_signed",
                    actions=[("tag", {"operation": "add", "tag": "anniversary"})])
    reader = submit(client, api_key, "reader@example.com")
    silent = submit(client, api_key, "silent@example.com")
    Contact.objects.filter(pk=silent.pk).update(facts={"contract_signed": "2024-03-05"})
    news = make_email("news")
    for contact in (reader, silent):
        enqueue(contact, news, f"news:{contact.pk}")
    send_due()
    pixel = html_part(mail_server.inbox.to("reader@example.com")[0]).split(
        "/leadscore/m/o/")[1].split('"')[0]
    time_machine.move_to(T0 + datetime.timedelta(minutes=5), tick=False)  # a person's open
    client.get(f"/leadscore/m/o/{pixel}", HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux) Firefox/130")

    def tags(contact):
        return set(contact.tags.names())

    time_machine.move_to(T0 + datetime.timedelta(days=3, hours=1), tick=False)  # 5 March
    assert fire_time_triggers() == 2  # the unopened email; the contract's anniversary
    assert tags(silent) == {"unopened", "anniversary"} and tags(reader) == set()
    assert fire_time_triggers() == 0  # once per message, once per year

    time_machine.move_to(T0 + datetime.timedelta(days=31), tick=False)
    assert fire_time_triggers() == 2  # both did nothing since day 0 (the open is day 0)
    assert "quiet" in tags(silent) and "quiet" in tags(reader)
    time_machine.move_to(T0 + datetime.timedelta(days=45), tick=False)
    post(client, EVENTS, {"type": "custom", "name": "came_back", "email": "silent@example.com",
                          "id": "back"}, key=api_key)
    time_machine.move_to(T0 + datetime.timedelta(days=76), tick=False)
    assert fire_time_triggers() == 1  # a second quiet spell for the silent contact
    assert AutomationRun.objects.filter(rule=quiet, contact=silent).count() == 2
    time_machine.move_to(datetime.datetime(2027, 3, 5, 10, 0, tzinfo=datetime.UTC), tick=False)
    fire_time_triggers()
    assert AutomationRun.objects.filter(rule=birthday, contact=silent).count() == 2
    assert AutomationRun.objects.filter(rule=unopened).count() == 1


def test_a_tag_added_by_hand_or_by_a_rule_fires_rules(client, api_key):
    rule("Tagged VIP", "tag_added", value="vip",
         actions=[("set_stage", {"stage": Stage.SAL})])
    rule("Quote tags", "form_submitted", actions=[("tag", {"operation": "add", "tag": "vip"})])
    contact = submit(client, api_key, "vip@example.com")
    contact.refresh_from_db()
    assert contact.stage == Stage.SAL
    assert Event.objects.get(contact=contact, type="tag_added").name == "vip"
    other = Contact.objects.create(email="other@example.com")
    other.tags.add("customer-2025")  # another tag: no rule
    assert not AutomationRun.objects.filter(contact=other).exists()


def test_a_rule_switched_off_by_another_process_runs_no_more(client, api_key):
    doomed = rule("Doomed", "form_submitted",
                  actions=[("tag", {"operation": "add", "tag": "doomed"})])
    assert active_rules.for_event(Event(type="form_submit"))  # cached in this process
    AutomationRule.objects.filter(pk=doomed.pk).update(is_active=False)  # no signal here
    submit(client, api_key, "late@example.com")
    assert not AutomationRun.objects.exists()


def test_a_run_whose_process_died_is_taken_over_when_its_lease_ends(client, api_key,
                                                                   time_machine):
    time_machine.move_to(T0, tick=False)
    tagger = rule("Tagger", "form_submitted",
                  actions=[("tag", {"operation": "add", "tag": "first"}),
                           ("tag", {"operation": "add", "tag": "second"})])
    contact = submit(client, api_key, "crash@example.com")
    # As if the process had died after the first action: running, its lease still on.
    AutomationRun.objects.filter(rule=tagger).update(
        status=RunStatus.RUNNING, next_action=0, resume_at=T0 + datetime.timedelta(minutes=10))
    contact.tags.remove("second")
    assert resume_due() == 0
    time_machine.move_to(T0 + datetime.timedelta(minutes=11), tick=False)
    assert resume_due() == 1
    assert set(contact.tags.names()) == {"first", "second"}
    assert AutomationRun.objects.get(rule=tagger).status == RunStatus.DONE


def test_the_score_reached_trigger_fires_when_the_score_crosses_the_value(browser_client):
    crossed = rule("Forty points", "score_reached", value="40",
                   actions=[("tag", {"operation": "add", "tag": "forty"})])
    contact = download_ebook(browser_client)
    kasia = OfferPage.objects.get(slug="passive-house-kasia-120")
    while global_score(contact) < 40:
        view(browser_client, kasia)
    view(browser_client, kasia)  # above it already: no second run
    assert AutomationRun.objects.filter(rule=crossed, contact=contact).count() == 1
    assert set(contact.tags.names()) == {"forty"}


def test_a_rule_adds_and_removes_points_that_a_rebuild_keeps(client, api_key):
    from wagtail_leadscore.scoring.models import ScoreEntry
    from wagtail_leadscore.scoring.rebuild import rebuild_scores

    base = global_score(submit(client, api_key, "before@example.com"))  # the demo's rules
    rule("Quote is worth 40", "form_submitted", value="quote-request",
         actions=[("points", {"operation": "add", "points": 40, "stage": True})])
    rule("Students are worth less", "form_submitted", value="quote-request",
         conditions=[fact("role", "iexact", "student")],
         actions=[("points", {"operation": "remove", "points": 15, "stage": False})])
    buyer = submit(client, api_key, "buyer@example.com", role="architect")
    student = submit(client, api_key, "student@example.com", role="student")
    submit(client, api_key, "buyer@example.com", role="architect")  # the same event: once
    assert (global_score(buyer), global_score(student)) == (base + 40, base + 25)
    awarded = set(ScoreEntry.objects.filter(contact=student, dimension="global",
                                            source__startswith="awarded:")
                  .values_list("label", "points"))
    assert awarded == {("Awarded by “Quote is worth 40”", 40),
                       ("Awarded by “Students are worth less”", -15)}
    assert ScoreEntry.objects.filter(contact=student, dimension="stage",
                                     source__startswith="awarded:").count() == 1
    rebuild_scores()
    assert (global_score(buyer), global_score(student)) == (base + 40, base + 25)


def test_a_rule_assigns_owners_in_turns_among_a_sales_group(client, api_key, django_user_model):
    from django.contrib.auth.models import Group

    sales, _ = Group.objects.get_or_create(name="Sales")  # the demo makes it (leadscore_groups)
    anna, ben = (django_user_model.objects.create_user(name, f"{name}@example.com")
                 for name in ("anna", "ben"))
    django_user_model.objects.create_user("gone", is_active=False).groups.add(sales)
    for user in (anna, ben):
        user.groups.add(sales)
    rule("Share the quotes", "form_submitted",
         actions=[("assign_owner", {"user": "", "group": str(sales.pk), "keep_owner": True})])
    owners = [submit(client, api_key, f"buyer{number}@example.com").owner
              for number in range(3)]
    assert owners == [anna, ben, anna]
    post(client, EVENTS, {"type": "form_submit", "name": "quote-request",
                          "email": "buyer0@example.com", "id": "again"}, key=api_key)
    assert Contact.objects.get(email="buyer0@example.com").owner == anna  # kept
    assigned = Event.objects.filter(type="owner_assigned").order_by("pk")
    assert [event.name for event in assigned] == ["anna", "ben", "anna"]
    assert assigned[0].properties["reason"] == "Share the quotes"


def test_an_owner_action_needs_a_user_or_a_group(admin_client):
    add = reverse("wagtailsnippets_wagtail_leadscore_automationrule:add")
    page = admin_client.get(add).content.decode()
    for action in ("Add or remove points", "Assign an owner", "Call a webhook"):
        assert action in page
    response = admin_client.post(add, actions_form(**{
        "actions-0-type": "assign_owner", "actions-0-value-user": "",
        "actions-0-value-group": "", "actions-0-value-keep_owner": "on"}))
    assert response.status_code == 200
    assert "Choose a user or a group" in response.content.decode()
    assert not AutomationRule.objects.exists()


def test_any_event_type_fires_a_rule_by_type_or_by_type_and_name(client, api_key):
    fair = rule("Met at a fair", "event_of_type", value="offline:trade-fair",
                actions=[("tag", {"operation": "add", "tag": "fair"})])
    rule("Anything offline", "event_of_type", value="offline",
         actions=[("tag", {"operation": "add", "tag": "offline"})])
    for number, name in enumerate(("trade-fair", "phone-call")):
        post(client, EVENTS, {"type": "offline", "name": name, "email": "met@example.com",
                              "id": f"offline:{number}"}, key=api_key)
    contact = Contact.objects.get(email="met@example.com")
    assert set(contact.tags.names()) == {"fair", "offline"}
    assert AutomationRun.objects.filter(rule=fair).count() == 1
    with pytest.raises(ValidationError, match="registered event type"):
        rule("Typo", "event_of_type", value="ofline",
             actions=[("tag", {"operation": "add", "tag": "x"})])
