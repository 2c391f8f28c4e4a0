"""Mutants of the interpreter, parser, comparisons, value checks and Sprig's certificates/bcrypt.

Expected values are Go's text/template (eq/lt in funcs.go, parse.Tree.parseDefinition/add,
evalChainNode/evalField), Sprig v3 (crypto.go) over Go's crypto/x509.CreateCertificate (EKU, SKI
and AKI extensions not critical; no AKI when the parent has no SubjectKeyId or issuer == subject;
SANs when there are DNS names or IPs) and x/crypto/bcrypt (a 72-byte password is accepted). Depth,
step and value-size limits are our own and pinned as they are.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from secretsync.gotemplate import Limits, TemplateError
from secretsync.gotemplate.funcs import sprig_crypto
from tests.gotemplate.cases_crypto import F
from tests.gotemplate.test_crypto import _cert, run

from .test_mutation_funcsB import least_limit, r


def _out(source: str, data: Any = None, **kw: Any) -> str:
    """The output, or the error's message."""
    try:
        return r(source, data, **kw)
    except TemplateError as e:
        return f"ERR {e}"


# --- eq / lt / truth ---------------------------------------------------------------------------------------

_T2020 = 'toDate "2006-01-02" "2020-01-01"'
_T2021 = 'toDate "2006-01-02" "2021-01-01"'


@pytest.mark.parametrize(
    ("source", "data", "want"),
    [
        # a nil from the data against a basic value: not equal, and the next argument is still tried
        ("{{eq .n 1 .n}}", {"n": None}, "true"),
        # ... against a non-basic value (a slice): the same
        ("{{eq .n (list 1) .n}}", {"n": None}, "true"),
        # two times: equal to itself; an unequal one does not stop the search
        ("{{$t := " + _T2020 + "}}{{eq $t $t}}", None, "true"),
        ("{{$a := " + _T2020 + "}}{{$b := " + _T2021 + "}}{{eq $a $b}} {{eq $a $b $a}}", None, "false true"),
        # a time against a slice: not comparable
        ("{{eq now (list 1)}}", None, 'ERR template "t": line 1, column 3: incompatible types: eq'),
        # strings order by bytes, as Go: a raw 0xff byte sorts after U+10000 (F0 90 80 80)
        ("{{lt .a .b}} {{lt .b .a}}", {"a": b"\xff", "b": "\U00010000"}, "false true"),
        # a time is a struct: always true
        ("{{if now}}y{{else}}n{{end}}", None, "y"),
    ],
)
def test_comparisons_and_truth(source: str, data: Any, want: str) -> None:
    assert _out(source, data) == want


# --- the interpreter ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "want"),
    [
        # an error in the fields of a chain is placed at the chain
        ("ab{{(1).x}}", 'ERR template "t": line 1, column 6: wrong type: x'),
        # the command's arguments reach the chain's last field: a map key is no method
        ('ab{{(dict "a" 1).a 2}}', 'ERR template "t": line 1, column 6: not a function: a'),
        ('ab{{(dict "a" 1).a}}', "ab1"),
    ],
)
def test_chains(source: str, want: str) -> None:
    assert _out(source) == want


def test_a_template_call_gives_back_its_depth() -> None:
    # "r" recurses two levels (template + if) per element: 5 elements pass 10 levels, with or
    # without three calls of an empty template before it
    src = '{{define "a"}}{{end}}{{define "r"}}{{if .}}{{template "r" (rest .)}}{{end}}{{end}}'
    lim = Limits(max_depth=10)
    want = 'ERR template "t": line 1, column 55: depth limit'
    assert _out(src + '{{template "r" .l}}', {"l": [1] * 4}, limits=lim) == ""
    assert _out(src + '{{template "r" .l}}', {"l": [1] * 5}, limits=lim) == want
    assert _out(src + '{{template "a"}}' * 3 + '{{template "r" .l}}', {"l": [1] * 5}, limits=lim) == want


def test_python_recursion_is_a_depth_limit_at_the_running_node() -> None:
    # endless recursion with the depth limit out of the way: Python's own limit, placed at the call
    src = '{{define "r"}}{{template "r"}}{{end}}xx{{template "r"}}'
    assert _out(src, limits=Limits(max_depth=10**6)) == 'ERR template "t": line 1, column 26: depth limit'


def test_python_recursion_while_importing_the_data() -> None:
    # no node runs yet: placed at the start
    deep: Any = 1
    for _ in range(5000):
        deep = [deep]
    assert _out("x", {"a": deep}, limits=Limits(max_depth=10**6)) == (
        'ERR template "t": line 1, column 1: depth limit'
    )


