"""What an automation rule does: each action is a StreamField block that runs itself for a
contact. Side effects that leave the site go through the outbox with a key naming the run
and the action, so a retried run never sends twice. A site adds types with the
AUTOMATION_ACTION_TYPES setting: subclasses of :class:`ActionBlock` (read when the models
load, like segment conditions)."""

from datetime import timedelta

from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.snippets.blocks import SnippetChooserBlock

from ..lifecycle.stages import CONTACT_STAGES


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


def validate_addresses(value):
    for address in addresses(value):
        validate_email(address)


def addresses(value):
    return [part.strip() for part in (value or "").replace(";", ",").split(",") if part.strip()]


class NotifySalesAction(ActionBlock):
    """An alert email about the contact, to sales (e.g. a team address). The alert is an
    email of its own whose merge fields describe the contact ({{ email }}, {{ company }},
    {{ budget }}, ...)."""

    to = blocks.CharBlock(label=_("to"), validators=[validate_addresses],
                          help_text=_("Addresses, separated by commas."))
    email = SnippetChooserBlock("wagtail_leadscore.Email", label=_("alert email"))

    class Meta:
        icon = "warning"
        label = _("Notify sales")

    def run(self, value, run, position):
        from ..mail.outbox import enqueue

        for number, address in enumerate(addresses(value["to"])):
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
