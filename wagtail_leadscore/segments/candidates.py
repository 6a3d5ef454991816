"""Which active segments an event can change, found without asking every segment in turn.

Every page view must learn which segments it can change. Asking each segment's "visited a
URL" conditions one by one costs a matcher call per condition, so the serve time would grow
with the number of segments. Instead the URL conditions of all active segments are indexed
by kind when the segments load: exact URLs in dicts, subtrees by page path, substrings,
word sets and expressions in short lists tested against the event's URL lower-cased once.
A page view then costs a few lookups and substring tests. Other condition types answer
``changed_by`` themselves; those reading the event's new scores (``reads_scores``) only
once scoring is done. The URL kinds mean what scoring's URL triggers mean
(``scoring.triggers``).
"""

from collections import defaultdict

from wagtail.models import Page

from ..scoring.triggers import event_url, exact_target, normalize_path, split_words
from ..url_regex import url_matcher
from .compiler import leaves


class CandidateIndex:
    """The active segments (in their order) and their conditions, indexed for events."""

    def __init__(self, segments):
        self.segments = segments
        self.positions = {segment.pk: position for position, segment in enumerate(segments)}
        self.exact_paths = defaultdict(set)  # normalised lower-case path -> positions
        self.exact_urls = defaultdict(set)  # lower-case "path?query" -> positions
        self.subtrees = defaultdict(set)  # page tree path -> positions
        self.substrings = []  # (lower-case strings that must all occur, position)
        self.patterns = []  # (url_matcher of an expression, position)
        self.others = []  # (position, block, value): conditions that answer changed_by
        self.scored = []  # the same, for conditions that read the event's new scores
        for position, segment in enumerate(segments):
            for block, value in leaves(segment):
                rule = block.url_rule(value)
                if rule is not None:
                    self._add_url_rule(position, *rule)
                elif block.reads_scores(value):
                    self.scored.append((position, block, value))
                else:
                    self.others.append((position, block, value))

    def _add_url_rule(self, position, match, target):
        if match == "url_exact":
            target = exact_target(target)
            if "?" in target:
                self.exact_urls[target.lower()].add(position)
            else:
                self.exact_paths[normalize_path(target).lower()].add(position)
        elif match == "url_words":
            self.substrings.append((tuple(split_words(target)), position))
        elif match == "url_contains":
            self.substrings.append(((target.strip().lower(),), position))
        elif match == "url_regex":
            self.patterns.append((url_matcher(target.strip()), position))
        elif match == "page_subtree" and target:
            self.subtrees[target].add(position)

    @property
    def reads_scores(self):
        """Whether some segment can only be judged once the event's scores are known."""
        return bool(self.scored)

    def before_scoring(self, event, page_path):
        """The segments ``event`` can change by what it is (its URL, type, name...), in
        segment order. ``page_path(event)``: the tree path of the event's page, or None."""
        hits = set()
        if event.type == "page_view":
            self._url_hits(event, page_path, hits)
        self._answered(self.others, event, hits)
        return self._ordered(hits)

    def after_scoring(self, event, known):
        """``known`` (what ``before_scoring`` gave) and the segments the event's new scores
        (``event.leadscore_scores``) can change, in segment order."""
        if not self.scored:
            return known
        hits = {self.positions[segment.pk] for segment in known if segment.pk in self.positions}
        self._answered(self.scored, event, hits)
        return self._ordered(hits)

    def _answered(self, conditions, event, hits):
        for position, block, value in conditions:
            if position not in hits and block.changed_by(value, event):
                hits.add(position)

    def _ordered(self, hits):
        return [self.segments[position] for position in sorted(hits)]

    def _url_hits(self, event, page_path, hits):
        url = event_url(event)
        lowered = url.lower()
        hits.update(self.exact_paths.get(normalize_path(event.path).lower(), ()))
        hits.update(self.exact_urls.get(lowered, ()))
        for needles, position in self.substrings:
            if all(needle in lowered for needle in needles):
                hits.add(position)
        for matches, position in self.patterns:
            if matches(url):
                hits.add(position)
        if self.subtrees:
            path = page_path(event) or ""
            # The page and its ancestors: the prefixes of its path, one tree level each.
            for end in range(Page.steplen, len(path) + 1, Page.steplen):
                hits.update(self.subtrees.get(path[:end], ()))
