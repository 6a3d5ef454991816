"""The daily retention task and its django-q2 schedule."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task, result

from wagtail_leadscore import identify
from wagtail_leadscore.models import Event, Visitor

pytestmark = pytest.mark.django_db


def test_schedule_is_installed_by_migrate():
    schedule = Schedule.objects.get(func="wagtail_leadscore.tasks.prune_anonymous_visitors")
    assert schedule.schedule_type == Schedule.DAILY


def test_prune_keeps_contacts_and_recent_visitors(browser_client, demo_pages, time_machine):
    now = timezone.now()
    time_machine.move_to(now - timedelta(days=400))
    browser_client.get(demo_pages[0].url)
    stale_anonymous = Visitor.objects.get()
    old_known = Visitor.objects.create(contact=identify(None, "kept@example.com"))
    time_machine.move_to(now)
    fresh_anonymous = Visitor.objects.create()
    task_id = async_task("wagtail_leadscore.tasks.prune_anonymous_visitors", sync=True)
    assert result(task_id) == 1
    assert set(Visitor.objects.all()) == {old_known, fresh_anonymous}
    assert not Event.objects.filter(visitor_id=stale_anonymous.pk).exists()


def test_prune_keeps_a_contacts_events_and_can_be_switched_off(settings_leadscore):
    long_ago = timezone.now() - timedelta(days=400)
    holder = Visitor.objects.create(first_seen=long_ago, last_seen=long_ago)
    contact = identify(None, "kept@example.com")
    Event.objects.create(type="download", visitor=holder, contact=contact)
    settings_leadscore(ANONYMOUS_RETENTION_DAYS=None)
    Visitor.objects.create(first_seen=long_ago, last_seen=long_ago)
    assert async_task("wagtail_leadscore.tasks.prune_anonymous_visitors", sync=True)
    assert Visitor.objects.count() == 2
    settings_leadscore(ANONYMOUS_RETENTION_DAYS=30)
    task_id = async_task("wagtail_leadscore.tasks.prune_anonymous_visitors", sync=True)
    assert result(task_id) == 1
    assert list(Visitor.objects.all()) == [holder]
    assert contact.events.filter(type="download").exists()


def test_raw_events_past_their_retention_go_and_the_scores_stay(settings_leadscore, time_machine):
    from wagtail_leadscore import record_event
    from wagtail_leadscore.models import AutomationRun, Score

    from .test_segments import offer

    schedule = Schedule.objects.get(func="wagtail_leadscore.tasks.prune_old_events")
    assert schedule.schedule_type == Schedule.DAILY
    contact = identify(None, "kept@example.com")
    page = offer()
    now = timezone.now()
    time_machine.move_to(now - timedelta(days=40))
    old_view = record_event("page_view", contact=contact, page=page, path=page.url)
    time_machine.move_to(now)
    record_event("page_view", contact=contact, page=page, path=page.url)
    score = Score.objects.get(contact=contact, dimension="global").value
    assert async_task("wagtail_leadscore.tasks.prune_old_events", sync=True)
    assert Event.objects.filter(pk=old_view.pk).exists()  # kept by default (None)
    settings_leadscore(EVENT_RETENTION_DAYS=30)
    old = Event.objects.filter(occurred_at__lt=now - timedelta(days=30)).count()
    task_id = async_task("wagtail_leadscore.tasks.prune_old_events", sync=True)
    assert result(task_id) == old >= 1  # the view, and what it caused (segment events)
    assert not Event.objects.filter(pk=old_view.pk).exists()
    assert contact.events.filter(type="page_view").count() == 1
    assert Score.objects.get(contact=contact, dimension="global").value == score
    assert not AutomationRun.objects.filter(event_id=old_view.pk).exists()
