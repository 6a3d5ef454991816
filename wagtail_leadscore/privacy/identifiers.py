"""A person's identifiers found in free text and replaced, so that what an erasure keeps of
their events (a page, a path, a campaign, a meeting) names no one.

The identifiers, matched case-insensitively:
- the email address, as typed and URL-encoded (``%40``), and its local part when it is a
  person's (at least four characters, not a role such as ``info`` or ``sales``), as a word;
- the first and last names: the full name, and each of its words of two letters or more,
  as words;
- the company name the person gave, as a phrase (its words alone are ordinary words);
- the phone number: its last eight digits at least, with or without the country prefix,
  whatever the separators.
The email domain alone is the company's, not the person's: it stays.
"""

import re
from urllib.parse import quote

MASK = "[…]"
# Addresses of a role, not a person: their local part alone names no one.
ROLE_LOCAL_PARTS = frozenset({
    "admin", "biuro", "contact", "enquiries", "hello", "info", "inquiries", "kontakt",
    "mail", "marketing", "noreply", "no-reply", "office", "post", "sales", "support", "team",
    "webmaster"})
MIN_LOCAL_PART = 4
MIN_NAME_WORD = 2
PHONE_DIGITS = 8
MIN_PHONE_DIGITS = 6
# Between the words of a phrase in a URL or text: spaces, hyphens, plus signs, %20, ...
PHRASE_GAP = r"(?:%20|[\W_])+"
PHONE_GAP = r"[\s./()\-]*"


def as_word(regex):
    return rf"(?<!\w){regex}(?!\w)"


def phrase(text):
    """``text`` as a regex whose words may be joined by any gap."""
    return PHRASE_GAP.join(map(re.escape, text.split()))


def phone_number(digits):
    """A regex for the number of ``digits``: its last ``PHONE_DIGITS`` digits, with as many
    of the ones before (a country prefix) as are written, any separators between."""
    head = ""
    for digit in digits[:-PHONE_DIGITS]:
        head = f"(?:{head}{digit}{PHONE_GAP})?"
    return head + PHONE_GAP.join(digits[-PHONE_DIGITS:])


def identifier_pattern(contact):
    """One regex for all of ``contact``'s identifiers (see the module), longest first so a
    full name is replaced as one; None when there is none."""
    email = contact.email.strip()
    found = [(email, re.escape(email)), (quote(email, safe=""), re.escape(quote(email, safe="")))]
    local_part = email.partition("@")[0]
    if len(local_part) >= MIN_LOCAL_PART and local_part.lower() not in ROLE_LOCAL_PARTS:
        found.append((local_part, as_word(re.escape(local_part))))
    names = [name for name in (contact.first_name.strip(), contact.last_name.strip()) if name]
    words = {word for name in names for word in re.findall(r"\w+", name)}
    company = contact.company.strip()
    for text in {" ".join(names), " ".join(reversed(names)), *names, *words, company}:
        if len(text) >= MIN_NAME_WORD:
            found.append((text, as_word(phrase(text))))
    digits = re.sub(r"\D", "", contact.phone)
    if len(digits) >= MIN_PHONE_DIGITS:
        found.append((digits, phone_number(digits)))
    found = [(text, regex) for text, regex in found if text]
    if not found:
        return None
    found.sort(key=lambda item: len(item[0]), reverse=True)
    return re.compile("|".join(regex for _text, regex in found), re.IGNORECASE)


def scrub(value, pattern):
    """``value`` (text, or JSON data: keys and values) with the identifiers replaced."""
    if isinstance(value, str):
        return pattern.sub(MASK, value)
    if isinstance(value, dict):
        return {scrub(key, pattern): scrub(item, pattern) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, pattern) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and pattern.search(str(value)):
        return MASK  # a phone number sent as a number
    return value
