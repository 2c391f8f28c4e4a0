"""Survivors of gostrconv.py's run (r12): to_bytes' surrogate ranges, unquote's checks, ParseUint's
defaults. Go's answers: strconv.Unquote refuses a literal whose quotes differ or are missing, a
newline or an unescaped quote in an interpreted string, and drops carriage returns from a raw
one; ParseUint defaults to base 0 (prefixes) and 64 bits. to_bytes is how a Go string's bytes
come back: an escaped byte (U+DC80-U+DCFF) is that byte, any other lone surrogate U+FFFD.
"""

from __future__ import annotations

import pytest

from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.gostrconv import parse_int, parse_uint, to_bytes, unquote

FFFD = "\ufffd".encode()


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        ("\ud800\ue000", FFFD + "\ue000".encode()),  # U+E000 is a character, not a surrogate
        ("\ud800\udc80", FFFD + b"\x80"),  # the first escaped byte
        ("\ud800\udcff", FFFD + b"\xff"),  # the last escaped byte
        ("\udd00", FFFD),  # a surrogate past the escaped bytes
        ("\udc7f", FFFD),  # and one before them
        ("a\udc80", b"a\x80"),
    ],
)
def test_to_bytes_keeps_escaped_bytes_and_replaces_other_surrogates(s: str, expected: bytes) -> None:
    assert to_bytes(s) == expected


@pytest.mark.parametrize(
    "literal",
    ['"abc`', '`abc"', '"', "`", "XabX", "'a'", '"a"b"', '"a\nb"', '"\\t\nx"', '"\\t"x"'],
)
def test_unquote_refuses_what_go_refuses(literal: str) -> None:
    with pytest.raises(Fault):
        unquote(literal)


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("`a\rb`", "ab"),  # a raw string loses its carriage returns
        ('`a"b\nc\\d`', 'a"b\nc\\d'),  # and keeps everything else
        ('"a\\nb"', "a\nb"),
        ('""', ""),
        ("``", ""),
    ],
)
def test_unquote_reads_what_go_reads(literal: str, value: str) -> None:
    assert unquote(literal) == value


def test_parse_uint_defaults_to_base_0_and_64_bits() -> None:
    assert parse_uint("0x10") == (16, None)
    assert parse_uint("0b11") == (3, None)
    assert parse_uint("18446744073709551615") == (2**64 - 1, None)
    assert parse_uint("18446744073709551616") == (2**64 - 1, "range")


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        ("", (0, "syntax")),
        ("0", (0, None)),
        ("0x", (0, "syntax")),  # two characters: no prefix, so octal "x"
        ("0b1", (1, None)),  # the shortest prefixed numbers
        ("0o7", (7, None)),
        ("0x1", (1, None)),
        ("0B1", (1, None)),
    ],
)
def test_parse_uint_prefixes_at_their_shortest(s: str, expected: tuple[int, str | None]) -> None:
    assert parse_uint(s) == expected


@pytest.mark.parametrize("s", ["+", "-", ""])
def test_parse_int_of_a_lone_sign_is_a_syntax_error(s: str) -> None:
    assert parse_int(s) == (0, "syntax")


@pytest.mark.parametrize(
    ("s", "expected"),
    [  # go1.26.8: the overflow is met before the bad character after it
        ("99999999999999999999x", (2**64 - 1, "range")),
        ("9_9999999999999999999x", (2**64 - 1, "range")),
        ("99999999999999999999_", (2**64 - 1, "range")),
        ("1_000_", (0, "syntax")),
        ("0x1_", (0, "syntax")),
        ("0x_1", (1, None)),
        ("0_7", (7, None)),
        ("_1", (0, "syntax")),
        ("1__0", (0, "syntax")),
        ("0b1_0", (2, None)),
    ],
)
def test_parse_uint_stops_where_go_stops(s: str, expected: tuple[int, str | None]) -> None:
    assert parse_uint(s) == expected


@pytest.mark.parametrize(
    ("s", "expected"),
    [  # go1.26.8 strconv.ParseInt(s, 0, 64): the clamped value and the error's kind
        ("", (0, "syntax")),
        ("X5", (0, "syntax")),  # only "+" and "-" are signs
        ("9223372036854775807", (9223372036854775807, None)),
        ("9223372036854775808", (9223372036854775807, "range")),  # fits uint64, not int64
        ("-9223372036854775808", (-9223372036854775808, None)),
        ("-9223372036854775809", (-9223372036854775808, "range")),
        ("99999999999999999999", (9223372036854775807, "range")),  # past uint64 too
        ("-99999999999999999999", (-9223372036854775808, "range")),
    ],
)
def test_parse_int_clamps_and_names_its_errors_as_go(s: str, expected: tuple[int, str | None]) -> None:
    assert parse_int(s) == expected
