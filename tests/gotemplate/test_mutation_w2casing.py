"""Mutation survivors (second wave) in the xstrings word splitter, semver prerelease ordering, path.Clean,
url.URL.String and the join accounting (``funcs/casing.py``, ``funcs/semver.py``, ``funcs/sprig_misc.py``,
``funcs/sprig_strings.py``).

Expected values follow Go + Sprig v3.3.0 (huandu/xstrings v1.5.0 ``camelCaseToLowerCase``/``nextWord``,
Masterminds/semver v3.3.0 ``comparePrePart``, Go's ``path.Clean`` and ``(*url.URL).String``), checked
against the Go reference build, not our implementation. Output with odd bytes is compared through
``printf "%q"`` so an escaped byte (``\\xff``) and U+FFFD stay apart.
"""

from __future__ import annotations

import pytest
from cryptography import x509

from secretsync.gotemplate import Limits
from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs import sprig_strings
from secretsync.gotemplate.limits import Budget
from tests.gotemplate.test_mutation_funcsB import CN_X, _cert_pem, fails, r

# --- snakecase / kebabcase: xstrings camelCaseToLowerCase ----------------------------------------------

# (argument as a Go string literal, snakecase %q, kebabcase %q). Go's nextValidRune skips invalid
# bytes and U+FFFD (both read as utf8.RuneError) to the next valid rune, counting their bytes.
SNAKE = [
    # first: under some mutants later rows loop forever, these fail at once
    ("aa\\xffB", '"aa_�b"', '"aa-�b"'),
    ("\\ue000\\ue000", '"\\ue000\\ue000"', '"\\ue000\\ue000"'),
    ("a\\xff", '"a\\xff"', '"a\\xff"'),  # an invalid byte is an invalid word: no connector before it
    ("1\\xff", '"1\\xff"', '"1\\xff"'),  # ... not even after a number
    ("a\\ufffd", '"a�"', '"a�"'),  # a literal U+FFFD decodes as RuneError too
    ("a\\ue000", '"a_\\ue000"', '"a-\\ue000"'),  # U+E000 is a valid rune (other word): connector
    ("\\xff", '"\\xff"', '"\\xff"'),
    ("\\xff\\xff", '"\\xff\\xff"', '"\\xff\\xff"'),  # one invalid word of two bytes
    ("\\xffa", '"\\xffa"', '"\\xffa"'),  # the bad byte is skipped into the word of the next valid rune
    ("\\xffBa", '"�ba"', '"�ba"'),
    ("A\\xff", '"a�"', '"a�"'),  # an upper-case word ending in a bad byte (toLower writes U+FFFD)
    ("B\\xffBa", '"b_�ba"', '"b-�ba"'),  # "B" then "\xffBa": the back-off steps over the bad byte too
    ("aa1\\xff", '"aa1\\xff"', '"aa1\\xff"'),
    ("aXb", '"a_xb"', '"a-xb"'),  # X is an upper-case letter, not a connector
    ("AB", '"ab"', '"ab"'),  # an upper-case run up to the end of the string
    ("BB", '"bb"', '"bb"'),
    ("HTTPServer", '"http_server"', '"http-server"'),
    ("1a", '"1a"', '"1a"'),  # letters after a number stay in its word
    ("1B", '"1_b"', '"1-b"'),
    ("X1X_", '"x1_x_"', '"x1-x-"'),  # a number glued to an upper word, then a trailing connector
    ("a\\ue000\\ue000", '"a_\\ue000\\ue000"', '"a-\\ue000\\ue000"'),  # one "other" word of two runes
    ("\\ue0001a", '"\\ue000_1a"', '"\\ue000-1a"'),  # a number ends an "other" word
    ("\\ue000 ", '"\\ue000_"', '"\\ue000-"'),  # so does a connector
    # isAlphabet: a letter, except the CJK ranges U+3400..U+4D85, U+4E00..U+9FCC, U+20000..U+2B81D
    ("a\\u3400", '"a_㐀"', '"a-㐀"'),
    ("a\\u4000", '"a_䀀"', '"a-䀀"'),
    ("a\\u4d85", '"a_䶅"', '"a-䶅"'),
    ("a\\u4d86", '"a䶆"', '"a䶆"'),  # past xstrings' range: an alphabet letter, glued to "a"
    ("a\\u4e00", '"a_一"', '"a-一"'),
    ("a\\u9fcc", '"a_鿌"', '"a-鿌"'),
    ("a\\u9fcd", '"a鿍"', '"a鿍"'),
    ("a\\U00020000", '"a_𠀀"', '"a-𠀀"'),
    ("a\\U0002B81D", '"a_𫠝"', '"a-𫠝"'),
]


@pytest.mark.parametrize(("arg", "snake", "kebab"), SNAKE)
def test_snake_and_kebab_case_split_words_as_xstrings(arg: str, snake: str, kebab: str) -> None:
    assert r(f'{{{{ snakecase "{arg}" | printf "%q" }}}}') == snake
    assert r(f'{{{{ kebabcase "{arg}" | printf "%q" }}}}') == kebab


