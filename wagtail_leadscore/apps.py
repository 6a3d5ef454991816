from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


class WagtailLeadscoreConfig(AppConfig):
    name = "wagtail_leadscore"
    label = "wagtail_leadscore"
    verbose_name = _("Lead scoring")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
        from .automation.engine import active_rules, record_added_tags, run_rules
        from .automation.models import AutomationRule
        from .events import event_recorded, join_visitor_event_inserts
        from .models import Contact
        from .sales.alerts import alert_on_lead
        from .schedules import ensure_schedules
        from .scoring.engine import score_recorded_event, scoring_insert
        from .scoring.fit import queue_fit_recompute
        from .scoring.models import FitRule
        from .scoring.sources import connect_signals
        from .segments import membership
        from .webhooks.models import Webhook
        from .webhooks.subscriptions import notify_webhooks, subscriptions

        post_migrate.connect(ensure_schedules, sender=self)
        event_recorded.connect(score_recorded_event, dispatch_uid="leadscore_scoring")
        # After scoring: score conditions read the scores this event changed.
        event_recorded.connect(membership.update_on_event, dispatch_uid="leadscore_segments")
        # After segments: rules read segment memberships and react to their events.
        event_recorded.connect(run_rules, dispatch_uid="leadscore_automation")
        # After automation: a rule may give the new lead an owner before the alert.
        event_recorded.connect(alert_on_lead, dispatch_uid="leadscore_lead_alert")
        # Last: a payload tells the contact as this event and its rules left it.
        event_recorded.connect(notify_webhooks, dispatch_uid="leadscore_webhooks")
        for signal in (post_save, post_delete):
            signal.connect(active_rules.clear, sender=AutomationRule,
                           dispatch_uid=f"leadscore_rules_{signal is post_save}")
            signal.connect(subscriptions.clear, sender=Webhook,
                           dispatch_uid=f"leadscore_webhooks_{signal is post_save}")
        m2m_changed.connect(record_added_tags, sender=Contact.tags.through,
                            dispatch_uid="leadscore_tag_added")
        join_visitor_event_inserts(membership.membership_read)
        membership.connect_signals()
        join_visitor_event_inserts(scoring_insert)
        connect_signals()
        for signal in (post_save, post_delete):
            signal.connect(queue_fit_recompute, sender=FitRule,
                           dispatch_uid=f"leadscore_fit_{signal is post_save}")
