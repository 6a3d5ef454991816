"""Nurture sequences with frozen time, through a real SMTP server: seed 002's onboarding
(day 1, 2, 7, 17, 32, 57, then +27) with a branch on a click, the default 7-day cap, the
sending window in the contact's time zone, exits and re-enrolment."""

import datetime
import json
import re
from urllib.parse import urlsplit

import pytest

from wagtail_leadscore.automation.engine import active_rules
from wagtail_leadscore.automation.models import AutomationRule
from wagtail_leadscore.lifecycle.stages import Stage
from wagtail_leadscore.lifecycle.transitions import change_stage
from wagtail_leadscore.mail.outbox import send_due
from wagtail_leadscore.models import Contact
from wagtail_leadscore.nurture.models import (
    Enrolment,
    EnrolmentStatus,
    Reenrolment,
    Sequence,
    SequenceStep,
)
from wagtail_leadscore.nurture.scheduler import enrol, tick

from .test_api import EVENTS, post
from .test_mail import make_email

pytestmark = pytest.mark.django_db

MONDAY = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)  # 10:00 in Warsaw
ONBOARDING = [(1, "welcome"), (2, "first-steps"), (7, "survey", "clicked"),
              (7, "reminder", "not_clicked"), (17, "case-study"), (32, "financing"),
              (57, "visit-us"), (84, "checklist")]


def sequence(name, steps, **fields):
    created = Sequence.objects.create(name=name, **fields)
    for order, (days, slug, *condition) in enumerate(steps):
        SequenceStep.objects.create(sequence=created, sort_order=order, delay_days=days,
                                    email=make_email(f"{name.lower()}-{slug}"),
                                    condition=condition[0] if condition else "always")
    return created


def day(number, hours=0):
    return MONDAY + datetime.timedelta(days=number, hours=hours)


def emails_of(mail_server, address):
    """The slugs of the emails ``address`` received, in order (from the outbox rows)."""
    from wagtail_leadscore.mail.models import OutboxMessage

    ids = [message["Message-ID"] for message in mail_server.inbox.to(address)]
    rows = {row.message_id: row.email.slug for row in OutboxMessage.objects.filter(
        message_id__in=ids).select_related("email")}
    return [rows[message_id].removeprefix("onboarding-") for message_id in ids]


def test_seed_002_onboarding_runs_end_to_end_with_a_branch_on_a_click(
        client, api_key, mail_server, time_machine, browser_client):
    time_machine.move_to(MONDAY, tick=False)
    onboarding = sequence("Onboarding", ONBOARDING, frequency_cap_days=0)
    AutomationRule.objects.create(
        name="New users join the onboarding", trigger="form_submitted", value="sign-up",
        actions=json.dumps([{"type": "sequence", "value": {
            "operation": "start", "sequence": onboarding.pk}}]))
    active_rules.clear()
    for address in ("active@example.com", "silent@example.com"):
        post(client, EVENTS, {"type": "form_submit", "name": "sign-up", "email": address,
                              "id": f"sign-up:{address}"}, key=api_key)
    assert Enrolment.objects.filter(status=EnrolmentStatus.ACTIVE).count() == 2

    for number in (1, 2, 7, 17, 32, 57, 84):
        time_machine.move_to(day(number - 1, 12), tick=False)
        assert tick().get("queued", 0) == 0, f"nothing is due before day {number}"
        time_machine.move_to(day(number), tick=False)
        tick()
        send_due()
        if number == 2:  # the active user clicks the second email, an hour later
            time_machine.move_to(day(2, 1), tick=False)
            [second] = mail_server.inbox.to("active@example.com")[1:]
            link = re.search(r'href="([^"]*/leadscore/m/c/[^"]+)"',
                             second.get_body(("html",)).get_content()).group(1)
            assert browser_client.get(urlsplit(link).path).status_code == 302

    common = ["welcome", "first-steps"]
    later = ["case-study", "financing", "visit-us", "checklist"]
    assert emails_of(mail_server, "active@example.com") == [*common, "survey", *later]
    assert emails_of(mail_server, "silent@example.com") == [*common, "reminder", *later]
    assert set(Enrolment.objects.values_list("status", flat=True)) == {
        EnrolmentStatus.FINISHED}


def test_under_the_default_cap_the_second_email_waits_until_day_8(mail_server, time_machine):
    time_machine.move_to(MONDAY, tick=False)
    contact = Contact.objects.create(email="capped@example.com")
    enrol(contact, sequence("Capped", [(1, "one"), (2, "two")]))
    for number, sent in ((1, 1), (2, 1), (7, 1), (8, 2)):
        time_machine.move_to(day(number), tick=False)
        tick()
        send_due()
        assert len(mail_server.inbox.messages) == sent, f"day {number}"