def test_snakecase_of_a_bad_byte_run_in_an_upper_word_ends() -> None:
    """These only loop forever under some mutants; Go: "1" then upper word "X\xff\xff"."""
    assert r('{{ snakecase "1X\\xff\\xff" | printf "%q" }}') == '"1_x��"'
    assert r('{{ snakecase "aB\\xffX" | printf "%q" }}') == '"a_b�x"'


@pytest.mark.parametrize("stray", ["\ud800", "\udbff", "\udfff"])
def test_a_stray_surrogate_in_data_is_an_invalid_rune(stray: str) -> None:
    """Not a Go string: the engine reads any surrogate as U+FFFD (as printf does), so like "1\\ufffd"."""
    assert r('{{ snakecase .s | printf "%q" }}', {"s": "1" + stray}) == '"1�"'


# --- semverCompare: prerelease ordering (semver v3.3.0 comparePrePart) ------------------------------------


@pytest.mark.parametrize(
    ("constraint", "version"),
    [
        ("<1.0.0-a.1", "1.0.0-a"),  # fewer parts: "" sorts before a number
        ("<1.0.0-a.XXXX", "1.0.0-a"),  # ... and before a string
        (">1.0.0-a", "1.0.0-a.1"),
        (">1.0.0-a", "1.0.0-a.XXXX"),
        ("<1.0.0-b", "1.0.0-a"),  # two strings compare bytewise
        (">1.0.0-a", "1.0.0-b"),
        ("<1.0.0-a", "1.0.0-1"),  # a number sorts before a string
        (">1.0.0-1", "1.0.0-a"),
        ("<1.0.0-10", "1.0.0-2"),  # two numbers compare numerically
        (">1.0.0-2", "1.0.0-10"),
        (">1.0.0-alpha.9", "1.0.0-alpha.10"),  # dot-separated parts are compared one by one
        ("<1.0.0-a.2", "1.0.0-a.1"),
        # past uint64 ParseUint fails, so these are strings: "2..." > "1..." bytewise
        (">1.0.0-100000000000000000000", "1.0.0-20000000000000000000"),
        # 2**64-1 still parses: a number, below any string
        ("<1.0.0-100000000000000000000", "1.0.0-18446744073709551615"),
    ],
)
def test_semver_prerelease_ordering(constraint: str, version: str) -> None:
    assert r(f'{{{{ semverCompare "{constraint}" "{version}" }}}}') == "true"


# --- clean (path.Clean), url.URL.String, urlParse ports ---------------------------------------------------


@pytest.mark.parametrize(
    ("source", "want"),
    [
        ('{{ clean "a/." }}', "a"),  # a final "." element
        ('{{ clean "/a/." }}', "/a"),
        ('{{ clean "/a/.." }}', "/"),  # backing up to the root keeps the root
        ('{{ osClean "/a/.." }}', "/"),
        ('{{ clean "a/.." }}', "."),  # nothing left: "."
        ('{{ clean "a/b/../.." }}', "."),
        ('{{ (urlParse "http://h:9").hostname }}', "h"),  # 9 is a port digit
        ('{{ urlJoin (dict "path" "a/b:c") }}', "a/b:c"),  # only a colon in the first segment needs "./"
        ('{{ urlJoin (dict "path" "a:b/c") }}', "./a:b/c"),
    ],
)
def test_paths_and_urls_as_go(source: str, want: str) -> None:
    assert r(source) == want


@pytest.mark.parametrize("url", ["http://h:a/", "http://h:x9/"])
def test_url_parse_refuses_a_port_that_is_not_digits(url: str) -> None:
    assert fails(f'{{{{ urlParse "{url}" }}}}').kind == "function failed"


def test_cert_sans_keep_an_omitted_empty_host() -> None:
    """Go's URL.String omits "//" for "scheme:/path" (OmitHost), as url.Parse read it."""
    uris: list[x509.GeneralName] = [x509.UniformResourceIdentifier(u) for u in ("file:/a", "urn:/a/b")]
    pem = _cert_pem(CN_X, uris)
    assert r("{{ certSANs .c }}", {"c": pem}) == "[file:/a urn:/a/b]"


# --- join accounting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "size"),
    [
        (["ab", "cd", "ef"], 10),  # 6 bytes of parts + 2 separators of 2 bytes
        (["ab"], 2),  # one part: no separator
        ([], 0),
    ],
)
def test_join_measures_exactly_its_result(parts: list[str], size: int) -> None:
    """Our accounting: join refuses exactly a result longer than the value limit."""
    assert sprig_strings._joined(Budget(Limits(max_value_bytes=size)), parts, "--") == "--".join(parts)
    if size:
        with pytest.raises(Fault) as info:
            sprig_strings._joined(Budget(Limits(max_value_bytes=size - 1)), parts, "--")
        assert info.value.kind == "value limit"
