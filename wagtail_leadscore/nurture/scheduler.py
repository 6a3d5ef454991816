"""Enrolling contacts and the scheduler tick. A tick takes the due enrolments in batches
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two ticks never advance the same one), reads
what it needs for a whole batch at once (steps, exits, clicks and opens of the previous
emails), and queues each due step's email in the outbox, inside the sequence's sending
window in the contact's time zone. The outbox then applies the frequency cap: a capped
step is deferred, never dropped."""

import zoneinfo
from collections import Counter
from datetime import datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..db import savepoint_if_in_transaction, select_for_update
from ..lifecycle.engagement import inactive_among
from ..lifecycle.stages import LEAD_STAGES
from ..mail.outbox import enqueue
from .models import DelayFrom, Enrolment, EnrolmentStatus, Reenrolment, StepCondition

TICK_BATCH = 500
# Stages at which "leave on becoming a lead" ends an enrolment.


def enrol(contact, sequence, now=None):
    """Enrol ``contact``; returns the enrolment, or None (inactive or empty sequence,
    enrolled already, or enrolled before and the sequence enrols once)."""
    now = now or timezone.now()
    steps = list(sequence.steps.all())
    if not sequence.is_active or not steps:
        return None
    earlier = Enrolment.objects.filter(sequence=sequence, contact=contact)
    if earlier.filter(status=EnrolmentStatus.ACTIVE).exists():
        return None
    if sequence.reenrolment == Reenrolment.NEVER and earlier.exists():
        return None
    try:
        with savepoint_if_in_transaction():
            return Enrolment.objects.create(
                sequence=sequence, contact=contact, enrolled_at=now,
                next_run_at=now + timedelta(days=steps[0].delay_days))
    except IntegrityError:  # enrolled meanwhile by another process
        return None


def stop(contact, sequence, reason="stopped", now=None):
    """End the contact's active enrolment in ``sequence``; returns whether there was one."""
    return bool(Enrolment.objects.filter(
        sequence=sequence, contact=contact, status=EnrolmentStatus.ACTIVE).update(
        status=EnrolmentStatus.EXITED, exit_reason=reason[:100],
        ended_at=now or timezone.now(), next_run_at=None))


def tick(now=None):
    """Advance every due enrolment; returns the counts per outcome ("queued", "skipped",
    "waiting", "finished", "exited: <reason>")."""
    now = now or timezone.now()
    outcomes = Counter()
    while True:
        with transaction.atomic():
            batch = list(select_for_update(Enrolment.objects, skip_locked=True, of=("self",))
                         .filter(status=EnrolmentStatus.ACTIVE, next_run_at__lte=now)
                         .select_related("contact", "sequence")
                         .order_by("next_run_at", "pk")[:TICK_BATCH])
            if batch:
                outcomes.update(Batch(batch, now).advance())
        if len(batch) < TICK_BATCH:
            return dict(outcomes)


