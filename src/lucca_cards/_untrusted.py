r"""Untrusted text stays text: names from Lucca, messages from servers.

Text the SDK did not write (an employee's name, a department's name, a server's error
message) can hold characters that are not text at all: control characters (``ESC``
starts a terminal escape sequence, ``CR`` overwrites a line), bidirectional controls
(``U+202E`` shows ``moc.elgoog`` for ``google.com``), or nothing visible. Two rules, one
per direction:

* **Into Cards: refuse, with the reason** (:func:`text_problem`). A name holding such a
  character is never cleaned and sent: a cleaned name is a name nobody typed, and the
  person who can fix it (the HR admin, in Lucca) learns about it only from the reason in
  the preview. Surrounding whitespace is trimmed before the check, as it always was (the
  name sent is the trimmed one), so a stray tab or newline at either end is harmless.
* **Onto a terminal: escape** (:func:`printable`, :func:`escape_json`). Output must show
  everything and run nothing, so the dangerous characters become visible escapes
  (``\x1b``, ``\u202e``) and everything else (accents, CJK, emoji) is kept as it is.

What is refused in a name, and why a legitimate name never is:

* a control character (Unicode category Cc: tab, CR, LF, ESC, DEL, the C1 controls);
* a bidirectional embedding, override, isolate or mark (``U+202A`` to ``U+202E``,
  ``U+2066`` to ``U+2069``, ``U+200E``, ``U+200F``, ``U+061C``): names are shown in lists
  next to other text, where these reorder what follows them;
* a zero-width character that joins nothing (``U+200B``, ``U+2060`` to ``U+2064``,
  ``U+FEFF``, ``U+180E``): it makes two different names look the same;
* a tag character (``U+E0000`` to ``U+E007F``) outside a subdivision flag such as 🏴 England:
  elsewhere they only hide text;
* a line or paragraph separator (``U+2028``, ``U+2029``), an unpaired surrogate;
* no visible character at all (only spaces, format characters, combining marks, or
  letters drawn as nothing such as the Hangul filler ``U+3164``).

The zero-width *joiner* and *non-joiner* (``U+200D``, ``U+200C``) are kept: emoji
sequences and Persian or Indic names need them. Variation selectors are combining marks
and pass too (``❤️``).
"""

from __future__ import annotations

import re
import unicodedata

_BIDI: dict[int, str] = {
    **dict.fromkeys((0x202A, 0x202B, 0x202C), "a bidirectional embedding"),
    **dict.fromkeys((0x202D, 0x202E), "a bidirectional override"),
    **dict.fromkeys((0x2066, 0x2067, 0x2068, 0x2069), "a bidirectional isolate"),
    **dict.fromkeys((0x200E, 0x200F, 0x061C), "a bidirectional mark"),
}
_ZERO_WIDTH = frozenset({0x180E, 0x200B, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xFEFF})
# A subdivision flag (England, Scotland, Wales) is the black flag followed by invisible tag
# characters; anywhere else those characters only hide text ("ASCII smuggling").
_FLAG = re.compile("\U0001F3F4[\U000E0020-\U000E007E]{1,32}\U000E007F")
_TAGS = range(0xE0000, 0xE0080)
_BY_CATEGORY = {
    "Cc": "a control character",
    "Cs": "an unpaired surrogate",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}
_CONTROL_NAMES = {0x09: "tab", 0x0A: "line feed", 0x0D: "carriage return",
                  0x1B: "escape", 0x7F: "delete"}
# Letters and symbols by category that fonts draw as nothing: the Hangul fillers and the
# braille blank. A name made of them only is as invisible as an empty one.
_BLANK_LETTERS = frozenset({0x115F, 0x1160, 0x2800, 0x3164, 0xFFA0})
# Kept on a terminal: they join the characters around them and move nothing.
_JOINERS = frozenset({0x200C, 0x200D})
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}  # as Python writes them


def code_point(char: str) -> str:
    r"""Return how a reason names a character: ``U+202E``.

    >>> code_point("\u202e")
    'U+202E'
    """
    return f"U+{ord(char):04X}"


