"""Fit: who a contact is (facts), scored by fit rules apart from engagement, graded A-D."""

import re

from django.utils.translation import gettext_lazy as _

from ..conf import get_setting
from ..models import Contact

NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


def fact_value(contact, name):
    if name in Contact.PROFILE_FIELDS:
        return getattr(contact, name)
    return contact.facts.get(name)


def as_number(value):
    """A number from a fact such as "50 000", "50,000 PLN" or 50000; None if there is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = re.sub(r"(?<=\d)[\s\u00a0_'](?=\d{3})", "", str(value or ""))
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)
    match = NUMBER.search(text)
    return float(match.group().replace(",", ".")) if match else None


def validate_fit_rule(rule):
    errors = {}
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", rule.fact or ""):
        errors["fact"] = _("A fact name is letters, digits and underscores, e.g. budget.")
    numeric = rule.operator in ("between", "at_least", "at_most")
    if numeric and as_number(rule.value) is None:
        errors["value"] = _("Give a number.")
    elif rule.operator != "is_set" and not numeric and not (rule.value or "").strip():
        errors["value"] = _("Give the value to compare with.")
    if rule.operator == "between" and as_number(rule.value_to) is None:
        errors["value_to"] = _("Give the upper bound.")
    return errors


def rule_matches(rule, contact):
    value = fact_value(contact, rule.fact)
    if value in (None, "", [], {}):
        return False
    if rule.operator == "is_set":
        return True
    text, wanted = str(value).strip().lower(), rule.value.strip().lower()
    if rule.operator == "equals":
        return text == wanted
    if rule.operator == "contains":
        return wanted in text
    if rule.operator == "one_of":
        return text in {item.strip() for item in wanted.split(",")}
    number = as_number(value)
    if number is None:
        return False
    if rule.operator == "at_least":
        return number >= as_number(rule.value)
    if rule.operator == "at_most":
        return number <= as_number(rule.value)
    return as_number(rule.value) <= number <= as_number(rule.value_to)


def grade_for(score):
    for grade, minimum in get_setting("FIT_GRADES"):
        if score >= minimum:
            return grade
    return "D"


def active_fit_rules():
    from .models import FitRule

    return list(FitRule.objects.filter(is_active=True))


def compute_fit(contact, rules):
    score = sum(rule.points for rule in rules if rule_matches(rule, contact))
    return score, grade_for(score)


def update_fit(contact, rules=None):
    """Recompute ``contact``'s fit; saves and returns True when it changed."""
    score, grade = compute_fit(contact, active_fit_rules() if rules is None else rules)
    if (score, grade) == (contact.fit_score, contact.fit_grade):
        return False
    contact.fit_score, contact.fit_grade = score, grade
    Contact.objects.filter(pk=contact.pk).update(fit_score=score, fit_grade=grade)
    return True


def recompute_all_fit(batch_size=2000):
    """After fit rules changed: every contact's fit, in batches. Returns contacts changed."""
    rules, changed, batch, pending = active_fit_rules(), 0, {}, 0
    for contact in Contact.objects.only("pk", "fit_score", "fit_grade", "facts",
                                        *Contact.PROFILE_FIELDS).iterator(batch_size):
        fit = compute_fit(contact, rules)
        if fit != (contact.fit_score, contact.fit_grade):
            batch.setdefault(fit, []).append(contact.pk)
            pending += 1
        if pending >= batch_size:
            changed += _write_fits(batch)
            batch, pending = {}, 0
    return changed + _write_fits(batch)


def _write_fits(contacts_by_fit):
    """One UPDATE per distinct (score, grade): there are few, whereas ``bulk_update`` would
    send a CASE of one branch per contact. Returns the contacts written."""
    for (score, grade), pks in contacts_by_fit.items():
        Contact.objects.filter(pk__in=pks).update(fit_score=score, fit_grade=grade)
    return sum(map(len, contacts_by_fit.values()))


def queue_fit_recompute(sender, **kwargs):
    """A fit rule saved or deleted: every contact's fit is recomputed by a worker, once the
    change is committed."""
    from django.db import transaction
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task("wagtail_leadscore.tasks.recompute_fit"))
