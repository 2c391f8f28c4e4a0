"""Round-3 misc survivors: Go net/url's getScheme and Parse as Sprig's urlParse and ESO's certSANs show them.

getScheme takes [A-Za-z] anywhere and [0-9+-.] after the first byte, up to the first ':'; Parse refuses
control bytes (< 0x20 and 0x7f) before the '#', a ':' in the first segment of a scheme-less path, keeps
"///a" without a scheme as a path, and remembers a lone trailing '?' (ForceQuery) for String().
A failed url.Parse is only ever "function failed": the reason is never shown.
"""

from __future__ import annotations

import json

import pytest
from cryptography import x509

from .test_mutation_funcsB import CN_X, _cert_pem, fails, r


@pytest.mark.parametrize(
    ("url", "field", "want"),
    [
        ("zZ://h/", "scheme", "zz"),  # 'z' and 'Z' are letters
        ("Aa://h/", "scheme", "aa"),  # so are 'A' and 'a'
        ("a0+-.9://h/", "scheme", "a0+-.9"),  # digits and "+-." after the first byte
        ("x/y:z", "path", "x/y:z"),  # only the first segment may not hold a ':'
        ("///a/b", "path", "///a/b"),  # no scheme: "///" starts no authority
        ("http://h/\u0080", "path", "/\u0080"),  # bytes >= 0x80 are not control bytes
    ],
)
def test_url_parse_scheme_and_path(url: str, field: str, want: str) -> None:
    assert json.loads(r("{{ urlParse .u | toJson }}", {"u": url}))[field] == want


@pytest.mark.parametrize(
    "url",
    [
        "a{:x",  # '{' and '[' end the scheme: the ':' is then in the first path segment
        "a[:x",
        "1:b",  # a scheme cannot start with a digit; no '/' in the path
        "http://h/a\x01",  # control bytes
        "http://h/a\x7f",
    ],
)
def test_url_parse_rejects_w6(url: str) -> None:
    err = fails("{{ urlParse .u }}", {"u": url})
    assert str(err).endswith("function failed: urlParse")


@pytest.mark.parametrize(
    ("uri", "want"),
    [
        ("http://h/?", "[http://h/?]"),  # ForceQuery keeps the lone '?'
        ("http://h/?a?", "[http://h/?a?]"),
    ],
)
def test_cert_sans_force_query(uri: str, want: str) -> None:
    pem = _cert_pem(CN_X, [x509.UniformResourceIdentifier(uri)])
    assert r("{{ certSANs .c }}", {"c": pem}) == want
