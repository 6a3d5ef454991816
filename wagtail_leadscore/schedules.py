"""The django-q2 schedules leadscore needs, created (idempotently) after every migrate."""

from django.utils import timezone

SCHEDULES = {
    "wagtail_leadscore: prune anonymous visitors": {
        "func": "wagtail_leadscore.tasks.prune_anonymous_visitors",
        "schedule_type": "D",
    },
    "wagtail_leadscore: prune old events": {
        "func": "wagtail_leadscore.tasks.prune_old_events",
        "schedule_type": "D",
    },
    "wagtail_leadscore: age scores": {
        "func": "wagtail_leadscore.tasks.age_scores",
        "schedule_type": "D",
    },
    "wagtail_leadscore: refresh time-based segments": {
        "func": "wagtail_leadscore.tasks.refresh_time_based_segments",
        "schedule_type": "H",
    },
    "wagtail_leadscore: resume automations": {
        "func": "wagtail_leadscore.tasks.resume_automations",
        "schedule_type": "I",
        "minutes": 1,
    },
    "wagtail_leadscore: time-fired automation rules": {
        "func": "wagtail_leadscore.tasks.fire_time_triggers",
        "schedule_type": "H",
    },
    "wagtail_leadscore: nurture sequences": {
        "func": "wagtail_leadscore.tasks.tick_sequences",
        "schedule_type": "I",
        "minutes": 1,
    },
    "wagtail_leadscore: update engagement": {
        "func": "wagtail_leadscore.tasks.update_engagement",
        "schedule_type": "D",
    },
    "wagtail_leadscore: deliver webhooks": {
        "func": "wagtail_leadscore.tasks.deliver_webhooks",
        "schedule_type": "I",
        "minutes": 1,
    },
    "wagtail_leadscore: lead digests": {
        "func": "wagtail_leadscore.tasks.send_digests",
        "schedule_type": "H",
    },
    "wagtail_leadscore: replay deferred events": {
        "func": "wagtail_leadscore.tasks.replay_deferred_events",
        "schedule_type": "I",
        "minutes": 1,
    },
    "wagtail_leadscore: send the outbox": {
        "func": "wagtail_leadscore.tasks.send_outbox",
        "schedule_type": "I",
        "minutes": 1,
    },
}


def ensure_schedules(**kwargs):
    from django.apps import apps

    if not apps.is_installed("django_q"):
        return  # reported by the system check E012
    from django_q.models import Schedule

    for name, options in SCHEDULES.items():
        Schedule.objects.get_or_create(
            name=name, defaults={**options, "next_run": timezone.now()}
        )
