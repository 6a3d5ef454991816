"""A stand-in for the plugin's ``leadscore_tags`` library: ``{% leadscore_tracker %}``
renders nothing. Used only by ``absent_settings`` (see the comment there)."""

from django import template

register = template.Library()


@register.simple_tag
def leadscore_tracker():
    return ""
