"""The regular expressions admins type for URL conditions (scoring rules, segments,
automation rules): one validator, and matching in time linear in the URL whatever the
expression, in Python and in SQL alike.

Python's ``re`` backtracks: ``(a+)+$`` took 14 s against a visitor's 25-character query
string. RE2 (google-re2) never backtracks, so the serve path matches with it. Segments
match in SQL too (rebuilds, the update of one person), so an expression is read here in
one dialect and translated, unambiguously, for each engine: RE2 in Python and on SQLite
(a function of our own: Django's REGEXP there is Python's ``re``), PostgreSQL's ``~`` (an
automaton: linear without backreferences, which the dialect has not) and MariaDB / MySQL's
PCRE2 ``REGEXP``, which backtracks, so there a repeated group may not repeat inside.

The dialect: literal characters, escaped punctuation (``\\.``), ``\\t \\n \\r \\f``,
``\\d \\w \\s`` and ``\\D \\W \\S`` (their ASCII characters), ``.`` (any character, a
newline too), classes ``[...]`` (ranges between two digits or two letters of one case),
groups ``(...)`` and ``(?:...)``, ``|``, ``^``, ``$`` (the very end), ``* + ?`` and
``{m,n}`` up to 255, lazy or not. Case is ignored by spelling both cases out (``k`` becomes
``[kK]``), never by an engine's or a locale's own folding.
"""

import logging
from functools import lru_cache

import re2
from django.db import NotSupportedError, connection
from django.db.backends.signals import connection_created
from django.db.models import Lookup
from django.dispatch import receiver
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

MAX_LENGTH = 500  # characters of an expression (a scoring rule's value holds 500)
MAX_PROGRAM_SIZE = 500  # RE2 instructions: the worst time per character grows with them
MAX_REPEAT = 255  # PostgreSQL's highest repeat count
# A longer URL matches no expression: matching reads at most this many characters (twice
# the longest request line nginx and Apache accept by default).
MAX_URL_LENGTH = 16_384
SQLITE_FUNCTION = "leadscore_url_matches"

CLASS_ESCAPES = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\f\\r "}
CHARACTER_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
SPECIAL = set("\\^$.|?*+()[]{}")
BACKTRACKING = {"mysql"}  # PCRE2
END = {"mysql": "\\z"}  # PCRE2's $ also matches before a final newline
PREFIX = {"mysql": "(?s-i)"}  # . matches a newline; case as spelled, whatever the collation


class PatternError(ValueError):
    """An expression the validator refuses; the message says why, for the admin form."""


def pattern_error(pattern, vendor=None):
    """Why ``pattern`` cannot be a URL condition on a ``vendor`` database (by default the
    default database's), or None: the one validator of every stored URL expression."""
    try:
        compiled(pattern, vendor or connection.vendor)
    except PatternError as error:
        return str(error)
    return None


@lru_cache(maxsize=256)
def url_matcher(pattern):
    """``matches(url)`` for ``pattern``, in time linear in the URL. An expression the
    validator refuses (saved by code, or before the validator refused it) matches nothing,
    in SQL too (``UrlMatches``)."""
    try:
        expression = compiled(pattern, connection.vendor)
    except PatternError as error:
        logger.warning("The URL expression %r matches nothing: %s", pattern, error)
        return lambda url: False
    return lambda url: len(url) <= MAX_URL_LENGTH and expression.search(url) is not None


@lru_cache(maxsize=256)
def compiled(pattern, vendor):
    """``pattern`` compiled by RE2, once checked for ``vendor``'s engine too."""
    if len(pattern) > MAX_LENGTH:
        raise PatternError(_("Write at most %(limit)d characters.") % {"limit": MAX_LENGTH})
    options = re2.Options()
    options.log_errors = False
    options.dot_nl = True
    options.never_capture = True
    try:
        expression = re2.compile(translate(pattern, "re2"), options)
    except re2.error as error:
        # "missing ): <the translation>": the translation is not what the admin typed.
        reason = error.args[0] if error.args else b""
        reason = reason.decode(errors="replace") if isinstance(reason, bytes) else reason
        raise PatternError(_("Not a valid regular expression: %(error)s") % {
            "error": reason.partition(":")[0]}) from None
    if expression.programsize > MAX_PROGRAM_SIZE:
        raise PatternError(_(
            "This expression is too complex (%(size)d steps, at most %(limit)d): write + or "
            "* instead of large repeat counts.") % {
                "size": expression.programsize, "limit": MAX_PROGRAM_SIZE})
    if vendor in BACKTRACKING:
        translate(pattern, vendor)
    return expression