def _forbidden(char: str) -> str | None:
    """Return the kind of ``char`` when a name may not hold it, else ``None``."""
    number = ord(char)
    if number in _BIDI:
        return _BIDI[number]
    if number in _ZERO_WIDTH:
        return "a zero-width character"
    if number in _TAGS:
        return "an invisible tag character"
    return _BY_CATEGORY.get(unicodedata.category(char))


def is_visible(char: str) -> bool:
    r"""Return whether ``char`` draws something: a letter, digit, punctuation or symbol.

    >>> is_visible("é"), is_visible("\u200b"), is_visible("\u3164")
    (True, False, False)
    """
    return unicodedata.category(char)[0] in "LNPS" and ord(char) not in _BLANK_LETTERS


def text_problem(label: str, value: str) -> str | None:
    r"""Return why ``value`` may not be sent to Cards as a name, or ``None`` if it may.

    ``label`` starts the reason (``"the first name"``); the reason names the first
    offending code point. Check the trimmed value: that is the one sent.

    >>> text_problem("the first name", "Zoë-Anaïs")
    >>> text_problem("the first name", "Jean\u202eneaJ")
    'the first name holds a bidirectional override (U+202E)'
    >>> text_problem("the last name", "\u200b")
    'the last name holds a zero-width character (U+200B)'
    >>> text_problem("its name", "\u3164")
    'its name has no visible character (only U+3164)'
    """
    if not value:
        return f"{label} is empty"
    for char in _FLAG.sub("\U0001F3F4", value):
        kind = _forbidden(char)
        if kind is not None:
            named = _CONTROL_NAMES.get(ord(char))
            where = f"{code_point(char)}, {named}" if named else code_point(char)
            return f"{label} holds {kind} ({where})"
    if not any(is_visible(char) for char in value):
        shown = ", ".join(code_point(char) for char in dict.fromkeys(value))
        return f"{label} has no visible character (only {_cut(shown)})"
    return None


def _cut(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _escaped(char: str) -> bool:
    return unicodedata.category(char) in _ESCAPED_CATEGORIES and ord(char) not in _JOINERS


def _escape(char: str) -> str:
    number = ord(char)
    if char in _SHORT:
        return _SHORT[char]
    if number < 0x100:
        return f"\\x{number:02x}"
    return f"\\u{number:04x}" if number < 0x10000 else f"\\U{number:08x}"


def printable(text: str) -> str:
    r"""Return ``text`` safe to write to a terminal: nothing in it acts, everything shows.

    Control characters (newlines included, written ``\n``: one piece of data stays on
    one line),
    bidirectional controls, invisible format characters, line separators and unpaired
    surrogates become Python-style escapes; everything else is kept, so accents, CJK and
    emoji stay readable. Applying it twice changes nothing more.

    >>> printable("Zoë \x1b[2J\u202eevil")
    'Zoë \\x1b[2J\\u202eevil'
    """
    if text.isprintable():  # the usual case: no character to look at one by one
        return text
    return "".join(_escape(char) if _escaped(char) else char for char in text)


def escape_json(text: str) -> str:
    r"""Return JSON text with the characters :func:`printable` escapes written as ``\u`` escapes.

    For the output of ``json.dumps(..., ensure_ascii=False)``, which writes ``U+202E``,
    ``DEL`` and the C1 controls raw. Outside its strings JSON text is plain ASCII, so
    every such character is inside a string, where its ``\u`` escape (``\u202e``) means the
    same character:
    the result is still valid JSON that decodes to the same data.

    >>> import json
    >>> escape_json(json.dumps({"name": "A\u202eB"}, ensure_ascii=False))
    '{"name": "A\\u202eB"}'
    """
    if text.isprintable():
        return text
    return "".join(_json_escape(char) if _escaped(char) and char != "\n" else char
                   for char in text)


def _json_escape(char: str) -> str:
    number = ord(char)
    if number < 0x10000:
        return f"\\u{number:04x}"
    high, low = divmod(number - 0x10000, 0x400)  # beyond the BMP: a UTF-16 surrogate pair
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"
