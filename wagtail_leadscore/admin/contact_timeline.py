"""The story part of a contact's admin page: the score over time, the timeline with page
views grouped into visits, and what sales or marketing add to it by hand (a note, an
offline event such as a fair or a call)."""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.db.models import Sum
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..conf import get_setting
from ..events import record_event
from ..scoring.models import GLOBAL, ScoreEntry
from .charts import line_chart
from .contact_actions import contact_action, contact_form_page

# Views of one browser less than this apart are one visit (the usual web analytics rule).
VISIT_GAP = timedelta(minutes=30)
CHART_DAYS = 90


@dataclass
class Visit:
    """Consecutive page views (and beacon events) of one browser; newest first."""

    visitor_id: object
    events: list = field(default_factory=list)

    @property
    def started(self):
        return self.events[-1].occurred_at

    @property
    def ended(self):
        return self.events[0].occurred_at

    @property
    def minutes(self):
        return round((self.ended - self.started).total_seconds() / 60)

    @property
    def page_views(self):
        return sum(event.type == "page_view" for event in self.events)


def timeline_with_visits(events):
    """``events`` (newest first) as a list of Visit and single events: a browser's events
    less than VISIT_GAP apart are one visit; events of no browser (emails, forms from the
    API, stage changes, notes) stand alone."""
    items = []
    for event in events:
        last = items[-1] if items else None
        if event.visitor_id is None:
            items.append(event)
        elif (isinstance(last, Visit) and last.visitor_id == event.visitor_id
              and last.started - event.occurred_at < VISIT_GAP):
            last.events.append(event)
        else:
            items.append(Visit(event.visitor_id, [event]))
    return items


def score_chart(contact, days=None):
    """The running total of the global points the contact earned in the last ``days`` days
    (the score window), as an SVG line; one query."""
    days = days or get_setting("SCORE_WINDOW_DAYS") or CHART_DAYS
    today = timezone.now().date()
    first = today - timedelta(days=days - 1)
    per_day = dict(ScoreEntry.objects.filter(
        contact=contact, dimension=GLOBAL, day__gte=first.toordinal())
        .values_list("day").annotate(points=Sum("points")).order_by())
    if not per_day:
        return ""
    total, series = 0, []
    for offset in range(days):
        day = first + timedelta(days=offset)
        total += per_day.get(day.toordinal(), 0)
        series.append((day.isoformat(), total))
    return line_chart(series, _("Points earned in the last %(days)d days: %(total)d") % {
        "days": days, "total": total})


class TimelineEntryForm(forms.Form):
    NOTE, OFFLINE = "note", "offline"
    kind = forms.ChoiceField(label=gettext_lazy("Add"), choices=[
        (NOTE, gettext_lazy("A note")),
        (OFFLINE, gettext_lazy("An offline event (a fair, a call, a meeting)"))])
    name = forms.CharField(label=gettext_lazy("Title"), max_length=200, help_text=gettext_lazy(
        "An offline event's name is what scoring rules on offline events match."))
    text = forms.CharField(label=gettext_lazy("Details"), max_length=5000, required=False,
                           widget=forms.Textarea(attrs={"rows": 4}))
    day = forms.DateField(label=gettext_lazy("When"), required=False,
                          help_text=gettext_lazy("Empty: now."),
                          widget=forms.DateInput(attrs={"type": "date"}))

    def clean_day(self):
        day = self.cleaned_data["day"]
        if day and day > timezone.localdate():
            raise forms.ValidationError(_("Must not be in the future."))
        return day

    def save(self, contact, user):
        data = self.cleaned_data
        occurred_at = None
        if data["day"] and data["day"] != timezone.localdate():
            occurred_at = timezone.make_aware(datetime.combine(data["day"], time(12)))
        properties = {"text": data["text"], "by": user.get_username()}
        return record_event(data["kind"], contact=contact, name=data["name"],
                            properties=properties, occurred_at=occurred_at)


def timeline_entry_view(viewset):
    @contact_action(viewset, "change")
    def view(request, contact):
        form = TimelineEntryForm(request.POST or None, initial={"kind": request.GET.get(
            "kind", TimelineEntryForm.NOTE)})
        if request.method == "POST" and form.is_valid():
            form.save(contact, request.user)
            messages.success(request, _("Added to the timeline of %(contact)s.") % {
                "contact": contact})
            return redirect(viewset.get_url_name("inspect"), contact.pk)
        return contact_form_page(
            request, contact, form, _("Add to the timeline of %(contact)s") % {
                "contact": contact}, _("Add to the timeline"))

    return view