def translate(pattern, engine):
    """``pattern`` for ``engine`` ("re2", or a database vendor), or PatternError for what
    the dialect has not. What the dialect has, the translation spells so that no engine
    can read it otherwise; the structure (parentheses, repeat counts in order) is left to
    RE2's compiler."""
    out, position = [PREFIX.get(engine, "")], 0
    groups = [Group()]  # the groups open, the whole expression first
    repeatable = lazy_allowed = False
    closed = None  # the group just closed
    while position < len(pattern):
        char = pattern[position]
        position += 1
        if char in "*+?{":
            if char == "?" and lazy_allowed:
                out.append("?")
                lazy_allowed = False
                continue
            if not repeatable:
                raise PatternError(_(
                    "%(char)s follows nothing it can repeat: write \\%(char)s for the "
                    "character itself.") % {"char": char})
            if char == "{":
                char, position = repeat_count(pattern, position)
            if engine in BACKTRACKING and closed and (closed.repeats or closed.alternates):
                raise PatternError(_(
                    "MariaDB and MySQL backtrack, so a repeated group may not repeat or hold "
                    "alternatives itself, as in (a+)+ or (a|ab)+."))
            groups[-1].repeats = True
            out.append(char)
            repeatable, lazy_allowed, closed = False, True, None
            continue
        lazy_allowed, closed, repeatable = False, None, True
        if char == "\\":
            text, position = escape(pattern, position)
        elif char == "[":
            text, position = character_class(pattern, position)
        elif char == "(":
            if pattern.startswith("?", position):
                if not pattern.startswith("?:", position):
                    raise PatternError(_(
                        "Only (?: groups are supported: lookarounds, named groups and flags "
                        "are not."))
                position += 2
            groups.append(Group())
            text, repeatable = "(?:", False
        elif char == ")":
            closed = groups.pop() if len(groups) > 1 else Group()
            groups[-1].repeats |= closed.repeats
            groups[-1].alternates |= closed.alternates
            text = ")"
        elif char == "|":
            groups[-1].alternates = True
            text, repeatable = "|", False
        elif char in "^$":
            text, repeatable = (END.get(engine, "$") if char == "$" else "^"), False
        elif char == "}":
            raise PatternError(_("Write \\{ and \\} for literal braces."))
        elif char == ".":
            text = "."
        else:
            partner = case_partner(char)
            text = f"[{char}{partner}]" if partner else ("\\" + char if char in SPECIAL
                                                         else char)
        out.append(text)
    return "".join(out)


class Group:
    """What a group holds, as far as backtracking goes."""

    def __init__(self):
        self.repeats = self.alternates = False


def repeat_count(pattern, position):
    """The ``{m}``, ``{m,}`` or ``{m,n}`` whose ``{`` is before ``position``, and the
    position after it."""
    end = pattern.find("}", position)
    low, comma, high = pattern[position:end].partition(",") if end != -1 else ("", "", "")
    if not (is_number(low) and (is_number(high) or not high)):
        raise PatternError(_(
            "Write \\{ and \\} for literal braces; { starts a repeat count such as {2,5}."))
    if max(int(low), int(high or 0)) > MAX_REPEAT:
        raise PatternError(_("Repeat counts go up to %(limit)d.") % {"limit": MAX_REPEAT})
    return "{" + low + comma + high + "}", end + 1


def is_number(text):
    return text.isascii() and text.isdigit()


def escape(pattern, position):
    """What the ``\\`` before ``position`` starts, and the position after it."""
    char = escaped_char(pattern, position)
    if char.lower() in CLASS_ESCAPES:
        return f"[{'^' if char.isupper() else ''}{CLASS_ESCAPES[char.lower()]}]", position + 1
    literal_escape(char)
    return "\\" + char, position + 1


def escaped_char(pattern, position):
    if position == len(pattern):
        raise PatternError(_("The expression ends with a lone backslash."))
    return pattern[position]


