"""A segment's conditions, as stored StreamField data, compiled to one ``Q`` (django-drip's
way: rules are data, applied as querysets), and what the incremental update needs to know
of them: whether an event can only add members, whether time alone can change them, which
segments they use (which events can change them: ``candidates``)."""

from django.db.models import Q

from .conditions import NOTHING

MEMBER_KINDS = ("contact", "visitor")


def combine(match, parts):
    if match == "any":
        return Q(*parts, _connector=Q.OR) if parts else NOTHING
    combined = Q(*parts)
    return ~combined if match == "none" and parts else combined


def conditions_q(match, conditions, scope):
    parts = []
    for child in conditions:
        if child.block_type == "group":
            parts.append(conditions_q(child.value["match"], child.value["conditions"], scope))
        else:
            parts.append(child.block.compile(child.value, scope))
    return combine(match, parts)


def segment_q(segment, scope):
    """The people of ``scope`` who are members of ``segment`` by its conditions."""
    if scope.kind == "visitor" and not segment.include_visitors:
        return NOTHING
    return conditions_q(segment.match, segment.conditions, scope)


def leaf_conditions(conditions):
    """(block, value) of every condition, groups opened."""
    for child in conditions:
        if child.block_type == "group":
            yield from leaf_conditions(child.value["conditions"])
        else:
            yield child.block, child.value


def remember_compiled(segment):
    """For the segments of the per-event cache (``membership.active_segments``), which never
    change: list the leaves and whether the segment only grows once, not per event."""
    segment.leadscore_leaves = list(leaf_conditions(segment.conditions))
    segment.leadscore_only_grows = _segment_only_grows(segment)


def leaves(segment):
    """``leaf_conditions`` of ``segment``: as remembered for a cached segment, computed
    afresh for any other (e.g. one being edited)."""
    listed = getattr(segment, "leadscore_leaves", None)
    return listed if listed is not None else list(leaf_conditions(segment.conditions))


def only_grows(segment):
    """Whether a new event can only bring people into ``segment``, never take them out
    (e.g. "visited a URL"; not a score, which an event can lower, nor "none of")."""
    known = getattr(segment, "leadscore_only_grows", None)
    return known if known is not None else _segment_only_grows(segment)


def _segment_only_grows(segment):
    return segment.match != "none" and _only_grow(segment.conditions)


def _only_grow(conditions):
    for child in conditions:
        if child.block_type == "group":
            if child.value["match"] == "none" or not _only_grow(child.value["conditions"]):
                return False
        elif not child.block.only_grows(child.value):
            return False
    return True


def reads_contact(segment):
    return any(block.reads_contact(value) for block, value in leaves(segment))


def is_time_based(segment):
    return any(block.time_based(value) for block, value in leaves(segment))


def referenced_segments(segment, deep=False):
    """The segments ``segment``'s "member of" conditions use (and theirs, with ``deep``)."""
    found, todo = [], [segment]
    while todo:
        current = todo.pop()
        for block, value in leaves(current):
            for other in block.referenced_segments(value):
                if other not in found:
                    found.append(other)
                    if deep and other != segment:
                        todo.append(other)
    return found
