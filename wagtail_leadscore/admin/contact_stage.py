"""Sales decides a contact's stage in the admin (SQL, customer, disqualified, ...): a
``stage_change`` event with the user and the reason, as the API and the alert links do."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..lifecycle.stages import CONTACT_STAGES
from ..lifecycle.transitions import change_stage
from .contact_actions import contact_action, contact_form_page


class StageForm(forms.Form):
    stage = forms.ChoiceField(label=gettext_lazy("Stage"), choices=CONTACT_STAGES)
    reason = forms.CharField(label=gettext_lazy("Why?"), max_length=500, required=False,
                             widget=forms.Textarea(attrs={"rows": 3}))


def stage_view(viewset):
    @contact_action(viewset, "change")
    def view(request, contact):
        form = StageForm(request.POST or None, initial={"stage": contact.stage})
        if request.method == "POST" and form.is_valid():
            changed = change_stage(contact, form.cleaned_data["stage"], by=request.user,
                                   reason=form.cleaned_data["reason"], via="admin")
            if changed:
                messages.success(request, _("%(contact)s is now “%(stage)s”.") % {
                    "contact": contact, "stage": contact.get_stage_display()})
            return redirect(viewset.get_url_name("inspect"), contact.pk)
        return contact_form_page(
            request, contact, form, _("The stage of %(contact)s") % {"contact": contact},
            _("Change the stage"))

    return view