def literal_escape(char):
    """The character ``\\char`` stands for (a character escape, escaped punctuation)."""
    if char in CHARACTER_ESCAPES:
        return CHARACTER_ESCAPES[char]
    if char.isascii() and not char.isalnum():
        return char
    if char.isdigit():
        raise PatternError(_("A backreference (\\%(char)s) is not supported.") % {
            "char": char})
    raise PatternError(_(
        "The escape \\%(char)s is not supported; use \\d, \\w, \\s (and \\D, \\W, \\S), "
        "\\t, \\n, \\r, \\f, or a backslash before punctuation, such as \\.") % {
            "char": char})


def character_class(pattern, position):
    """The class whose ``[`` is before ``position``, with both cases of its letters, and
    the position after it."""
    out = ["["]
    if pattern.startswith("^", position):
        out.append("^")
        position += 1
    members = 0
    while members == 0 or not pattern.startswith("]", position):
        if position == len(pattern):
            raise PatternError(_("A [ is never closed: write \\[ for a literal bracket."))
        low, text, position = class_member(pattern, position)
        if low and pattern.startswith("-", position) and pattern[position + 1:][:1] not in (
                "", "]"):
            high, _text, position = class_member(pattern, position + 1)
            out.append(class_range(low, high))
        else:
            out.append(text + case_partner(low or ""))
        members += 1
    return "".join(out) + "]", position + 1


def class_member(pattern, position):
    """(the character, None for ``\\d \\w \\s``; its text in the class; the position after
    it) of the class member at ``position``."""
    char = pattern[position]
    if char == "]":
        raise PatternError(_("Write \\] for a bracket inside a class."))
    if char == "[":
        if pattern[position + 1:][:1] in (":", "=", "."):
            raise PatternError(_(
                "Classes such as [:alpha:] are not supported: list the characters, e.g. "
                "[a-z]."))
        raise PatternError(_("Write \\[ for a bracket inside a class."))
    if char != "\\":
        return char, ("\\" + char if char in "-^" else char), position + 1
    escaped = escaped_char(pattern, position + 1)
    if escaped in CLASS_ESCAPES:
        return None, CLASS_ESCAPES[escaped], position + 2
    if escaped.lower() in CLASS_ESCAPES:
        raise PatternError(_("\\%(char)s is not supported inside [...].") % {"char": escaped})
    return literal_escape(escaped), "\\" + escaped, position + 2


def class_range(low, high):
    """``low-high`` and its letters' other case. Between two digits or two letters of one
    case only: engines order other characters differently."""
    if not (low and high and low <= high and any(
            first <= low and high <= last for first, last in ("09", "az", "AZ"))):
        raise PatternError(_(
            "A range such as a-z or 0-9 goes up, between two digits or two letters of one "
            "case."))
    partners = f"{case_partner(low)}-{case_partner(high)}" if low.isalpha() else ""
    return f"{low}-{high}{partners}"


def case_partner(char):
    """The other case of ``char`` when it has exactly one, else ""."""
    partners = {char.lower(), char.upper()} - {char}
    partner = partners.pop() if len(partners) == 1 else ""
    return partner if len(partner) == 1 else ""


@receiver(connection_created, dispatch_uid="leadscore_sqlite_url_matches")
def register_sqlite_function(sender, connection, **kwargs):
    """SQLite has no regular expressions of its own, and Django's REGEXP there is Python's
    ``re``: URL conditions match with RE2 instead (connected on import, with the models,
    so before any connection opens)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 2, sqlite_url_matches,
                                              deterministic=True)


def sqlite_url_matches(url, pattern):
    return None if url is None else url_matcher(pattern)(url)


class UrlMatches(Lookup):
    """The URL (``lhs``) matches ``rhs``, an expression ``pattern_error`` accepts:
    ``Q(UrlMatches(F("url"), pattern))``, as ``url_matcher`` does, on every database."""

    lookup_name = "leadscore_url_matches"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        url, params = compiler.compile(self.lhs)
        if connection.vendor == "sqlite":
            return f"{SQLITE_FUNCTION}({url}, %s)", [*params, self.rhs]
        operators = {"postgresql": "~", "mysql": "REGEXP"}
        if connection.vendor not in operators:
            raise NotSupportedError(
                "URL expressions match on SQLite, PostgreSQL, MariaDB and MySQL only.")
        return (f"(CHAR_LENGTH({url}) <= {MAX_URL_LENGTH} AND {url}"
                f" {operators[connection.vendor]} %s)",
                [*params, *params, translate(self.rhs, connection.vendor)])