def test_steps_go_out_in_the_window_of_the_contacts_time_zone(mail_server, time_machine):
    friday_night = datetime.datetime(2026, 3, 6, 19, 0, tzinfo=datetime.UTC)  # 20:00 Warsaw
    time_machine.move_to(friday_night, tick=False)
    warsaw = Contact.objects.create(email="warsaw@example.com")
    new_york = Contact.objects.create(email="ny@example.com",
                                      facts={"time_zone": "America/New_York"})
    now = sequence("Now", [(0, "hello")])
    for contact in (warsaw, new_york):
        enrol(contact, now)
    tick()
    queued = {row.contact.email: row.send_after for row in
              now.steps.get().email.messages.select_related("contact")}
    # Warsaw: Monday 08:00 (07:00 UTC); New York: Friday 14:00 is inside its window.
    assert queued == {"warsaw@example.com": datetime.datetime(2026, 3, 9, 7, 0,
                                                              tzinfo=datetime.UTC),
                      "ny@example.com": friday_night}


def test_exits_and_re_enrolment(mail_server, time_machine):
    time_machine.move_to(MONDAY, tick=False)
    lead = Contact.objects.create(email="lead@example.com")
    steps = [(1, "one"), (2, "two")]
    long = sequence("Long", steps, frequency_cap_days=0)
    enrol(lead, long)
    time_machine.move_to(day(1), tick=False)
    assert tick() == {"queued": 1}
    change_stage(lead, Stage.LEAD)
    time_machine.move_to(day(2), tick=False)
    assert tick() == {"exited: became a lead": 1}
    assert enrol(lead, long) is None  # once per contact

    again = sequence("Again", steps, frequency_cap_days=0, reenrolment=Reenrolment.AFTER_END)
    returning = Contact.objects.create(email="returning@example.com")
    assert enrol(returning, again) and enrol(returning, again) is None  # active already
    time_machine.move_to(day(4), tick=False)  # both steps due: one email per tick
    assert tick() == {"queued": 1}
    assert tick() == {"finished": 1}
    assert enrol(returning, again) is not None  # ended: it may come back


def test_a_step_branches_on_a_segment(mail_server, time_machine):
    from django.core.exceptions import ValidationError

    from .test_segments import segment

    time_machine.move_to(MONDAY, tick=False)
    developers = segment("Developers", ("tag", {"tag": "developer"}))
    guide = sequence("Guide", [(1, "welcome")], frequency_cap_days=0)
    for order, (slug, condition) in enumerate(
            (("api", "in_segment"), ("overview", "not_in_segment")), start=1):
        SequenceStep.objects.create(sequence=guide, sort_order=order, delay_days=2,
                                    email=make_email(f"guide-{slug}"), condition=condition,
                                    segment=developers)
    coder, buyer = (Contact.objects.create(email=f"{name}@example.com")
                    for name in ("coder", "buyer"))
    coder.tags.add("developer")
    for contact in (coder, buyer):
        enrol(contact, guide)
    for number in (1, 2):
        time_machine.move_to(day(number), tick=False)
        tick()
        send_due()
    assert emails_of(mail_server, "coder@example.com") == ["guide-welcome", "guide-api"]
    assert emails_of(mail_server, "buyer@example.com") == ["guide-welcome", "guide-overview"]
    unasked = SequenceStep(sequence=guide, email=guide.steps.first().email,
                           condition="in_segment")
    with pytest.raises(ValidationError, match="Choose the segment"):
        unasked.full_clean()


def test_sequences_in_the_admin_and_who_may_see_them(admin_client, client, django_user_model):
    from django.contrib.auth.models import Permission
    from django.urls import reverse

    onboarding = sequence("Onboarding", ONBOARDING[:2], frequency_cap_days=0)
    enrol(Contact.objects.create(email="in@example.com"), onboarding)
    listing = admin_client.get(reverse("wagtailsnippets_wagtail_leadscore_sequence:list"))
    assert listing.status_code == 200 and "Onboarding" in listing.content.decode()
    edit = admin_client.get(reverse("wagtailsnippets_wagtail_leadscore_sequence:edit",
                                    args=[onboarding.pk]))
    assert edit.status_code == 200 and "Onboarding Welcome" in edit.content.decode()
    editor = django_user_model.objects.create_user("editor", password="pw")
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    for name in ("sequence", "automationrule"):
        url = reverse(f"wagtailsnippets_wagtail_leadscore_{name}:list")
        assert client.get(url).status_code in (302, 403), url