class Batch:
    """What a batch of due enrolments needs, read at once: the steps of their sequences,
    who must leave, which previous emails were clicked or opened, and who is in the
    segments the exits and steps ask about."""

    def __init__(self, enrolments, now):
        from ..models import Event, SegmentMembership

        self.enrolments, self.now = enrolments, now
        sequences = {enrolment.sequence_id: enrolment.sequence for enrolment in enrolments}
        self.steps = {pk: list(sequence.steps.select_related("email"))
                      for pk, sequence in sequences.items()}
        contacts = {enrolment.contact_id for enrolment in enrolments}
        self.inactive = inactive_among(contacts, now)
        segments = {sequence.exit_segment_id for sequence in sequences.values()} | {
            step.segment_id for steps in self.steps.values() for step in steps}
        segments.discard(None)
        self.memberships = set(  # (segment id, contact id): exits and step conditions
            SegmentMembership.objects.filter(segment__in=segments, contact__in=contacts)
            .values_list("segment_id", "contact_id")) if segments else set()
        self.exit_segments = {pk: sequence.exit_segment_id for pk, sequence in sequences.items()}
        messages = [enrolment.last_message_id for enrolment in enrolments
                    if enrolment.last_message_id]
        self.reactions = set(Event.objects.filter(
            type__in=("email_click", "email_open"), properties__message__in=messages)
            .values_list("type", "properties__message")) if messages else set()

    def advance(self):
        outcomes = Counter(self.advance_one(enrolment) for enrolment in self.enrolments)
        Enrolment.objects.bulk_update(self.enrolments, [
            "status", "next_step", "next_run_at", "last_sent_at", "last_message", "ended_at",
            "exit_reason"])
        return outcomes

    def exit_reason(self, enrolment):
        contact, sequence = enrolment.contact, enrolment.sequence
        if contact.unsubscribed_at or contact.bounced_at:
            return "unsubscribed" if contact.unsubscribed_at else "bounced"
        if contact.pk in self.inactive:
            return "inactive"
        if sequence.exit_on_lead and contact.stage in LEAD_STAGES:
            return "became a lead"
        segment = self.exit_segments[sequence.pk]
        if segment and (segment, contact.pk) in self.memberships:
            return "entered the exit segment"
        return None

    def advance_one(self, enrolment):
        if not enrolment.sequence.is_active:
            enrolment.next_run_at = self.now + timedelta(days=1)  # paused: look again later
            return "waiting"
        reason = self.exit_reason(enrolment)
        if reason:
            self.end(enrolment, EnrolmentStatus.EXITED, reason)
            return f"exited: {reason}"
        steps = self.steps[enrolment.sequence_id]
        skipped = False
        while enrolment.next_step < len(steps):
            step = steps[enrolment.next_step]
            due = due_at(enrolment, step)
            if due > self.now:
                enrolment.next_run_at = due
                return "skipped" if skipped else "waiting"
            if not self.condition_holds(enrolment, step):
                enrolment.next_step += 1
                skipped = True
                continue
            self.queue(enrolment, step, due)
            enrolment.next_step += 1
            while (step.condition != StepCondition.ALWAYS
                   and enrolment.next_step < len(steps)
                   and is_alternative(steps[enrolment.next_step], step)):
                enrolment.next_step += 1
            if enrolment.next_step < len(steps):
                enrolment.next_run_at = due_at(enrolment, steps[enrolment.next_step])
                return "queued"
            break
        self.end(enrolment, EnrolmentStatus.FINISHED, "")
        return "finished"

    def condition_holds(self, enrolment, step):
        message = enrolment.last_message_id
        clicked = ("email_click", message) in self.reactions
        opened = clicked or ("email_open", message) in self.reactions
        member = (step.segment_id, enrolment.contact_id) in self.memberships
        return {StepCondition.ALWAYS: True, StepCondition.CLICKED: clicked,
                StepCondition.NOT_CLICKED: not clicked, StepCondition.OPENED: opened,
                StepCondition.NOT_OPENED: not opened, StepCondition.IN_SEGMENT: member,
                StepCondition.NOT_IN_SEGMENT: not member}[step.condition]

    def queue(self, enrolment, step, due):
        sequence = enrolment.sequence
        send_after = sending_window(max(due, self.now), sequence, enrolment.contact)
        enrolment.last_message = enqueue(
            enrolment.contact, step.email, f"nurture:{enrolment.pk}:{step.pk}",
            send_after=send_after, source=f"sequence:{sequence.pk}",
            frequency_cap_days=sequence.frequency_cap_days)
        enrolment.last_sent_at = send_after

    def end(self, enrolment, status, reason):
        enrolment.status, enrolment.exit_reason = status, reason
        enrolment.ended_at, enrolment.next_run_at = self.now, None


def is_alternative(step, sent):
    """Consecutive conditional steps with the same delay are one branch: the first whose
    condition holds is sent, its alternatives are not."""
    return (step.condition != StepCondition.ALWAYS and step.delay_days == sent.delay_days
            and step.delay_from == sent.delay_from)


def due_at(enrolment, step):
    if step.delay_from == DelayFrom.PREVIOUS and enrolment.last_sent_at:
        base = enrolment.last_sent_at
    else:
        base = enrolment.enrolled_at
    return base + timedelta(days=step.delay_days)


def contact_time_zone(contact):
    """The contact's ``time_zone`` fact (an IANA name such as "Europe/Warsaw"), else the
    site's TIME_ZONE."""
    name = (contact.facts or {}).get("time_zone")
    if isinstance(name, str) and name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_default_timezone()


def sending_window(moment, sequence, contact):
    """The first moment from ``moment`` inside the sequence's hours (and weekdays), in the
    contact's time zone."""
    zone = contact_time_zone(contact)
    local = moment.astimezone(zone)
    for _ in range(8):
        opens = datetime.combine(local.date(), time(sequence.send_from_hour), tzinfo=zone)
        if sequence.weekdays_only and local.weekday() >= 5 or (
                local.hour >= sequence.send_until_hour):
            local = opens + timedelta(days=1)
            continue
        return max(local, opens)
    return local
