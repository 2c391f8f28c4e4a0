"""Mutants of the JSON encoder's string escaping and of semver's Inc* structs.

Expected values are Go 1.26 encoding/json (json.Marshal, as Sprig's toJson calls it: HTML escaping
on; ``\\b`` and ``\\f`` written short since Go 1.22; an invalid byte is ``\\ufffd``) and
Masterminds/semver v3.3.0 (``IncPatch`` and friends return a ``Version`` value, so ``%T`` is
``semver.Version``). A Go string's invalid bytes are lone surrogates U+DC80..U+DCFF here; any other
lone surrogate is U+FFFD, a valid rune (gostrconv.to_bytes).
"""

from __future__ import annotations

import pytest

from .test_mutation_funcsB import r

# --- toJson: one character at a time (encoding/json appendString) --------------------------------


@pytest.mark.parametrize(
    ("s", "want"),
    [
        ("a\\b", '"a\\\\b"'),
        ("\b", '"\\b"'),
        ("\f", '"\\f"'),
        ("\r", '"\\r"'),
        ("\x1f", '"\\u001f"'),
        ("a b\n", '"a b\\n"'),  # a space is not escaped, even off the all-plain-ASCII fast path
        ("X<\n", '"X\\u003c\\n"'),  # only < > & are HTML-escaped
        ("\u2028\u2029\u202a", '"\\u2028\\u2029\u202a"'),  # JS line terminators only
        (b"\x80a\xff".decode("utf-8", "surrogateescape"), '"\\ufffda\\ufffd"'),  # invalid bytes
        ("\udcff\ue000", '"\\ufffd\ue000"'),  # the first code point past the surrogates is kept
    ],
)
def test_to_json_escapes_like_go(s: str, want: str) -> None:
    assert r("{{ toJson .s }}", {"s": s}) == want


# a stray surrogate (not from a byte) is the valid rune U+FFFD, which encoding/json writes as is (we
# wrote the escape meant for an invalid byte); an invalid byte is still the escape
@pytest.mark.parametrize("stray", ["\ud800", "\udfff"])
def test_to_json_of_a_stray_surrogate_is_a_raw_replacement_char(stray: str) -> None:
    assert r("{{ toJson .s }}", {"s": stray}) == '"\ufffd"'
    assert r("{{ toJson .s }}", {"s": "\udcff"}) == '"\\ufffd"'


# --- semver: the Inc* results are Version values ------------------------------------------------


@pytest.mark.parametrize("inc", ["IncPatch", "IncMinor", "IncMajor"])
def test_semver_increment_type(inc: str) -> None:
    source = '{{ typeOf (semver "v1.2.3-a").' + inc + ' }}|{{ printf "%T" (semver "1.2.3").' + inc + " }}"
    assert r(source) == "semver.Version|semver.Version"
