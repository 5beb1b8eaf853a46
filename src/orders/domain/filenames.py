"""Attachment names as people type them, and how a download keeps them.

The name the user chose ("invoice 2026 #17.pdf", "Préface (v2).docx") is data: it is
kept beside the object and never becomes part of a key or a path, so only what is
unsafe *to show or to save* is refused: nothing empty, nothing a file system reads
as a path (separators, "." and ".."), nothing invisible that changes how a line or
a name reads (control characters, line separators, bidi overrides that make
"txt.exe" look like "exe.txt"), and no whitespace at either end (Windows drops it on
save, and "a.pdf " would look like another file's name).

The download keeps the name through Content-Disposition (RFC 6266), with an ASCII
fallback for old clients and the exact UTF-8 name in filename* (RFC 8187/5987).
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import quote

from orders.domain.errors import AttachmentRejected

if TYPE_CHECKING:
    from collections.abc import Callable

MAX_FILENAME_LENGTH = 255
# Characters that reorder the text around them (embeddings, overrides, isolates).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_SEPARATORS = frozenset("\u2028\u2029")
PATH_SEPARATORS = frozenset("/\\")
# The same rules as one regular expression, published in the OpenAPI schema so a
# client can check the field before sending. Both Python's re and ECMA-262 read it
# alike for these rules; tests/unit/test_filenames.py checks it agrees with check_filename.
FILENAME_PATTERN = (
    r"^(?!\.{1,2}$)(?!\s)(?![\s\S]*\s$)"
    r"[^\x00-\x1f\x7f-\x9f/\\\u2028\u2029\u202a-\u202e\u2066-\u2069]{1,255}$"
)
FILENAME_DESCRIPTION = (
    "The name the user chose, kept for display and download (any script, spaces, #, "
    "parentheses...). 1 to 255 characters; not allowed: control characters (NUL, CR, LF, "
    "TAB...), line separators, bidi override characters, '/' or '\\', the names '.' and "
    "'..', whitespace at the start or the end. The object key is derived, never from it."
)
# RFC 8187 attr-char, beyond the letters, digits and "_.-~" quote() always keeps.
_ATTR_CHAR_PUNCTUATION = "!#$&+^`|"
FALLBACK_NAME = "download"


class FilenameRule(StrEnum):
    """Which rule a refused name breaks; the value names it in the 422."""

    EMPTY = "empty"
    TOO_LONG = "too-long"
    CONTROL_CHARACTER = "control-character"
    BIDI_CONTROL = "bidi-control"
    PATH_SEPARATOR = "path-separator"
    DOT_NAME = "dot-name"
    WHITESPACE_ONLY = "whitespace-only"
    EDGE_WHITESPACE = "edge-whitespace"


_MESSAGES: dict[FilenameRule, str] = {
    FilenameRule.EMPTY: "the filename is empty",
    FilenameRule.TOO_LONG: f"the filename is longer than {MAX_FILENAME_LENGTH} characters",
    FilenameRule.CONTROL_CHARACTER: (
        "the filename contains a control character or line break (NUL, CR, LF, TAB...)"
    ),
    FilenameRule.BIDI_CONTROL: (
        "the filename contains a bidi override character, which can disguise its extension"
    ),
    FilenameRule.PATH_SEPARATOR: "the filename contains a path separator ('/' or '\\')",
    FilenameRule.DOT_NAME: "the filename cannot be '.' or '..'",
    FilenameRule.WHITESPACE_ONLY: "the filename is only whitespace",
    FilenameRule.EDGE_WHITESPACE: "the filename starts or ends with whitespace",
}


class UnsafeFilename(AttachmentRejected):
    """A name one of the rules refuses; `rule` says which."""

    def __init__(self, rule: FilenameRule) -> None:
        super().__init__(f"{_MESSAGES[rule]} (rule: {rule.value})")
        self.rule = rule


# In this order: the first rule a name breaks is the one reported.
_BROKEN_BY: dict[FilenameRule, Callable[[str], bool]] = {
    FilenameRule.EMPTY: lambda name: name == "",
    FilenameRule.TOO_LONG: lambda name: len(name) > MAX_FILENAME_LENGTH,
    FilenameRule.CONTROL_CHARACTER: lambda name: any(
        unicodedata.category(c) == "Cc" or c in LINE_SEPARATORS for c in name
    ),
    FilenameRule.BIDI_CONTROL: lambda name: any(c in BIDI_CONTROLS for c in name),
    FilenameRule.PATH_SEPARATOR: lambda name: any(c in PATH_SEPARATORS for c in name),
    FilenameRule.DOT_NAME: lambda name: name in {".", ".."},
    FilenameRule.WHITESPACE_ONLY: lambda name: name.strip() == "",
    FilenameRule.EDGE_WHITESPACE: lambda name: name != name.strip(),
}


def filename_problem(name: str) -> FilenameRule | None:
    """The first rule `name` breaks, or None when it is a name we keep as it is."""
    return next((rule for rule, broken in _BROKEN_BY.items() if broken(name)), None)


def check_filename(name: str) -> str:
    """`name` unchanged when it is safe to keep; UnsafeFilename naming the rule otherwise."""
    rule = filename_problem(name)
    if rule is not None:
        raise UnsafeFilename(rule)
    return name


def ascii_fallback(name: str) -> str:
    """A plain-ASCII stand-in for clients that ignore filename*.

    Accents are dropped (é -> e), anything else outside printable ASCII becomes "_",
    and so do '"', '\\' and '%' (which some browsers decode in filename=), so the
    value is a valid quoted-string with no escapes for a client to get wrong.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    safe = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in kept)
    return safe if safe.strip("_. ") else FALLBACK_NAME


def content_disposition(name: str) -> str:
    """`attachment` with the ASCII fallback and the exact name, for the download."""
    encoded = quote(name.encode("utf-8"), safe=_ATTR_CHAR_PUNCTUATION)
    return f"attachment; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{encoded}"
