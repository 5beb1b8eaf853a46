"""Attachment names: what is kept as typed, what is refused and why, and the download header."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from orders.domain.filenames import (
    FILENAME_PATTERN,
    MAX_FILENAME_LENGTH,
    FilenameRule,
    UnsafeFilename,
    ascii_fallback,
    check_filename,
    content_disposition,
    filename_problem,
)

KEPT = [
    "invoice 2026 #17.pdf",
    "Préface (v2).docx",
    "報告書 2026.pdf",
    "quote \"final\" 'really'.txt",
    "50% off & more; [draft] {x} = y!.csv",
    "a",
    "..hidden",
    "file.",
    "résumé \u2013 naïve 😀.png",
    "x" * MAX_FILENAME_LENGTH,
]

REFUSED = [
    ("", FilenameRule.EMPTY),
    ("x" * (MAX_FILENAME_LENGTH + 1), FilenameRule.TOO_LONG),
    ("a\x00b.pdf", FilenameRule.CONTROL_CHARACTER),
    ("a\rb.pdf", FilenameRule.CONTROL_CHARACTER),
    ("a\nb.pdf", FilenameRule.CONTROL_CHARACTER),
    ("report.pdf\n", FilenameRule.CONTROL_CHARACTER),
    ("tab\there.pdf", FilenameRule.CONTROL_CHARACTER),
    ("del\x7f.pdf", FilenameRule.CONTROL_CHARACTER),
    ("c1\x85.pdf", FilenameRule.CONTROL_CHARACTER),
    ("line\u2028sep.pdf", FilenameRule.CONTROL_CHARACTER),
    ("invoice\u202efdp.exe", FilenameRule.BIDI_CONTROL),
    ("a\u2066b.pdf", FilenameRule.BIDI_CONTROL),
    ("../etc/passwd", FilenameRule.PATH_SEPARATOR),
    ("dir/file.pdf", FilenameRule.PATH_SEPARATOR),
    ("C:\\temp\\a.pdf", FilenameRule.PATH_SEPARATOR),
    (".", FilenameRule.DOT_NAME),
    ("..", FilenameRule.DOT_NAME),
    ("   ", FilenameRule.WHITESPACE_ONLY),
    ("\u3000", FilenameRule.WHITESPACE_ONLY),
    (" leading.pdf", FilenameRule.EDGE_WHITESPACE),
    ("trailing.pdf ", FilenameRule.EDGE_WHITESPACE),
]


@pytest.mark.parametrize("name", KEPT)
def test_ordinary_names_are_kept_exactly_as_typed(name: str) -> None:
    assert filename_problem(name) is None
    assert check_filename(name) == name


@pytest.mark.parametrize(("name", "rule"), REFUSED)
def test_unsafe_names_are_refused_naming_the_rule(name: str, rule: FilenameRule) -> None:
    assert filename_problem(name) is rule
    with pytest.raises(UnsafeFilename) as refused:
        check_filename(name)
    assert refused.value.rule is rule
    assert f"(rule: {rule.value})" in str(refused.value)


@pytest.mark.parametrize("name", KEPT + [name for name, _ in REFUSED])
def test_the_published_pattern_agrees_with_the_rules(name: str) -> None:
    """The OpenAPI pattern is what a client checks the field with: it must say the same."""
    assert (re.search(FILENAME_PATTERN, name) is not None) == (filename_problem(name) is None)


# RFC 6266's grammar for this header: a quoted-string fallback with no escapes, then
# ext-value = UTF-8 '' value-chars, where value-chars are RFC 8187 attr-char or %XX.
HEADER = re.compile(
    r"attachment; filename=\"(?P<fallback>[ !#-\[\]-~]*)\"; "
    r"filename\*=UTF-8''(?P<value>(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})+)"
)


@pytest.mark.parametrize("name", KEPT)
def test_content_disposition_carries_the_exact_name(name: str) -> None:
    header = content_disposition(name)

    parsed = HEADER.fullmatch(header)
    assert parsed is not None, header
    assert unquote(parsed["value"], encoding="utf-8", errors="strict") == name
    assert parsed["fallback"] == ascii_fallback(name)


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("invoice 2026 #17.pdf", "invoice 2026 #17.pdf"),
        ("Préface (v2).docx", "Preface (v2).docx"),
        ('say "hi" \\ 100%.txt', "say _hi_ _ 100_.txt"),
        ("報告書.pdf", "___.pdf"),
        ("報告書", "download"),
    ],
)
def test_the_ascii_fallback_is_a_plain_quoted_string(name: str, fallback: str) -> None:
    assert ascii_fallback(name) == fallback
    header = content_disposition(name)
    assert header.startswith(f'attachment; filename="{fallback}"; ')
    assert header.isascii()
