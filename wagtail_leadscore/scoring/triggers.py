"""What a scoring rule reacts to: each trigger validates a rule and compiles it to a matcher.

A matcher is ``matcher(event, page_path)``: ``event`` has ``type``, ``name``, ``path``,
``query``, ``page_id`` and ``properties``; ``page_path(page_id)`` gives a page's tree path
(for subtree rules). URL triggers look at the path plus the query string, case-insensitively;
expressions are matched in linear time, as ``url_regex`` says.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy as _

from ..url_regex import pattern_error, url_matcher


@dataclass(frozen=True)
class Trigger:
    key: str
    label: str
    event_type: str
    # "required", "optional" or "" (no value): what the rule's ``value`` means here.
    value: str
    compile: object  # rule -> matcher

    def event_type_of(self, rule):
        """The type of the events that can fire ``rule`` ("" for any): what rules are
        indexed by."""
        return self.event_type

    def validate(self, rule):
        """Field errors of ``rule`` for this trigger, as a dict."""
        value = (rule.value or "").strip()
        if self.value == "required" and not value:
            return {"value": _("This trigger needs a value to match.")}
        refused = self.key == "url_regex" and pattern_error(value)
        if refused:
            return {"value": refused}
        if self.key == "url_exact" and not (value.startswith("/") or urlsplit(value).path):
            return {"value": _("Give a URL path such as /pricing/.")}
        if self.key == "page_subtree" and rule.page_id is None:
            return {"page": _("Choose the page whose subtree scores.")}
        return {}


def event_url(event):
    return f"{event.path}?{event.query}" if event.query else event.path


def normalize_path(path):
    return path.rstrip("/") or "/"


def exact_target(value):
    """What an "URL is exactly" value names: a path, or path?query (of a full URL too)."""
    target = value.strip()
    if "://" in target:
        parts = urlsplit(target)
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
    return target


def exact_url(rule):
    target = exact_target(rule.value)
    if "?" in target:
        return lambda event, page_path: event_url(event).lower() == target.lower()
    target = normalize_path(target).lower()
    return lambda event, page_path: normalize_path(event.path).lower() == target


def split_words(value):
    """The lower-case words of a "URL contains all the words" value."""
    return [word for word in re.split(r"[\s,]+", value.lower()) if word]


def url_words(rule):
    words = split_words(rule.value)
    return lambda event, page_path: all(word in event_url(event).lower() for word in words)


def url_contains(rule):
    needle = rule.value.strip().lower()
    return lambda event, page_path: needle in event_url(event).lower()


def url_regex(rule):
    matches = url_matcher(rule.value.strip())
    return lambda event, page_path: matches(event_url(event))


def page_subtree(rule):
    root_path = rule.page.path

    def matches(event, page_path):
        path = page_path(event.page_id) if event.page_id else None
        return path is not None and path.startswith(root_path)

    return matches


def named(*property_names, contains=False):
    """Any event of the type when the rule has no value; else the event's name (or one of
    ``property_names``) equals, or with ``contains`` holds, the value."""

    def compile_rule(rule):
        wanted = rule.value.strip().lower()
        if not wanted:
            return lambda event, page_path: True

        def matches(event, page_path):
            candidates = [event.name, *(str(event.properties.get(name, ""))
                                        for name in property_names)]
            if contains:
                candidates.append(event.path)
                return any(wanted in candidate.lower() for candidate in candidates if candidate)
            return any(candidate.lower() == wanted for candidate in candidates if candidate)

        return matches

    return compile_rule


def form_answer(rule):
    field = rule.value.strip()
    wanted = rule.answer.strip().lower()

    def matches(event, page_path):
        answers = event.properties.get("answers")
        answer = answers.get(field) if isinstance(answers, dict) else None
        values = answer if isinstance(answer, list) else [answer]
        values = [str(value).strip().lower() for value in values if value not in (None, "")]
        return bool(values) and (not wanted or wanted in values)

    return matches


TRIGGERS = {
    trigger.key: trigger
    for trigger in (
        Trigger("url_exact", _("Page view: URL is exactly"), "page_view", "required",
                exact_url),
        Trigger("url_words", _("Page view: URL contains all the words"), "page_view",
                "required", url_words),
        Trigger("url_contains", _("Page view: URL contains the string"), "page_view",
                "required", url_contains),
        Trigger("url_regex", _("Page view: URL matches the regular expression"), "page_view",
                "required", url_regex),
        Trigger("page_subtree", _("Page view: the page or one of its subpages"), "page_view",
                "", page_subtree),
        Trigger("form_submitted", _("Form submitted (any, or the one named)"), "form_submit",
                "optional", named("form")),
        Trigger("download", _("Document downloaded (any, or name contains)"), "download",
                "optional", named("document", contains=True)),
        Trigger("email_open", _("Email opened (any, or the one named)"), "email_open",
                "optional", named("email")),
        Trigger("email_click", _("Email link clicked (any, or the email named)"),
                "email_click", "optional", named("email")),
        Trigger("custom_event", _("Custom JavaScript event named"), "custom", "required",
                named()),
        Trigger("offline_event", _("Offline event named"), "offline", "required", named()),
        Trigger("form_answer", _("Form answer: the field named gives the answer"),
                "form_submit", "required", form_answer),
    )
}


def trigger_choices():
    return [(trigger.key, trigger.label) for trigger in TRIGGERS.values()]
