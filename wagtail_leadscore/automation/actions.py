"""What an automation rule does: each action is a StreamField block that runs itself for a
contact. Side effects that leave the site go through the outbox with a key naming the run
and the action, so a retried run never sends twice. A site adds types with the
AUTOMATION_ACTION_TYPES setting: subclasses of :class:`ActionBlock` (read when the models
load, like segment conditions)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.snippets.blocks import SnippetChooserBlock

from ..lifecycle.stages import CONTACT_STAGES
from ..mail.addresses import addresses, validate_addresses
from ..scoring.sources import MAX_AWARDED_POINTS


class Pause(Exception):
    """Raised by an action to run the rest of the actions later (``until``)."""

    def __init__(self, until):
        super().__init__(until)
        self.until = until


class ActionBlock(blocks.StructBlock):
    def run(self, value, run, position):
        """Do the action for ``run.contact``; ``position`` names it within the rule."""
        raise NotImplementedError


class SendEmailAction(ActionBlock):
    email = SnippetChooserBlock("wagtail_leadscore.Email", label=_("email"))

    class Meta:
        icon = "mail"
        label = _("Send an email")

    def run(self, value, run, position):
        from ..mail.outbox import enqueue

        enqueue(run.contact, value["email"], run.action_key(position),
                source=f"rule:{run.rule_id}")


class NotifySalesAction(ActionBlock):
    """An alert email about the contact, to its owner and/or other addresses (a team). The
    alert is an email of its own whose merge fields describe the contact ({{ email }},
    {{ company }}, {{ budget }}, ...)."""

    owner = blocks.BooleanBlock(required=False, label=_("the contact's owner"))
    to = blocks.CharBlock(label=_("to"), validators=[validate_addresses], required=False,
                          help_text=_("Addresses, separated by commas."))
    email = SnippetChooserBlock("wagtail_leadscore.Email", label=_("alert email"))

    class Meta:
        icon = "warning"
        label = _("Notify sales")

    def clean(self, value):
        value = super().clean(value)
        if not value["owner"] and not addresses(value["to"]):
            raise StructBlockValidationError(block_errors={"to": ValidationError(
                _("Give addresses, or send to the contact's owner."))})
        return value

    def run(self, value, run, position):
        from ..mail.outbox import enqueue

        recipients = addresses(value["to"])
        owner = run.contact.owner if value.get("owner") else None
        if owner is not None and owner.email and owner.email not in recipients:
            recipients.insert(0, owner.email)  # a contact without an owner: the others only
        for number, address in enumerate(recipients):
            enqueue(run.contact, value["email"], f"{run.action_key(position)}:{number}",
                    source=f"rule:{run.rule_id}", to_email=address)


class TagAction(ActionBlock):
    operation = blocks.ChoiceBlock(choices=(("add", _("add")), ("remove", _("remove"))),
                                   default="add", label=_("tag"))
    tag = blocks.CharBlock(max_length=100, label=_("tag"))

    class Meta:
        icon = "tag"
        label = _("Add or remove a tag")

    def run(self, value, run, position):
        tags = run.contact.tags
        (tags.add if value["operation"] == "add" else tags.remove)(value["tag"].strip())


class PointsAction(ActionBlock):
    """Points given or taken away: a ``points_awarded`` event that scoring counts like any
    other (it is in the contact's "why this score", and a rebuild awards it again)."""

    operation = blocks.ChoiceBlock(choices=(("add", _("add")), ("remove", _("remove"))),
                                   default="add", label=_("points"))
    points = blocks.IntegerBlock(min_value=1, max_value=MAX_AWARDED_POINTS, default=10,
                                 label=_("how many"))
    stage = blocks.BooleanBlock(required=False, label=_("the stage score too"),
                                help_text=_("Count them towards qualifying again after a "
                                            "contact was sent back to nurturing."))

    class Meta:
        icon = "plus"
        label = _("Add or remove points")

    def run(self, value, run, position):
        from ..events import record_event

        points = value["points"] if value["operation"] == "add" else -value["points"]
        record_event("points_awarded", contact=run.contact, name=f"rule:{run.rule_id}",
                     properties={"points": points, "reason": run.rule.name,
                                 "stage": bool(value["stage"])},
                     dedupe_key=run.action_key(position))


def owner_choices():
    return [(str(user.pk), user.get_full_name() or user.get_username())
            for user in get_user_model().objects.filter(is_active=True).order_by("username")]


def group_choices():
    return [(str(group.pk), group.name) for group in Group.objects.order_by("name")]


class AssignOwnerAction(ActionBlock):
    """A user, or the members of a group in turns (whoever got a contact least recently)."""

    user = blocks.ChoiceBlock(choices=owner_choices, required=False, label=_("user"))
    group = blocks.ChoiceBlock(choices=group_choices, required=False,
                               label=_("or a member of the group, in turns"))
    keep_owner = blocks.BooleanBlock(required=False, default=True,
                                     label=_("only if the contact has no owner yet"))

    class Meta:
        icon = "user"
        label = _("Assign an owner")

    def clean(self, value):
        value = super().clean(value)
        if bool(value["user"]) == bool(value["group"]):
            raise StructBlockValidationError(block_errors={"user": ValidationError(
                _("Choose a user or a group (one of them)."))})
        return value

    def run(self, value, run, position):
        from ..lifecycle.owners import assign_owner, next_in_turn

        contact = run.contact
        if value["keep_owner"] and contact.owner_id is not None:
            return
        if value["user"]:
            owner = get_user_model().objects.filter(pk=value["user"], is_active=True).first()
        else:
            group = Group.objects.filter(pk=value["group"]).first()
            owner = next_in_turn(group) if group is not None else None
        if owner is not None:  # a user or group deleted since: nobody to assign
            assign_owner(contact, owner, reason=run.rule.name, via="automation")


class WebhookAction(ActionBlock):
    """A signed POST about the contact to another system, queued (never in the request)."""

    webhook = SnippetChooserBlock("wagtail_leadscore.Webhook", label=_("webhook"))

    class Meta:
        icon = "link-external"
        label = _("Call a webhook")

    def run(self, value, run, position):
        from ..webhooks.delivery import contact_data, enqueue

        enqueue(value["webhook"], "automation", {
            "rule": {"id": run.rule_id, "name": run.rule.name},
            "contact": contact_data(run.contact)}, run.action_key(position))


class SetStageAction(ActionBlock):
    stage = blocks.ChoiceBlock(choices=CONTACT_STAGES, label=_("stage"))

    class Meta:
        icon = "list-ol"
        label = _("Set the stage")

    def run(self, value, run, position):
        from ..lifecycle.transitions import change_stage

        change_stage(run.contact, value["stage"], reason=run.rule.name, via="automation")


class SequenceAction(ActionBlock):
    operation = blocks.ChoiceBlock(choices=(("start", _("start")), ("stop", _("stop"))),
                                   default="start", label=_("sequence"))
    sequence = SnippetChooserBlock("wagtail_leadscore.Sequence", label=_("sequence"))

    class Meta:
        icon = "redirect"
        label = _("Start or stop a nurture sequence")

    def run(self, value, run, position):
        from ..nurture.scheduler import enrol, stop

        if value["operation"] == "start":
            enrol(run.contact, value["sequence"])
        else:
            stop(run.contact, value["sequence"], reason=f"rule: {run.rule.name}")


class WaitAction(ActionBlock):
    """The actions after this one run later (the rule's conditions are not asked again)."""

    days = blocks.IntegerBlock(min_value=0, default=1, label=_("days"))
    hours = blocks.IntegerBlock(min_value=0, default=0, label=_("hours"))

    class Meta:
        icon = "time"
        label = _("Wait, then continue")

    def run(self, value, run, position):
        raise Pause(timezone.now() + timedelta(days=value["days"], hours=value["hours"]))