# --- the parser: define ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "limits", "want"),
    [
        ("{{define 1}}{{end}}", Limits(), 'line 1, column 10: syntax: unexpected "1" in define clause'),
        (
            'x{{define "a"}}{{else}}{{end}}',
            Limits(),
            "line 1, column 11: syntax: unexpected {{else}} in define clause",
        ),
        (
            'x{{define "a"}}x{{end}}{{define "a"}}y{{end}}',
            Limits(),
            "line 1, column 33: syntax: multiple definition of template",
        ),
        # a define is one level of nesting, placed at its name, and given back at its end
        ('ab{{define "a"}}{{end}}', Limits(max_depth=0), "line 1, column 12: depth limit: nesting"),
        ('{{define "a"}}{{end}}{{if 1}}{{end}}', Limits(max_depth=1), ""),
        (
            '{{define "a"}}{{end}}{{if 1}}{{if 1}}{{end}}{{end}}',
            Limits(max_depth=1),
            "line 1, column 32: depth limit: nesting",
        ),
        # a template call's argument: errors name the template clause
        ('{{template "a" | }}', Limits(), 'line 1, column 16: syntax: unexpected "|" in template clause'),
    ],
)
def test_define_and_template_clauses(source: str, limits: Limits, want: str) -> None:
    got = _out(source, limits=limits)
    assert got == (f'ERR template "t": {want}' if want else "")


# --- value checks: a list's or map's own slots --------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "key", "least"),
    [
        # one step per call, plus one per 16 slots
        ("{{$x := list " + " 1" * 32 + "}}", "max_steps", 6),
        ("{{$x := list " + " 1" * 15 + "}}", "max_steps", 4),
        # 8 bytes plus 8 per slot, plus a map's key lengths
        ("{{$x := list 1 2 3}}", "max_value_bytes", 32),
        ('{{$x := dict "ab" 1 "cd" 2}}', "max_value_bytes", 28),
    ],
)
def test_the_cost_of_a_built_list_or_map(source: str, key: str, least: int) -> None:
    assert least_limit(source, key) == least


# --- bcrypt ------------------------------------------------------------------------------------------------


def test_bcrypt_accepts_exactly_72_bytes() -> None:
    out = r('{{$h := bcrypt (repeat 72 "a")}}{{len $h}} {{substr 0 7 $h}}')
    assert out == "60 $2a$10$"


def test_bcrypt_failing_in_libcrypt_is_a_function_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(raw: bytes) -> bytes:
        raise ValueError("libcrypt unavailable")

    monkeypatch.setattr(sprig_crypto, "bcrypt_hash", refuse)
    assert _out('ab{{bcrypt "x"}}') == 'ERR template "t": line 1, column 5: function failed: bcrypt'


# --- keys and certificates ---------------------------------------------------------------------------------


def test_an_rsa_key_has_4096_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    real = rsa.generate_private_key
    calls: list[tuple[int, int]] = []

    def spy(public_exponent: int, key_size: int) -> rsa.RSAPrivateKey:
        calls.append((public_exponent, key_size))
        return real(public_exponent, 1024)

    monkeypatch.setattr(rsa, "generate_private_key", spy)
    assert r('{{genPrivateKey "rsa" | substr 0 31}}') == "-----BEGIN RSA PRIVATE KEY-----"
    assert calls == [(65537, 4096)]


_CA = '{{$ca := genCAWithKey "ca" 1 .ec_key}}'


def test_extensions_criticality_as_go() -> None:
    cert = _cert(run(_CA + '{{(genSignedCertWithKey "x" nil (list "a.example") 1 $ca .ec_key).Cert}}'))
    crit = {e.oid.dotted_string: e.critical for e in cert.extensions}
    assert crit == {
        "2.5.29.15": True,  # key usage
        "2.5.29.37": False,  # extended key usage
        "2.5.29.19": True,  # basic constraints
        "2.5.29.35": False,  # authority key id
        "2.5.29.17": False,  # SANs, with a CN
    }
    ca = _cert(run(_CA + "{{$ca.Cert}}"))
    assert {e.oid.dotted_string: e.critical for e in ca.extensions}["2.5.29.14"] is False  # subject key id


@pytest.mark.parametrize(
    ("names", "ips", "want"),
    [
        ('(list "a.example")', "nil", [x509.DNSName("a.example")]),
        ("nil", '(list "10.0.0.1")', None),  # checked below: an IP only
        ("nil", "nil", []),
    ],
)
def test_sans_with_names_or_addresses(names: str, ips: str, want: Any) -> None:
    cert = _cert(run(_CA + f'{{{{(genSignedCertWithKey "x" {ips} {names} 1 $ca .ec_key).Cert}}}}'))
    try:
        sans = list(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        sans = []
    if want is None:
        assert [str(s.value) for s in sans] == ["10.0.0.1"]
    else:
        assert sans == want


def test_no_authority_key_id_when_issuer_is_subject() -> None:
    # Go: the parent's SubjectKeyId is copied only when the issuer and subject names differ
    cert = _cert(run(_CA + '{{(genSignedCertWithKey "ca" nil nil 1 $ca .ec_key).Cert}}'))
    assert "2.5.29.35" not in {e.oid.dotted_string for e in cert.extensions}


def test_a_signing_failure_in_the_backend_is_a_function_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    # e.g. OpenSSL refusing a key or digest (FIPS mode): no Python error text, a fixed kind
    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("backend refused")

    monkeypatch.setattr(x509.CertificateBuilder, "sign", refuse)
    assert _out('ab{{genSelfSignedCertWithKey "x" nil nil 1 .ec_key}}', F) == (
        'ERR template "t": line 1, column 5: function failed: genSelfSignedCertWithKey'
    )
