"""Round-2 misc survivors: Go 1.26 net/url (unescape, parseHost, parseAuthority, shouldEscape).

Expected values are Go's net/url as Sprig's urlParse/urlJoin and ESO's certSANs expose it: a host may
%-encode only non-ASCII bytes (and ``%25``), an IPv6 zone may %-encode anything that is not a control
character, bracketed hosts are checked by netip.ParseAddr, and String() escapes with shouldEscape.
A failed url.Parse is only ever "function failed": the reason is never shown.
"""

from __future__ import annotations

import json

import pytest
from cryptography import x509

from .test_mutation_funcsB import CN_X, _cert_pem, fails, r

_FAILED = "function failed"


@pytest.mark.parametrize(
    ("url", "field", "want"),
    [
        # IPv6 zones: any %-escape but controls (%20 is allowed), decoded as two hex digits
        ("http://[fe80::1%25en%2Db]/", "host", "[fe80::1%en-b]"),
        ("http://[fe80::1%25en%20]/", "host", "[fe80::1%en ]"),
        ("http://[fe80::1%25a]b]/", "host", "[fe80::1%a]b]"),  # the last ']' closes the literal
        # hosts: %25 and escapes of non-ASCII bytes; raw non-ASCII bytes as they are
        ("http://a%25b/", "host", "a%b"),
        ("http://%c3%a9/", "host", "é"),
        ("http://%c2%80/", "host", "\u0080"),
        ("http://\u0100/", "host", "\u0100"),  # UTF-8 c4 80
        # userinfo: split at the last '@', the password at the first ':'
        ("http://a@b@host/", "userinfo", "a%40b"),
        ("http://a:b:c@host/", "userinfo", "a:b%3Ac"),
        ("http://@host/", "host", "host"),
    ],
)
def test_url_parse_fields(url: str, field: str, want: str) -> None:
    assert json.loads(r("{{ urlParse .u | toJson }}", {"u": url}))[field] == want


@pytest.mark.parametrize(
    "url",
    [
        "http://[fe80::1%25en%7B]/",  # a zone may not escape what a host may not contain
        "http://a%01/",  # a host may not escape an ASCII byte
        "/%41%4",  # every escape is checked, also the one right after another
        "/% 4",  # both digits must be hex
        "/%4 ",
        "/a%4",  # ... and present
        "/a%",
        "http://[fe80::1%25a[b]/",  # '[' only at the start of the host
        "http://a[b]/",
        "http://[1.2.3.4]/",  # an IPv4 address is not an IP-literal
        "https://a:1:2/",  # http(s) hosts: the port starts at the first colon
    ],
)
def test_url_parse_rejects(url: str) -> None:
    err = fails("{{ urlParse .u }}", {"u": url})
    assert str(err).endswith(_FAILED + ": urlParse")


@pytest.mark.parametrize(
    ("parts", "want"),
    [
        # path: '?' and '!' escaped (upper-case hex); fragment: reserved characters and "!()*" kept
        ({"path": "/a?b!"}, "/a%3Fb%21"),
        ({"fragment": "a/b!@?:$()*"}, "#a/b!@?:$()*"),
    ],
)
def test_url_join_escapes_like_go(parts: dict[str, str], want: str) -> None:
    assert r("{{ urlJoin .u }}", {"u": parts}) == want


def test_cert_sans_keep_an_empty_userinfo() -> None:
    # url.Parse keeps User = url.User("") for "//@host", and String() writes it back
    pem = _cert_pem(CN_X, [x509.UniformResourceIdentifier("http://@host/")])
    assert r("{{ certSANs .c }}", {"c": pem}) == "[http://@host/]"


@pytest.mark.xfail(
    strict=True,
    reason="Go's netip.ParseAddr takes everything after the first '%' as the zone, '%' included; "
    "Python's ipaddress refuses a second '%'",
)
def test_url_parse_zone_with_a_percent() -> None:
    assert json.loads(r("{{ urlParse .u | toJson }}", {"u": "http://[fe80::1%25a%25b]/"}))["host"] == (
        "[fe80::1%a%b]"
    )
